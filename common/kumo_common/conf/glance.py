"""[glance] options: where Kumo and its clients reach the image API."""
from oslo_config import cfg

group = cfg.OptGroup('glance', title='Image API (Glance v2) options')

opts = [
    cfg.URIOpt('endpoint', schemes=('http', 'https'),
               help='Root URL of the image API (Glance v2), e.g. '
                    'http://glance.example.org:9292. Unset (the default): Kumo\'s own '
                    'image service at http://[image_service]listen:listen_port, which '
                    'kumo-all then runs in-process. Set to another service\'s URL, '
                    'kumo-all does not start the local one. The compute API\'s image '
                    'links (rel "alternate") point here.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
