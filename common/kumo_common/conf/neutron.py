"""[neutron] options: where Kumo and its clients reach the network API."""
from oslo_config import cfg

group = cfg.OptGroup('neutron', title='Network API (Neutron v2.0) options')

opts = [
    cfg.URIOpt('endpoint', schemes=('http', 'https'),
               help='Root URL of the network API (Neutron v2.0), e.g. '
                    'http://neutron.example.org:9696. Unset (the default): Kumo\'s own '
                    'network service at http://[network_service]listen:listen_port, '
                    'which kumo-all then runs in-process. Set to another service\'s '
                    'URL, kumo-all does not start the local one.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
