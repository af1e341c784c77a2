"""Images as Glance v2 shows them: the base attributes (null when unknown), the
custom properties flat beside them, and the self/file/schema links."""
from __future__ import annotations

from kumo_api.views import times
from kumo_common.db import images as image_db
from kumo_common.db import models


def image_view(image: models.Image) -> dict:
    view = image_db.properties(image)
    view.update({
        'name': image.name,
        'disk_format': image.disk_format,
        'container_format': image.container_format,
        'visibility': image.visibility,
        'size': image.size,
        'virtual_size': image.virtual_size,
        'status': image.status,
        'checksum': image.checksum,
        'protected': bool(image.protected),
        'min_ram': image.min_ram or 0,
        'min_disk': image.min_disk or 0,
        'owner': image.owner,
        'os_hidden': bool(image.os_hidden),
        'os_hash_algo': image.os_hash_algo,
        'os_hash_value': image.os_hash_value,
        'id': image.id,
        'created_at': times.iso_z(image.created_at),
        'updated_at': times.iso_z(image.updated_at or image.created_at),
        'tags': image_db.tag_names(image),
        'self': f'/v2/images/{image.id}',
        'file': f'/v2/images/{image.id}/file',
        'schema': '/v2/schemas/image',
    })
    return view
