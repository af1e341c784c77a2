"""Snapshots into an external Glance: the driver writes the image to a scratch file on
this node, and the agent uploads it (PUT /v2/images/{id}/file) before it reports.

The control plane says which: an ActionParams with a snapshot_id and a snapshot_path
is for the local catalog (the driver writes straight into the image store); with a
snapshot_id and no snapshot_path the image was created in the image API and waits
for its data (kumo_common.image.glance.GlanceImageAPI.create_snapshot).
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import image as image_api
from kumo_common import objects
from kumo_common.image import glance

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def needs_upload(params: objects.ActionParams | None) -> bool:
    return bool(params is not None and params.snapshot_id and not params.snapshot_path)


def _scratch_dir() -> str:
    path = os.path.join(CONF.state_path, 'snapshots')
    os.makedirs(path, mode=0o755, exist_ok=True)
    return path


def uploading(ctxt, call: Callable[..., objects.ActionResult | None]
              ) -> Callable[..., objects.ActionResult | None]:
    """`call` (a driver's snapshot-writing action, called as call(instance_uuid,
    params, ...)) made to write into a scratch file whose data is then uploaded."""
    def run(instance_uuid: str, params: objects.ActionParams, *args, **kwargs):
        endpoint = image_api.endpoint()
        if not endpoint:
            raise RuntimeError(f'Image {params.snapshot_id} is to be uploaded to the image '
                               'API, but this node has no [glance] endpoint')
        client = glance.GlanceClient(endpoint)
        scratch = tempfile.mkdtemp(prefix=f'{params.snapshot_id}.', dir=_scratch_dir())
        try:
            path = os.path.join(scratch, params.snapshot_id)
            result = call(instance_uuid, dataclasses.replace(params, snapshot_path=path),
                          *args, **kwargs)
            disk_format = (result.disk_format if result is not None else None) or 'qcow2'
            # The image was created qcow2; a driver that wrote another format says so
            # while the image is still queued (Glance fixes the format at upload).
            if disk_format != 'qcow2':
                client.update(ctxt, params.snapshot_id, {'disk_format': disk_format})
            size = os.path.getsize(path)
            LOG.info('Uploading image %s (%d bytes) to %s', params.snapshot_id, size,
                     client.endpoint)
            with open(path, 'rb') as data:
                client.upload(ctxt, params.snapshot_id, data, size)
            return result
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return run
