"""[libvirt] options of the libvirt virt driver."""
from oslo_config import cfg

group = cfg.OptGroup('libvirt', title='Libvirt driver options')

opts = [
    cfg.StrOpt('connection_uri', default='qemu:///system',
               help='libvirt URI the driver connects to.'),
    cfg.StrOpt('virt_type', default='kvm', choices=('kvm', 'qemu'),
               help='Domain type: "kvm" needs a working /dev/kvm; "qemu" is software '
                    'emulation (TCG), slower but works anywhere.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
