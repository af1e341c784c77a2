"""What an image made from a server (createImage, createBackup) is recorded with,
whichever catalog records it: Nova's properties, the base image's inherited ones,
min_ram/min_disk. (The local catalog writes them as rows, kumo_common.db.snapshots;
an external Glance gets them in POST /v2/images, kumo_common.image.glance.)"""
from __future__ import annotations

from kumo_common.image.model import Image

DISK_FORMAT = 'qcow2'
CONTAINER_FORMAT = 'bare'
# Properties of the base image that describe the base, not the snapshot.
_NOT_INHERITED = ('instance_uuid', 'image_type', 'backup_type', 'base_image_ref',
                  'image_location', 'image_state', 'owner_project_name',
                  'owner_user_name')


def fields(name: str, *, instance_uuid: str, image_ref: str | None, project_id: str,
           user_id: str, root_gb: int, image_type: str, base: Image | None,
           extra: dict | None = None) -> dict:
    """The new image's attributes: name, visibility, owner, formats, min_ram,
    min_disk, and `properties` (the base image's own, as Nova's image_meta from
    system_metadata, then the snapshot's)."""
    properties = dict(base.properties) if base is not None else {}
    for inherited in _NOT_INHERITED:
        properties.pop(inherited, None)
    properties.update({
        'instance_uuid': instance_uuid, 'image_type': image_type,
        'base_image_ref': image_ref or '', 'user_id': user_id,
        'owner_id': project_id, 'image_location': 'snapshot',
        'image_state': 'available',
    })
    properties.update(extra or {})
    return {
        'name': name, 'visibility': 'private', 'owner': project_id,
        'disk_format': DISK_FORMAT, 'container_format': CONTAINER_FORMAT,
        'min_ram': (base.min_ram if base is not None else 0) or 0,
        'min_disk': max((base.min_disk if base is not None else 0) or 0, root_gb or 0),
        'properties': properties,
    }
