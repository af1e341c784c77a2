"""The end of createImage / createBackup: the image becomes active with the data the
agent wrote (and a backup's rotation deletes the oldest of its kind), or, when the
action failed, the image and any partial file go (as Nova deletes a failed snapshot).

With an external Glance the agent's upload made the image active already; what is
left here is the failed images' deletion and the rotation, through its API.
"""
from __future__ import annotations

from oslo_log import log as logging

from kumo_common import exceptions, objects
from kumo_common import image as image_api
from kumo_common.db import images as image_db
from kumo_common.db import session
from kumo_common.db import snapshots as snapshot_db
from kumo_common.image import local as local_images

LOG = logging.getLogger(__name__)


def finish(instance_uuid: str, success: bool, result: objects.ActionResult | None,
           ctxt=None) -> None:
    catalog = image_api.api()
    if catalog.external:
        try:
            _finish_external(catalog, ctxt, instance_uuid, success, result)
        except exceptions.KumoException:
            # The server's own outcome is recorded already; what is left over in the
            # image API is only said.
            LOG.exception('Could not tidy the images of instance %s in the image API',
                          instance_uuid)
        return
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
        local_images.remove_stored_file(location)


def _finish_external(catalog, ctxt, instance_uuid: str, success: bool,
                     result: objects.ActionResult | None) -> None:
    with session.transaction() as s:
        rotation = snapshot_db.take_rotation(s, instance_uuid)
    done_id = result.image_id if (success and result is not None) else None
    # The server's images still waiting for data: all of them when the action
    # failed, any but the one made when it did (a re-driven action's leftovers).
    for image in catalog.query(ctxt, {'instance_uuid': instance_uuid,
                                      'status': 'in:queued,saving,uploading'}):
        if image.id != done_id:
            LOG.warning('Image %s of instance %s was not made; deleting it', image.id,
                        instance_uuid)
            catalog.delete(ctxt, image.id)
    if done_id is None or rotation is None:
        return
    count, backup_type = rotation
    backups = catalog.query(ctxt, {'instance_uuid': instance_uuid, 'image_type': 'backup',
                                   'backup_type': backup_type, 'status': 'active',
                                   'sort_key': 'created_at', 'sort_dir': 'desc'})
    for old in backups[count:]:
        LOG.info('Rotating out backup %s (%s) of instance %s', old.id, backup_type,
                 instance_uuid)
        catalog.delete(ctxt, old.id)
