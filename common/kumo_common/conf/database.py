"""[database] options: where the SQL database is."""
from oslo_config import cfg

group = cfg.OptGroup('database', title='Database options')

opts = [
    cfg.StrOpt('connection', secret=True,
               default='sqlite:////var/lib/kumo/kumo.sqlite',
               help='SQLAlchemy URL of the database. SQLite (WAL mode) for the '
                    'all-in-one cloud; postgresql+psycopg2:// or mysql+pymysql:// for '
                    'real deployments.'),
    cfg.IntOpt('max_pool_size', default=10, min=1,
               help='Connections kept open per process (not used for SQLite).'),
    cfg.IntOpt('max_overflow', default=20, min=0,
               help='Extra connections allowed beyond max_pool_size under load.'),
    cfg.IntOpt('pool_timeout', default=30, min=1,
               help='Seconds to wait for a free pooled connection.'),
    cfg.BoolOpt('connection_debug', default=False,
                help='Log every SQL statement (very verbose).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
