"""[conductor] options."""
from oslo_config import cfg

group = cfg.OptGroup('conductor', title='Conductor options')

opts = [
    cfg.StrOpt('topic', default='conductor',
               help='RPC topic the conductor listens on.'),
    cfg.IntOpt('executor_threads', default=16, min=1,
               help='Threads that handle RPC messages concurrently in the conductor.'),
    cfg.IntOpt('scheduling_timeout', default=180, min=1,
               help='Seconds a new server may stay in task_state scheduling/networking '
                    'before the reaper fails it (a lost message or a dead conductor).'),
    cfg.IntOpt('spawn_timeout', default=900, min=1,
               help='Seconds a compute agent has to build a server before the reaper '
                    'fails it. Generous: real guests copy images.'),
    cfg.IntOpt('action_timeout', default=300, min=1,
               help='Seconds a lifecycle action (stop, reboot, ...) may take before '
                    'the reaper ends it with a fault.'),
    cfg.IntOpt('delete_timeout', default=120, min=1,
               help='Seconds a delete may wait for its compute agent before the '
                    'reaper asks again, or completes it when the agent\'s service is '
                    'down.'),
    cfg.IntOpt('reaper_interval', default=10, min=1,
               help='Seconds between two runs of the deadline reaper.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
