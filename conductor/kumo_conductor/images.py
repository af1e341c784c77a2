"""Image payloads the conductor puts into builds (the agent has no database).

Read through kumo_common.image: the local catalog's rows, or an external Glance
(with the request's token, the current context's when none is given)."""
from __future__ import annotations

from sqlalchemy import orm

from kumo_common import exceptions, objects
from kumo_common import image as image_api
from kumo_common.db import instances as instance_db
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


def boot_images(ctxt, instance_uuid: str) -> tuple[objects.ImageSpec | None,
                                                   objects.ImageSpec | None]:
    """(kernel, ramdisk) of an instance, read outside any transaction of the caller's:
    with an external Glance they are image API calls, never made holding locks."""
    with session.reader() as s:
        instance = instance_db.get_instance(s, instance_uuid)
        kernel_id, ramdisk_id = instance.kernel_id, instance.ramdisk_id
    return get_spec(ctxt, kernel_id), get_spec(ctxt, ramdisk_id)
