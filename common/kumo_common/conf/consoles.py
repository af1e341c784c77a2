"""[serial_console], [vnc] and [consoleauth]: remote consoles, with Nova's names.

The compute agent reads `enabled`, `port_range`, `proxyclient_address` and
`server_listen` / `server_proxyclient_address` when it lays a guest out and answers
for its console; the API reads the base URLs and `token_ttl` when it makes a console's
token; kumo-consoleproxy reads the proxy's listening address and port.
"""
from oslo_config import cfg

serial_group = cfg.OptGroup('serial_console', title='Serial console options')
vnc_group = cfg.OptGroup('vnc', title='VNC console options')
consoleauth_group = cfg.OptGroup('consoleauth', title='Console token options')

serial_opts = [
    cfg.BoolOpt('enabled', default=False,
                help='Give guests a serial console reachable over TCP (proxied by '
                     'kumo-consoleproxy at base_url) instead of a log file only; the '
                     'console log (os-getConsoleOutput) is kept either way. Guests '
                     'laid out before it was enabled have no such console.'),
    cfg.StrOpt('port_range', default='10000:20000', regex=r'^\d+:\d+$',
               help='TCP ports ("MIN:MAX") a guest\'s serial console may listen on, '
                    'on proxyclient_address of its compute host.'),
    cfg.URIOpt('base_url', default='ws://127.0.0.1:6083/',
               help='URL of the serial console proxy that clients are given (the '
                    'token is added as "?token=...").'),
    cfg.StrOpt('proxyclient_address', default='127.0.0.1',
               help='Address of the compute host the guests\' serial consoles '
                    'listen on and the proxy connects to.'),
    cfg.StrOpt('serialproxy_host', default='127.0.0.1',
               help='Address the serial console proxy listens on (Nova\'s default is '
                    '0.0.0.0; Kumo stays on loopback unless told).'),
    cfg.PortOpt('serialproxy_port', default=6083,
                help='Port the serial console proxy listens on.'),
]

vnc_opts = [
    # Nova's default is True; Kumo's guests are headless unless asked otherwise, so
    # they get a VNC server (and a video device) only when this is set.
    cfg.BoolOpt('enabled', default=False,
                help='Give guests a VNC console, proxied by kumo-consoleproxy for '
                     'noVNC at novncproxy_base_url.'),
    cfg.HostAddressOpt('server_listen', default='127.0.0.1',
                       help='Address the guests\' VNC servers listen on.'),
    cfg.HostAddressOpt('server_proxyclient_address', default='127.0.0.1',
                       help='Address of the compute host the proxy connects to for '
                            'its guests\' VNC servers.'),
    cfg.URIOpt('novncproxy_base_url', default='http://127.0.0.1:6080/vnc_auto.html',
               help='URL of the noVNC page clients are given (the token goes in its '
                    '"path" query parameter, as Nova\'s).'),
    cfg.StrOpt('novncproxy_host', default='127.0.0.1',
               help='Address the noVNC websocket proxy listens on (Nova\'s default '
                    'is 0.0.0.0).'),
    cfg.PortOpt('novncproxy_port', default=6080,
                help='Port the noVNC websocket proxy listens on.'),
]

consoleauth_opts = [
    cfg.IntOpt('token_ttl', default=600, min=0,
               help='Seconds a console URL\'s token stays valid.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    for group, opts in list_opts().items():
        conf.register_group(group)
        conf.register_opts(opts, group=group)


def list_opts():
    return {serial_group: serial_opts, vnc_group: vnc_opts,
            consoleauth_group: consoleauth_opts}
