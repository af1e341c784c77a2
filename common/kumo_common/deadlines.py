"""How long each task_state may last before the conductor's reaper steps in."""
from __future__ import annotations

import datetime

from oslo_config import cfg

from kumo_common.states import task

CONF = cfg.CONF

BUILD_STEPS = (task.SCHEDULING, task.NETWORKING, task.BLOCK_DEVICE_MAPPING)
DELETE_STEPS = (task.DELETING,)


def timeout_for(task_state: str) -> int:
    if task_state in BUILD_STEPS:
        return CONF.conductor.scheduling_timeout
    # An unshelve of an offloaded server spawns it (the image copied onto its new
    # host), and the image steps of a shelve write a whole disk; an evacuation's new
    # host builds the server from its image.
    if task_state in (task.SPAWNING, task.UNSHELVING, task.SHELVING_IMAGE_UPLOADING,
                      task.REBUILD_SPAWNING):
        return CONF.conductor.spawn_timeout
    if task_state in DELETE_STEPS:
        return CONF.conductor.delete_timeout
    if task_state == task.MIGRATING:
        return CONF.conductor.live_migration_timeout
    return CONF.conductor.action_timeout


def deadline_for(task_state: str | None) -> datetime.datetime | None:
    """The deadline of a task that starts now (None when the server is idle)."""
    if task_state is None:
        return None
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return now + datetime.timedelta(seconds=timeout_for(task_state))
