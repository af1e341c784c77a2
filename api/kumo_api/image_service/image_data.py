"""Image data: PUT /v2/images/{id}/file (upload) and GET /v2/images/{id}/file
(download), as Glance v2.

An upload moves the image queued -> saving -> active with conditional updates: two
uploads to one image cannot both start, an image deleted while its data streams in
is not brought back, and a failed upload returns the image to queued.
"""
from __future__ import annotations

import os

from flask import Blueprint, Response, g, request
from oslo_log import log as logging

from kumo_api.image_service import errors, images, store
from kumo_common.db import images as image_db
from kumo_common.db import session

LOG = logging.getLogger(__name__)
bp = Blueprint('image_data', __name__)

_UPLOAD_TYPES = ('application/octet-stream',)


@bp.put('/v2/images/<image_id>/file')
def upload(image_id: str):
    if (request.mimetype or '').lower() not in _UPLOAD_TYPES:
        raise errors.UnsupportedMediaType(
            f'Content-Type {request.mimetype or "(none)"} is not supported; upload '
            f'application/octet-stream')
    with session.transaction() as s:
        image = images.load(s, image_id)
        images.authorize('upload_image', image.owner)
        missing = [k for k in ('disk_format', 'container_format') if not getattr(image, k)]
        if missing:
            raise errors.BadRequest(f'Properties {", ".join(missing)} must be set prior to '
                                    f'saving data.')
        status = image.status
        if not image_db.change_status(s, image_id, ('queued',), {'status': 'saving'}):
            raise errors.Conflict(f'Image status transition from {status} to saving is '
                                  f'not allowed')
    try:
        stored = store.write(image_id, request.stream, request.content_length)
    except store.TooLarge as exc:
        _back_to_queued(image_id)
        raise errors.RequestEntityTooLarge(
            'Image exceeds the storage quota: the upload is larger than the image size '
            'cap.') from exc
    except store.Incomplete as exc:
        _back_to_queued(image_id)
        raise errors.BadRequest('The upload ended before Content-Length bytes arrived.') \
            from exc
    except BaseException:
        _back_to_queued(image_id)
        raise
    with session.transaction() as s:
        done = image_db.change_status(
            s, image_id, ('saving',),
            {'status': 'active', 'size': stored.size, 'checksum': stored.checksum,
             'os_hash_algo': store.HASH_ALGO, 'os_hash_value': stored.os_hash_value,
             'virtual_size': None, 'location': stored.path})
    if not done:
        store.remove(stored.path)
        raise errors.ImageAPIError(f'Image {image_id} could not be found after upload. The '
                                   f'image may have been deleted during the upload.', 410)
    LOG.info('Image %s: %d bytes stored (md5 %s)', image_id, stored.size, stored.checksum)
    return '', 204


def _back_to_queued(image_id: str) -> None:
    with session.transaction() as s:
        image_db.change_status(s, image_id, ('saving',), {'status': 'queued'})


@bp.get('/v2/images/<image_id>/file')
def download(image_id: str):
    with session.reader() as s:
        image = images.load(s, image_id)
        images.authorize('download_image', image.owner)
        if image.status == 'deactivated' and not g.context.is_admin_role:
            raise errors.Forbidden('The requested image has been deactivated. Image data '
                                   'download is forbidden.')
        path = store.local_path(image.location) if image.status == 'active' else None
        checksum = image.checksum
    if path is None:
        # Glance's answer for an image without data.
        return '', 204
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise errors.NotFound(f'Image {image_id} has no data in the store.') from exc
    headers = {'Content-Length': str(size), 'Content-Type': 'application/octet-stream'}
    if checksum:
        headers['Content-MD5'] = checksum
    return Response(store.read(path), headers=headers, direct_passthrough=True)
