"""Images made from servers (createImage, createBackup): their catalog rows, written
in the same `images` table the compute images API and the image service read.

An image starts `saving` when the API accepts the request, with Nova's properties
(instance_uuid, image_type snapshot|backup, base_image_ref, user_id, owner_*...); the
conductor makes it `active` with the data the agent wrote, or deletes it when the
action failed (as Nova deletes a failed snapshot). A backup's rotation waits in the
server's system_metadata (one image action at a time per server: its task_state)
until the backup is active, then the oldest backups of that type beyond it go.
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from kumo_common.db import images as image_db
from kumo_common.db import models
from kumo_common.image import snapshot
from kumo_common.image.model import Image

CONF = cfg.CONF

SAVING = 'saving'
ROTATION_KEY = 'backup_rotation'
HASH_ALGO = 'sha512'   # the image service's os_hash_algo


def store_dir() -> str:
    """The image service's file store ([image_service] store_path)."""
    return CONF.image_service.store_path or os.path.join(CONF.state_path, 'images')


def file_for(image_id: str) -> str:
    return os.path.join(store_dir(), image_id)


def create(session: orm.Session, image_id: str, name: str, instance: models.Instance,
           user_id: str, image_type: str, base: Image | models.Image | None,
           extra: dict | None = None) -> models.Image:
    """The `saving` catalog row of a server's new image, with Nova's properties
    (kumo_common.image.snapshot.fields; `base` as kumo_common.image reads it, or
    its catalog row)."""
    if isinstance(base, models.Image):
        base = Image(id=base.id, min_ram=base.min_ram or 0, min_disk=base.min_disk or 0,
                     properties=image_db.properties(base))
    return create_from_fields(session, image_id, snapshot.fields(
        name, instance_uuid=instance.uuid, image_ref=instance.image_ref,
        project_id=instance.project_id, user_id=user_id,
        root_gb=(instance.flavor or {}).get('root_gb', 0) or 0, image_type=image_type,
        base=base, extra=extra))


def create_from_fields(session: orm.Session, image_id: str, fields: dict) -> models.Image:
    """The `saving` row of an image made from a server, from snapshot.fields()."""
    values = dict(fields)
    return image_db.create(session, image_id, values.pop('name'), status=SAVING,
                           **values)


def pending(session: orm.Session, instance_uuid: str) -> list[models.Image]:
    """The server's images still being written."""
    prop = models.ImageProperty
    return list(session.scalars(sa.select(models.Image).where(
        models.Image.status == SAVING,
        sa.exists().where(prop.image_id == models.Image.id, prop.name == 'instance_uuid',
                          prop.value == instance_uuid))))


def activate(session: orm.Session, image_id: str, size: int, checksum: str | None,
             os_hash_value: str | None, virtual_size: int | None,
             disk_format: str | None) -> bool:
    """The data is written: the image becomes usable (only if it is still saving)."""
    return image_db.change_status(session, image_id, (SAVING,), {
        'status': 'active', 'size': size, 'checksum': checksum,
        'os_hash_algo': HASH_ALGO if os_hash_value else None,
        'os_hash_value': os_hash_value, 'virtual_size': virtual_size,
        'disk_format': disk_format or 'qcow2', 'location': file_for(image_id)})


def backups(session: orm.Session, instance_uuid: str, backup_type: str) -> list[models.Image]:
    """The server's active backups of one type, newest first."""
    prop = models.ImageProperty

    def has(name: str, value: str):
        return sa.exists().where(prop.image_id == models.Image.id, prop.name == name,
                                 prop.value == value)

    return list(session.scalars(sa.select(models.Image).where(
        models.Image.status == 'active', has('instance_uuid', instance_uuid),
        has('image_type', 'backup'), has('backup_type', backup_type))
        .order_by(models.Image.created_at.desc(), models.Image.id.desc())))


def set_rotation(instance: models.Instance, backup_type: str, rotation: int) -> None:
    """Remember the rotation of the backup being made (read once it is active)."""
    for item in instance.system_metadata:
        if item.key == ROTATION_KEY:
            item.value = f'{rotation} {backup_type}'
            return
    instance.system_metadata.append(models.InstanceSystemMetadata(
        key=ROTATION_KEY, value=f'{rotation} {backup_type}'))


def take_rotation(session: orm.Session, instance_uuid: str) -> tuple[int, str] | None:
    """The rotation the last createBackup asked for (forgotten once read)."""
    row = session.scalars(sa.select(models.InstanceSystemMetadata).where(
        models.InstanceSystemMetadata.instance_uuid == instance_uuid,
        models.InstanceSystemMetadata.key == ROTATION_KEY)).first()
    if row is None or not row.value:
        return None
    session.delete(row)
    rotation, _, backup_type = row.value.partition(' ')
    return int(rotation), backup_type
