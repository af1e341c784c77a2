"""Image payloads the conductor puts into builds (the agent has no database).

Read through kumo_common.image: the local catalog's rows, or an external Glance
(with the request's token, the current context's when none is given)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions, objects
from kumo_common import image as image_api
from kumo_common.db import models, session
from kumo_common.image import local


def spec_of(image: models.Image) -> objects.ImageSpec:
    """The payload of a local catalog row."""
    return local.from_row(image).spec()


def get_spec(ctxt, image_id: str | None, session=None) -> objects.ImageSpec | None:
    """The payload of an image from this deployment's catalog; None if unset or
    unknown (gone, or no longer readable)."""
    if not image_id:
        return None
    try:
        return image_api.api().get(ctxt, image_id, visible=False, session=session).spec()
    except (exceptions.ImageNotFound, exceptions.Forbidden):
        return None


def boot_image(instance: models.Instance, image_id: str | None,
               ctxt=None) -> objects.ImageSpec | None:
    """The kernel or ramdisk image an instance boots with (its image's kernel_id /
    ramdisk_id), read in the instance's own session; None if unset or unknown."""
    return get_spec(ctxt, image_id, session=orm.object_session(instance))


def boot_image_ids(s: orm.Session, instance_uuid: str) -> tuple[str | None, str | None]:
    """(kernel_id, ramdisk_id) of an instance: its two columns, one statement (not the
    instance with its metadata, system metadata and tags)."""
    inst = models.Instance
    row = s.execute(sa.select(inst.kernel_id, inst.ramdisk_id)
                    .where(inst.uuid == instance_uuid)).first()
    if row is None:
        raise exceptions.InstanceNotFound(instance_id=instance_uuid)
    return row.kernel_id, row.ramdisk_id


def boot_images(ctxt, instance_uuid: str, ids: tuple[str | None, str | None] | None = None
                ) -> tuple[objects.ImageSpec | None, objects.ImageSpec | None]:
    """(kernel, ramdisk) of an instance, read outside any transaction of the caller's:
    with an external Glance they are image API calls, never made holding locks.
    `ids`: its (kernel_id, ramdisk_id) if the caller read them already (no database
    read then, and none at all for the usual image without a kernel or ramdisk)."""
    if ids is None:
        with session.reader() as s:
            ids = boot_image_ids(s, instance_uuid)
    kernel_id, ramdisk_id = ids
    return get_spec(ctxt, kernel_id), get_spec(ctxt, ramdisk_id)
