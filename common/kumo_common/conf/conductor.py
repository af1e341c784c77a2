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
                    'before the reaper schedules it again (a lost message or a dead '
                    'conductor; at most max_step_redrives times) or fails it. Keep it '
                    'above [scheduler] rpc_timeout.'),
    cfg.IntOpt('spawn_timeout', default=900, min=1,
               help='Seconds a compute agent has to build a server before the reaper '
                    'fails it; also the limit of an unshelve and of a shelve\'s image '
                    'upload step. Generous: real guests copy images.'),
    cfg.IntOpt('action_timeout', default=300, min=1,
               help='Seconds a lifecycle action (stop, reboot, ...) may take before '
                    'the reaper ends it with a fault.'),
    cfg.IntOpt('live_migration_timeout', default=800, min=1,
               help='Seconds a live migration may take (Nova\'s libvirt '
                    'live_migration_completion_timeout) before the reaper has its copy '
                    'aborted; the server then stays where it ran, with a fault.'),
    cfg.IntOpt('delete_timeout', default=120, min=1,
               help='Seconds a delete may wait for its compute agent before the '
                    'reaper asks again, or completes it when the agent\'s service is '
                    'down.'),
    cfg.IntOpt('reaper_interval', default=10, min=1,
               help='Seconds between two runs of the deadline reaper.'),
    cfg.IntOpt('max_step_redrives', default=2, min=0,
               help='Times the reaper starts the scheduling of one server again after '
                    'its step was lost (a conductor died, a message was dropped) before '
                    'it fails the build with a fault.'),
    cfg.BoolOpt('complete_deletes_on_dead_hosts', default=True,
                help='Complete an overdue delete in the database when the server\'s '
                     'compute service is down (its guest is destroyed when the agent '
                     'comes back: it is then unknown to the database). False: the delete '
                     'waits for the agent to return.'),
    cfg.IntOpt('agent_rpc_timeout', default=10, min=1,
               help='Seconds the conductor waits for a compute agent to answer an RPC '
                    'echo or the reaper\'s question about an instance.'),
    cfg.IntOpt('agent_probe_interval', default=30, min=0,
               help='Seconds between two RPC echoes of every compute agent by the '
                    'conductor; a failed echo marks the service down with its reason. '
                    '0 disables the probe (liveness is then the heartbeat alone).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
