"""Views of the compute images proxy API (GET /images, up to 2.35)."""
from __future__ import annotations

from kumo_api.views import links, times
from kumo_common.db import images as image_db

_STATUS = {'active': 'ACTIVE', 'saving': 'SAVING', 'queued': 'SAVING',
           'killed': 'ERROR', 'deleted': 'DELETED', 'pending_delete': 'DELETED',
           'uploading': 'SAVING', 'importing': 'SAVING', 'deactivated': 'ERROR'}


def image_summary(image) -> dict:
    return {'id': image.id, 'name': image.name,
            'links': links.resource_links('images', image.id) + [_alternate(image.id)]}


def _alternate(image_id: str) -> dict:
    return {'href': f'http://127.0.0.1:9292/images/{image_id}', 'rel': 'alternate',
            'type': 'application/vnd.openstack.image'}


def image_detail(image) -> dict:
    props = image_db.properties(image)
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
        view['OS-DCF:diskConfig'] = 'AUTO' if props['auto_disk_config'].lower() == 'true' \
            else 'MANUAL'
    if 'instance_uuid' in props:
        view['server'] = {'id': props['instance_uuid'],
                          'links': links.resource_links('servers', props['instance_uuid'])}
    return view
