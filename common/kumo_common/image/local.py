"""The local catalog: the image tables Kumo's own image service writes, read from the
database (the default, when there is no external Glance)."""
from __future__ import annotations

import os

from kumo_common import exceptions
from kumo_common.db import images as image_db
from kumo_common.db import models
from kumo_common.db import session as db_session
from kumo_common.db import snapshots as snapshot_db
from kumo_common.image import ImageAPI
from kumo_common.image.model import Image


def from_row(row: models.Image) -> Image:
    return Image(
        id=row.id, name=row.name, status=row.status, visibility=row.visibility,
        owner=row.owner, checksum=row.checksum, size=row.size,
        virtual_size=row.virtual_size, disk_format=row.disk_format,
        container_format=row.container_format, min_ram=row.min_ram or 0,
        min_disk=row.min_disk or 0, protected=bool(row.protected),
        created_at=row.created_at, updated_at=row.updated_at,
        properties=image_db.properties(row), location=row.location)


def _caller(ctxt) -> tuple[str | None, bool]:
    return (getattr(ctxt, 'project_id', None),
            bool(getattr(ctxt, 'is_admin_role', False)))


class LocalImageAPI(ImageAPI):
    external = False

    def get(self, ctxt, image_id: str, *, visible: bool = True, session=None) -> Image:
        def read(s) -> Image:
            if visible:
                project_id, is_admin = _caller(ctxt)
                return from_row(image_db.get_visible(s, image_id, project_id, is_admin))
            return from_row(image_db.get(s, image_id))

        if session is not None:
            return read(session)
        with db_session.reader() as s:
            return read(s)

    def list(self, ctxt) -> list[Image]:
        project_id, is_admin = _caller(ctxt)
        with db_session.reader() as s:
            return [from_row(row) for row in image_db.list_images(s, project_id, is_admin)]

    def create_snapshot(self, ctxt, image_id: str, fields: dict, *,
                        session=None) -> str | None:
        # The agent writes the data straight into the image service's file store.
        if session is not None:
            snapshot_db.create_from_fields(session, image_id, fields)
        else:
            with db_session.transaction() as s:
                snapshot_db.create_from_fields(s, image_id, fields)
        return snapshot_db.file_for(image_id)

    def delete(self, ctxt, image_id: str) -> None:
        with db_session.transaction() as s:
            try:
                row = image_db.get(s, image_id)
            except exceptions.ImageNotFound:
                return
            location = row.location
            image_db.delete(s, row)
        remove_stored_file(location)

    def set_properties(self, ctxt, image_id: str, properties: dict[str, str]) -> None:
        with db_session.transaction() as s:
            row = _modifiable(s, ctxt, image_id, 'modify')
            image_db.set_properties(s, row, properties)
            row.updated_at = models.utcnow()

    def delete_as_caller(self, ctxt, image_id: str) -> None:
        with db_session.transaction() as s:
            row = _modifiable(s, ctxt, image_id, 'delete')
            if row.protected:
                raise exceptions.Forbidden(f'Image {image_id} is protected and cannot be '
                                           'deleted.')
            location = row.location
            image_db.delete(s, row)
        remove_stored_file(location)

    def in_progress(self, ctxt, instance_uuid: str) -> list[str]:
        with db_session.reader() as s:
            return [image.id for image in snapshot_db.pending(s, instance_uuid)]


def _modifiable(s, ctxt, image_id: str, verb: str) -> models.Image:
    """The image, locked, if the caller may change it: Glance's defaults, as Kumo's
    image service applies them (the owner's project or an admin; an image without
    owner, `kumo-manage image import`, is for admins)."""
    project_id, is_admin = _caller(ctxt)
    row = image_db.get_visible(s, image_id, project_id, is_admin, for_update=True)
    if not is_admin and (row.owner is None or row.owner != project_id):
        raise exceptions.Forbidden(f'You are not authorized to {verb} image {image_id}.')
    return row


def remove_stored_file(location: str | None) -> None:
    """Delete an image's file if it is in the image store (never an imported file)."""
    if not location:
        return
    path = os.path.abspath(location)
    if os.path.dirname(path) != os.path.abspath(snapshot_db.store_dir()):
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
