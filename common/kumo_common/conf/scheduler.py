"""[scheduler] options: how the conductor uses the scheduler."""
from oslo_config import cfg

group = cfg.OptGroup('scheduler', title='Scheduler options')

opts = [
    cfg.StrOpt('topic', default='scheduler',
               help='RPC topic the scheduler listens on.'),
    cfg.IntOpt('max_attempts', default=3, min=1,
               help='Hosts a build may be tried on (the first plus alternates) before '
                    'the server goes to ERROR. Nova\'s default.'),
    cfg.IntOpt('rpc_timeout', default=60, min=1,
               help='Seconds the conductor waits for select_destinations.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
