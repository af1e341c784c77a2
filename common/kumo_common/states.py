"""The server state model, in one place: vm_state, task_state, power_state, and the
API status derived from them (Nova's values, spelled as Nova stores them).

API, conductor and compute agent all use these names; nothing else spells a state.
"""
from __future__ import annotations

# --- vm_state: the stable state of a server --------------------------------------
ACTIVE = 'active'
BUILDING = 'building'
PAUSED = 'paused'
SUSPENDED = 'suspended'
STOPPED = 'stopped'
RESCUED = 'rescued'
RESIZED = 'resized'
SOFT_DELETED = 'soft-delete'
DELETED = 'deleted'
ERROR = 'error'
SHELVED = 'shelved'
SHELVED_OFFLOADED = 'shelved_offloaded'

ALL_VM_STATES = (ACTIVE, BUILDING, PAUSED, SUSPENDED, STOPPED, RESCUED, RESIZED,
                 SOFT_DELETED, DELETED, ERROR, SHELVED, SHELVED_OFFLOADED)


class task:
    """task_state: what is happening to a server right now (None when idle)."""
    SCHEDULING = 'scheduling'
    BLOCK_DEVICE_MAPPING = 'block_device_mapping'
    NETWORKING = 'networking'
    SPAWNING = 'spawning'
    IMAGE_SNAPSHOT = 'image_snapshot'
    IMAGE_SNAPSHOT_PENDING = 'image_snapshot_pending'
    IMAGE_PENDING_UPLOAD = 'image_pending_upload'
    IMAGE_UPLOADING = 'image_uploading'
    IMAGE_BACKUP = 'image_backup'
    UPDATING_PASSWORD = 'updating_password'
    RESIZE_PREP = 'resize_prep'
    RESIZE_MIGRATING = 'resize_migrating'
    RESIZE_MIGRATED = 'resize_migrated'
    RESIZE_FINISH = 'resize_finish'
    RESIZE_REVERTING = 'resize_reverting'
    RESIZE_CONFIRMING = 'resize_confirming'
    REBOOTING = 'rebooting'
    REBOOT_PENDING = 'reboot_pending'
    REBOOT_STARTED = 'reboot_started'
    REBOOTING_HARD = 'rebooting_hard'
    REBOOT_PENDING_HARD = 'reboot_pending_hard'
    REBOOT_STARTED_HARD = 'reboot_started_hard'
    PAUSING = 'pausing'
    UNPAUSING = 'unpausing'
    SUSPENDING = 'suspending'
    RESUMING = 'resuming'
    POWERING_OFF = 'powering-off'
    POWERING_ON = 'powering-on'
    RESCUING = 'rescuing'
    UNRESCUING = 'unrescuing'
    REBUILDING = 'rebuilding'
    REBUILD_BLOCK_DEVICE_MAPPING = 'rebuild_block_device_mapping'
    REBUILD_SPAWNING = 'rebuild_spawning'
    MIGRATING = 'migrating'
    DELETING = 'deleting'
    SOFT_DELETING = 'soft-deleting'
    RESTORING = 'restoring'
    SHELVING = 'shelving'
    SHELVING_IMAGE_PENDING_UPLOAD = 'shelving_image_pending_upload'
    SHELVING_IMAGE_UPLOADING = 'shelving_image_uploading'
    SHELVING_OFFLOADING = 'shelving_offloading'
    UNSHELVING = 'unshelving'


class power:
    """power_state integers as the API shows them (OS-EXT-STS:power_state)."""
    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7

    ALL = (NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED)
    # Nova's name of each (its InstancePowerState), as server diagnostics and the
    # 409s that mention a power state show it.
    NAMES = {NOSTATE: 'pending', RUNNING: 'running', PAUSED: 'paused',
             SHUTDOWN: 'shutdown', CRASHED: 'crashed', SUSPENDED: 'suspended'}


_REBOOT = (task.REBOOTING, task.REBOOT_PENDING, task.REBOOT_STARTED)
_HARD_REBOOT = (task.REBOOTING_HARD, task.REBOOT_PENDING_HARD, task.REBOOT_STARTED_HARD)
_REBUILD = (task.REBUILDING, task.REBUILD_BLOCK_DEVICE_MAPPING, task.REBUILD_SPAWNING)
_RESIZE = (task.RESIZE_PREP, task.RESIZE_MIGRATING, task.RESIZE_MIGRATED,
           task.RESIZE_FINISH)

DEFAULT = 'default'

# vm_state -> {task_state or DEFAULT: API status}; reference/NOTES.md section a.
STATUS_MAP: dict[str, dict[str | None, str]] = {
    ACTIVE: {
        DEFAULT: 'ACTIVE',
        **{t: 'REBOOT' for t in _REBOOT},
        **{t: 'HARD_REBOOT' for t in _HARD_REBOOT},
        task.UPDATING_PASSWORD: 'PASSWORD',
        **{t: 'REBUILD' for t in _REBUILD},
        task.MIGRATING: 'MIGRATING',
        **{t: 'RESIZE' for t in _RESIZE},
    },
    BUILDING: {DEFAULT: 'BUILD'},
    STOPPED: {
        DEFAULT: 'SHUTOFF',
        **{t: 'RESIZE' for t in _RESIZE},
        **{t: 'REBUILD' for t in _REBUILD},
    },
    RESIZED: {DEFAULT: 'VERIFY_RESIZE', task.RESIZE_REVERTING: 'REVERT_RESIZE'},
    PAUSED: {DEFAULT: 'PAUSED', task.MIGRATING: 'MIGRATING'},
    SUSPENDED: {DEFAULT: 'SUSPENDED'},
    RESCUED: {DEFAULT: 'RESCUE'},
    ERROR: {DEFAULT: 'ERROR', **{t: 'REBUILD' for t in _REBUILD}},
    DELETED: {DEFAULT: 'DELETED'},
    SOFT_DELETED: {DEFAULT: 'SOFT_DELETED'},
    SHELVED: {DEFAULT: 'SHELVED'},
    SHELVED_OFFLOADED: {DEFAULT: 'SHELVED_OFFLOADED'},
}

ALL_STATUSES = sorted({s for entry in STATUS_MAP.values() for s in entry.values()}
                      | {'UNKNOWN', 'MIGRATING'})


def status_from_state(vm_state: str | None, task_state: str | None = None,
                      deleted: bool = False) -> str:
    """The API status of a server (Nova's mapping; unknown vm_state -> UNKNOWN)."""
    if deleted:
        return 'DELETED'
    entry = STATUS_MAP.get(vm_state or '')
    if entry is None:
        return 'UNKNOWN'
    return entry.get(task_state, entry[DEFAULT])


def states_from_status(status: str) -> tuple[list[str], list[str | None] | None]:
    """vm_states (and task_states, None meaning any) a status filter matches.

    Used by the list filter `status`: as Nova, a status that a vm_state shows by
    default matches every server in that vm_state whatever its task.
    """
    status = status.upper()
    vm_states: list[str] = []
    task_states: list[str | None] = []
    any_task = False
    for vm_state, entry in STATUS_MAP.items():
        for task_state, shown in entry.items():
            if shown != status:
                continue
            if vm_state not in vm_states:
                vm_states.append(vm_state)
            if task_state == DEFAULT:
                any_task = True
            else:
                task_states.append(task_state)
    return vm_states, (None if any_task else task_states)


# Progress is shown only in these statuses (views/servers.py in Nova).
PROGRESS_STATUSES = ('ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING')
# Fault is shown only in these statuses.
FAULT_STATUSES = ('ERROR', 'DELETED')
