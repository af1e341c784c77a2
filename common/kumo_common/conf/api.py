"""[api] options of the API service."""
from oslo_config import cfg

group = cfg.OptGroup('api', title='API options')

opts = [
    cfg.StrOpt('auth_strategy', default='noauth2', choices=('noauth2', 'keystone'),
               help='"noauth2": the token "<user>:<project>" authenticates that user '
                    '(user "admin" gets the admin role), for labs and tests. '
                    '"keystone": keystonemiddleware auth_token validates real tokens.'),
    cfg.HostAddressOpt('listen', default='127.0.0.1',
                       help='Address the compute API listens on.'),
    cfg.PortOpt('listen_port', default=8774,
                help='Port the compute API listens on (8774, where clients expect it).'),
    cfg.IntOpt('threads', default=16, min=1,
               help='Worker threads of the API\'s WSGI server.'),
    cfg.IntOpt('max_limit', default=1000, min=0,
               help='Largest number of items a list call returns in one page, and '
                    'the page size when the client gives no limit (Nova\'s default).'),
    cfg.StrOpt('compute_link_prefix',
               help='Base URL put into links instead of the request\'s host URL, for '
                    'an API behind a proxy.'),
    cfg.BoolOpt('enable_instance_password', default=True,
                help='Return the admin password in create and rebuild responses.'),
    cfg.IntOpt('max_request_body_size', default=114688, min=1,
               help='Largest request body accepted, in bytes (Nova\'s oslo.middleware '
                    'sizelimit default, 112 KiB). Larger bodies get 413 before they are '
                    'read: by Content-Length, or once a chunked body passes the limit.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
