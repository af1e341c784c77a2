"""The end of createImage / createBackup: the image becomes active with the data the
agent wrote (and a backup's rotation deletes the oldest of its kind), or, when the
action failed, the image and any partial file go (as Nova deletes a failed snapshot).
"""
from __future__ import annotations

import os

from oslo_log import log as logging

from kumo_common import objects
from kumo_common.db import images as image_db
from kumo_common.db import session
from kumo_common.db import snapshots as snapshot_db

LOG = logging.getLogger(__name__)


def _remove_file(location: str | None) -> None:
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


def finish(instance_uuid: str, success: bool, result: objects.ActionResult | None) -> None:
    doomed: list[str | None] = []
    with session.transaction() as s:
        rotation = snapshot_db.take_rotation(s, instance_uuid)
        pending = snapshot_db.pending(s, instance_uuid)
        done_id = result.image_id if (success and result is not None) else None
        for image in pending:
            if image.id == done_id:
                snapshot_db.activate(s, image.id, result.size, result.checksum,
                                     result.os_hash_value, result.virtual_size,
                                     result.disk_format)
                LOG.info('Image %s of instance %s is active (%d bytes)', image.id,
                         instance_uuid, result.size)
            else:
                LOG.warning('Image %s of instance %s was not made; deleting it', image.id,
                            instance_uuid)
                doomed.append(snapshot_db.file_for(image.id))
                image_db.delete(s, image)
        if done_id is not None and rotation is not None:
            count, backup_type = rotation
            for old in snapshot_db.backups(s, instance_uuid, backup_type)[count:]:
                LOG.info('Rotating out backup %s (%s) of instance %s', old.id, backup_type,
                         instance_uuid)
                doomed.append(old.location)
                image_db.delete(s, old)
    for location in doomed:
        _remove_file(location)
