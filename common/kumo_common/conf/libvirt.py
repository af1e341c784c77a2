"""[libvirt] options of the libvirt virt driver."""
from oslo_config import cfg

group = cfg.OptGroup('libvirt', title='Libvirt driver options')

opts = [
    cfg.StrOpt('connection_uri', default='qemu:///system',
               help='libvirt URI the driver connects to.'),
    cfg.StrOpt('virt_type', default='kvm', choices=('kvm', 'qemu'),
               help='Domain type: "kvm" needs a working /dev/kvm; "qemu" is software '
                    'emulation (TCG), slower but works anywhere.'),
    cfg.FloatOpt('capacity_share', default=1.0, min=0.01, max=1.0,
                 help='Share of the machine (vCPUs, memory, disk of instances_path) '
                      'this agent reports as its capacity, for several agents on one '
                      'libvirtd, which would otherwise each report the whole machine. '
                      'Amounts are rounded down, so agents whose shares add up to 1 '
                      'together never report more than the machine has. kumo-all '
                      'sets 1/N for its N agents unless this is set below 1.'),
    cfg.IntOpt('wait_soft_reboot_seconds', default=120, min=0,
               help='Seconds a soft reboot waits for the guest to shut down before it '
                    'reboots it hard.'),
    cfg.StrOpt('live_migration_uri', default='qemu+tcp://%s/system',
               help='URI of the destination\'s libvirtd for a live migration, as '
                    'Nova\'s: "%s" stands for the destination host\'s name. The '
                    'source\'s libvirtd dials it (peer-to-peer migration) and so does '
                    'the source\'s agent, to read the guest the destination prepared.'),
    cfg.IntOpt('live_migration_bandwidth', default=0, min=0,
               help='Most MiB/s a live migration may use (memory and disk copy); 0 '
                    'lets libvirt choose (unlimited).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
