"""Image payloads the conductor puts into builds (the agent has no database)."""
from __future__ import annotations

from sqlalchemy import orm

from kumo_common import exceptions, objects
from kumo_common.db import images as image_db
from kumo_common.db import models


def spec_of(image: models.Image) -> objects.ImageSpec:
    return objects.ImageSpec(
        id=image.id, name=image.name or '', checksum=image.checksum,
        size=image.size or 0, disk_format=image.disk_format,
        container_format=image.container_format, min_ram=image.min_ram or 0,
        min_disk=image.min_disk or 0, properties=image_db.properties(image),
        location=image.location)


def boot_image(instance: models.Instance, image_id: str | None) -> objects.ImageSpec | None:
    """The kernel or ramdisk image an instance boots with (its image's kernel_id /
    ramdisk_id), read in the instance's own session; None if unset or unknown."""
    if not image_id:
        return None
    try:
        return spec_of(image_db.get(orm.object_session(instance), image_id))
    except exceptions.ImageNotFound:
        return None
