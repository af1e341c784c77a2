"""[network_service] options of Kumo's own network service (a Neutron v2.0 subset)."""
from oslo_config import cfg

group = cfg.OptGroup('network_service', title='Kumo network service options')

opts = [
    cfg.HostAddressOpt('listen', default='127.0.0.1',
                       help='Address the network service listens on.'),
    cfg.PortOpt('listen_port', default=9696,
                help='Port the network service listens on (9696, where Neutron clients '
                     'expect it).'),
    cfg.IntOpt('threads', default=8, min=1,
               help='Worker threads of the network service\'s WSGI server.'),
    cfg.IntOpt('pagination_max_limit', default=1000, min=1,
               help='Most items a list call returns in one page; a longer list gets a '
                    '"next" link (Neutron\'s <collection>_links).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
