"""[compute] options of the compute agent."""
from oslo_config import cfg

group = cfg.OptGroup('compute', title='Compute agent options')

opts = [
    cfg.StrOpt('virt_driver', default='fake', choices=('fake', 'libvirt'),
               help='Hypervisor driver: "libvirt" runs real guests, "fake" keeps them in '
                    'memory (scale tests, the all-in-one cloud without libvirtd).'),
    cfg.IntOpt('fake_vcpus', default=16, min=1,
               help='vCPUs the fake driver reports.'),
    cfg.IntOpt('fake_memory_mb', default=32768, min=1,
               help='Memory (MiB) the fake driver reports.'),
    cfg.IntOpt('fake_local_gb', default=1024, min=1,
               help='Disk (GiB) the fake driver reports.'),
    cfg.FloatOpt('fake_spawn_delay', default=0.0, min=0.0,
                 help='Seconds the fake driver pretends a spawn takes.'),
    cfg.FloatOpt('fake_live_migration_delay', default=0.0, min=0.0,
                 help='Seconds the fake driver pretends copying a guest in a live '
                      'migration takes (an abort or a force-complete ends it sooner).'),
    cfg.IntOpt('live_migration_progress_interval', default=5, min=1,
               help='Seconds between two reports of how far a live migration\'s copy '
                    'has got (memory and disk bytes, shown by GET '
                    '/servers/{id}/migrations), which the source agent asks its '
                    'hypervisor for while the copy runs.'),
    cfg.IntOpt('executor_threads', default=16, min=1,
               help='Threads that handle RPC messages concurrently in the agent.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
