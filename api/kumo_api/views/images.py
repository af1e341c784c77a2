"""Views of the compute images proxy API (GET /images, up to 2.35)."""
from __future__ import annotations

from oslo_config import cfg

from kumo_api.views import links, times
from kumo_common import image as images

CONF = cfg.CONF

_STATUS = {'active': 'ACTIVE', 'saving': 'SAVING', 'queued': 'SAVING',
           'killed': 'ERROR', 'deleted': 'DELETED', 'pending_delete': 'DELETED',
           'uploading': 'SAVING', 'importing': 'SAVING', 'deactivated': 'ERROR'}


def image_summary(image) -> dict:
    return {'id': image.id, 'name': image.name,
            'links': links.resource_links('images', image.id) + [_alternate(image.id)]}


def _alternate(image_id: str) -> dict:
    # The image API's own link to the image ([glance] endpoint), as Nova gives it.
    return {'href': f'{image_endpoint()}/images/{image_id}', 'rel': 'alternate',
            'type': 'application/vnd.openstack.image'}


def image_endpoint() -> str:
    """Where clients reach the image API: [glance] endpoint, else Kumo's own image
    service at [image_service] listen:listen_port."""
    configured = images.endpoint()
    if configured:
        return configured
    return f'http://{CONF.image_service.listen}:{CONF.image_service.listen_port}'


def image_detail(image) -> dict:
    """`image`: a kumo_common.image.Image, from whichever catalog."""
    props = image.properties
    view = {
        'id': image.id,
        'name': image.name,
        'status': _STATUS.get(image.status, 'UNKNOWN'),
        'progress': 100 if image.status == 'active' else 25,
        'created': times.iso_z(image.created_at),
        'updated': times.iso_z(image.updated_at or image.created_at),
        'minDisk': image.min_disk or 0,
        'minRam': image.min_ram or 0,
        'metadata': props,
        'links': links.resource_links('images', image.id) + [_alternate(image.id)],
        'OS-EXT-IMG-SIZE:size': image.size or 0,
    }
    if 'auto_disk_config' in props:
        view['OS-DCF:diskConfig'] = 'AUTO' \
            if str(props['auto_disk_config']).lower() == 'true' \
            else 'MANUAL'
    if 'instance_uuid' in props:
        view['server'] = {'id': props['instance_uuid'],
                          'links': links.resource_links('servers', props['instance_uuid'])}
    return view
