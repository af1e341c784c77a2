"""[image_service] options of Kumo's own image service (a Glance v2 subset)."""
from oslo_config import cfg

group = cfg.OptGroup('image_service', title='Kumo image service options')

opts = [
    cfg.HostAddressOpt('listen', default='127.0.0.1',
                       help='Address the image service listens on.'),
    cfg.PortOpt('listen_port', default=9292,
                help='Port the image service listens on (9292, where Glance clients '
                     'expect it).'),
    cfg.IntOpt('threads', default=8, min=1,
               help='Worker threads of the image service\'s WSGI server.'),
    cfg.StrOpt('store_path', sample_default='$state_path/images',
               help='Directory of the file store: image data uploaded through '
                    'PUT /v2/images/{id}/file, one file per image. Default: '
                    '$state_path/images.'),
    cfg.IntOpt('image_size_cap', default=1099511627776, min=1,
               help='Largest image upload accepted, in bytes (Glance\'s default, 1 TiB).'),
    cfg.IntOpt('limit_param_default', default=25, min=1,
               help='Images a list call returns when the client gives no limit '
                    '(Glance\'s default).'),
    cfg.IntOpt('api_limit_max', default=1000, min=1,
               help='Most images a list call returns, whatever limit is asked for '
                    '(Glance\'s default).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
