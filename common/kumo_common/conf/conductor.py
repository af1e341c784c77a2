"""[conductor] options."""
from oslo_config import cfg

group = cfg.OptGroup('conductor', title='Conductor options')

opts = [
    cfg.StrOpt('topic', default='conductor',
               help='RPC topic the conductor listens on.'),
    cfg.IntOpt('executor_threads', default=16, min=1,
               help='Threads that handle RPC messages concurrently in the conductor.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
