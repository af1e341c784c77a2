"""[neutron] options: where Kumo and its clients reach the network API, and how Kumo
authenticates to it when it is another service (a real Neutron)."""
from oslo_config import cfg

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
    # keystoneauth's options: see register_keystoneauth_opts.


def register_keystoneauth_opts(conf: cfg.ConfigOpts) -> None:
    """keystoneauth's session (cafile, insecure, timeout...) and auth plugin options.

    Registered by kumo_common.service_http before it makes this group's session, not
    with the other options: keystoneauth1 brings requests and urllib3 (some 6 MB in
    every process), and only a deployment with an external network API reads them."""
    from keystoneauth1 import loading as ks_loading
    ks_loading.register_session_conf_options(conf, group.name)
    ks_loading.register_auth_conf_options(conf, group.name)


def list_opts():
    from keystoneauth1 import loading as ks_loading
    return {group: (opts + ks_loading.get_session_conf_options()
                    + ks_loading.get_auth_common_conf_options()
                    + ks_loading.get_auth_plugin_conf_options('password'))}
