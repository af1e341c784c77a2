"""[glance] options: where Kumo and its clients reach the image API, and how Kumo
authenticates to it when it is another service (a real Glance)."""
from oslo_config import cfg

from kumo_common.conf import keystoneauth

group = cfg.OptGroup('glance', title='Image API (Glance v2) options', help=(
    'With [glance] endpoint naming another service, the API, the conductor and the '
    'compute agents read images through the Glance v2 API (kumo_common.image). Each '
    'call carries the requesting user\'s token; with auth_type set (e.g. password, '
    'for a service user), a service token goes with it (X-Service-Token), and calls '
    'made without a user token (periodic work) authenticate as that user. A Glance '
    'without authentication (noauth) needs neither.'))

opts = [
    cfg.URIOpt('endpoint', schemes=('http', 'https'),
               help='Root URL of the image API (Glance v2), e.g. '
                    'http://glance.example.org:9292. Unset (the default): Kumo\'s own '
                    'image service at http://[image_service]listen:listen_port, which '
                    'kumo-all then runs in-process, and Kumo reads its catalog from '
                    'the database. Set to another service\'s URL: kumo-all does not '
                    'start the local one, and every image read, download and snapshot '
                    'upload goes through this URL\'s Glance v2 API. The compute API\'s '
                    'image links (rel "alternate") point here.'),
    cfg.BoolOpt('endpoint_from_catalog', default=False,
                help='With no [glance] endpoint: find the image API in the service '
                     'catalog of the [glance] service user (auth_type and its options '
                     'must be set), as Nova does: the endpoint of service type "image" '
                     'with catalog_interface in region_name. Read once per process. '
                     'An endpoint naming Kumo\'s own image service is the local '
                     'catalog, as with [glance] endpoint.'),
    cfg.StrOpt('catalog_interface', default='internal',
               choices=('public', 'internal', 'admin'),
               help='Which of the catalog\'s image endpoints endpoint_from_catalog uses.'),
    cfg.StrOpt('region_name',
               help='The catalog region endpoint_from_catalog looks in (default: any).'),
    cfg.IntOpt('num_retries', default=2, min=0,
               help='How often a GET to an external image API is tried again after a '
                    'connection error or a 5xx answer (uploads are not retried).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    # keystoneauth's options: kumo_common.conf.keystoneauth, registered on first use.


def list_opts():
    return {group: opts + keystoneauth.list_opts()}
