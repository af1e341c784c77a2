"""[neutron] options: where Kumo and its clients reach the network API, and how Kumo
authenticates to it when it is another service (a real Neutron)."""
from oslo_config import cfg

from kumo_common.conf import keystoneauth

group = cfg.OptGroup('neutron', title='Network API (Neutron v2.0) options', help=(
    'With [neutron] endpoint naming another service, the conductor creates, binds and '
    'deletes servers\' ports through the Neutron v2.0 API (kumo_common.network), with '
    'the requesting user\'s token; with auth_type set, a service token goes with it '
    '(X-Service-Token), and calls made without a user token authenticate as that '
    'service user.'))

opts = [
    cfg.URIOpt('endpoint', schemes=('http', 'https'),
               help='Root URL of the network API (Neutron v2.0), e.g. '
                    'http://neutron.example.org:9696. Unset (the default): Kumo\'s own '
                    'network service at http://[network_service]listen:listen_port, '
                    'which kumo-all then runs in-process. Set to another service\'s '
                    'URL, kumo-all does not start the local one.'),
    cfg.IntOpt('num_retries', default=2, min=0,
               help='How often a GET to an external network API is tried again after '
                    'a connection error or a 5xx answer.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    # keystoneauth's options: kumo_common.conf.keystoneauth, registered on first use.


def list_opts():
    return {group: opts + keystoneauth.list_opts()}
