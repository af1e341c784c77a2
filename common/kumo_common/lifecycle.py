"""Server actions as one table: from which states each is allowed, the task_state it
shows while running, and where it ends. API, conductor and agent all read it.

Rules follow Nova (reference/NOTES.md section g): unless stated, task_state must be
None and the server must have been launched.

The heavier actions (issue 7: changePassword, createImage, createBackup, rebuild,
resize, shelve, rescue...) are rows of the same table: they differ only in carrying
parameters to the driver (objects.ActionParams), in leaving some vm_states as they
were (done_vm_state None, keep_vm_states), and in the name their instance action is
recorded under (Nova's: 'createImage' for the method Nova calls 'snapshot').
"""
from __future__ import annotations

from dataclasses import dataclass

from kumo_common.states import (
    ACTIVE,
    ERROR,
    PAUSED,
    RESCUED,
    RESIZED,
    SHELVED,
    SHELVED_OFFLOADED,
    SOFT_DELETED,
    STOPPED,
    SUSPENDED,
    power,
    task,
)


@dataclass(frozen=True)
class Action:
    name: str                      # Nova's name in 409 messages ('stop', 'reboot', ...)
    allowed_vm_states: tuple[str, ...]
    task_state: str                # shown while the agent works
    done_vm_state: str | None      # vm_state once the agent reports success (None: as was)
    done_power_state: int          # power_state then (the agent's report wins)
    driver_call: str               # ComputeDriver method the agent calls
    allowed_task_states: tuple = (None,)
    needs_host: bool = True
    lock_checked: bool = True      # Nova does not lock-check createImage/createBackup
    keep_vm_states: tuple = ()     # vm_states left as they were (rebuild of a stopped one)
    instance_action: str = ''      # the os-instance-actions name, if not `name`
    takes_params: bool = False     # the driver call takes objects.ActionParams
    error_vm_state: str | None = None  # vm_state after a failure (None: as it was)
    # Further task_states the action moves through (the agent reports each step; the
    # reaper and the end of the action accept any of them): shelve's image steps.
    step_task_states: tuple = ()
    event_name: str = ''           # the instance action event, if not compute_<call>

    @property
    def recorded_as(self) -> str:
        return self.instance_action or self.name

    @property
    def event(self) -> str:
        """The instance action event the agent's work is recorded under."""
        return self.event_name or f'compute_{self.driver_call}'

    @property
    def task_states(self) -> tuple[str, ...]:
        """Every task_state the server shows while the action runs."""
        return (self.task_state, *self.step_task_states)

    def vm_state_after(self, vm_state: str | None) -> str | None:
        """The vm_state a server in `vm_state` has once the action succeeded."""
        if self.done_vm_state is None or vm_state in self.keep_vm_states:
            return vm_state
        return self.done_vm_state


_HARD_REBOOT_TASKS = (None, task.REBOOTING, task.REBOOT_PENDING, task.REBOOT_STARTED,
                      task.REBOOTING_HARD, task.RESUMING, task.PAUSING, task.UNPAUSING,
                      task.SUSPENDING)

# createImage, createBackup and shelve: Nova's "active|stopped|paused|suspended".
_IMAGEABLE = (ACTIVE, STOPPED, PAUSED, SUSPENDED)

ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action('stop', (ACTIVE, ERROR), task.POWERING_OFF, STOPPED, power.SHUTDOWN, 'power_off'),
    Action('start', (STOPPED,), task.POWERING_ON, ACTIVE, power.RUNNING, 'power_on'),
    Action('reboot', (ACTIVE,), task.REBOOTING, ACTIVE, power.RUNNING, 'reboot_soft'),
    Action('reboot_hard', (ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR), task.REBOOTING_HARD,
           ACTIVE, power.RUNNING, 'reboot_hard', allowed_task_states=_HARD_REBOOT_TASKS),
    Action('pause', (ACTIVE,), task.PAUSING, PAUSED, power.PAUSED, 'pause'),
    Action('unpause', (PAUSED,), task.UNPAUSING, ACTIVE, power.RUNNING, 'unpause'),
    Action('suspend', (ACTIVE,), task.SUSPENDING, SUSPENDED, power.SUSPENDED, 'suspend'),
    Action('resume', (SUSPENDED,), task.RESUMING, ACTIVE, power.RUNNING, 'resume'),
    Action('soft_delete', (ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR), task.SOFT_DELETING,
           SOFT_DELETED, power.SHUTDOWN, 'power_off'),
    Action('restore', (SOFT_DELETED,), task.RESTORING, ACTIVE, power.RUNNING, 'power_on'),
    # --- issue 7: the heavier actions ---
    Action('set_admin_password', (ACTIVE,), task.UPDATING_PASSWORD, ACTIVE, power.RUNNING,
           'set_admin_password', instance_action='changePassword', takes_params=True),
    Action('snapshot', _IMAGEABLE, task.IMAGE_SNAPSHOT, None, power.RUNNING, 'snapshot',
           lock_checked=False, instance_action='createImage', takes_params=True),
    Action('backup', _IMAGEABLE, task.IMAGE_BACKUP, None, power.RUNNING, 'backup',
           lock_checked=False, instance_action='createBackup', takes_params=True),
    Action('rebuild', (ACTIVE, STOPPED, ERROR), task.REBUILDING, ACTIVE, power.RUNNING,
           'rebuild', keep_vm_states=(STOPPED,), takes_params=True,
           # Its old disk is gone by then: a failed rebuild is an ERROR, as Nova's.
           error_vm_state=ERROR),
    Action('resize', (ACTIVE, STOPPED), task.RESIZE_PREP, RESIZED, power.RUNNING,
           'resize', takes_params=True),
    Action('confirm_resize', (RESIZED,), task.RESIZE_CONFIRMING, ACTIVE, power.RUNNING,
           'confirm_resize', instance_action='confirmResize'),
    Action('revert_resize', (RESIZED,), task.RESIZE_REVERTING, ACTIVE, power.RUNNING,
           'revert_resize', instance_action='revertResize', takes_params=True),
    # shelve: power off, the root disk into the "<name>-shelved" image and, with
    # shelved_offload_time 0, the offload too (kumo_conductor.shelving).
    Action('shelve', _IMAGEABLE, task.SHELVING, SHELVED, power.SHUTDOWN, 'shelve',
           takes_params=True, event_name='compute_shelve_instance',
           step_task_states=(task.SHELVING_IMAGE_PENDING_UPLOAD,
                             task.SHELVING_IMAGE_UPLOADING, task.SHELVING_OFFLOADING)),
    Action('shelve_offload', (SHELVED,), task.SHELVING_OFFLOADING, SHELVED_OFFLOADED,
           power.NOSTATE, 'shelve_offload', instance_action='shelveOffload',
           event_name='compute_shelve_offload_instance'),
    # From SHELVED the agent powers the guest on; from SHELVED_OFFLOADED the conductor
    # schedules it first and the agent spawns it from the shelve image.
    Action('unshelve', (SHELVED, SHELVED_OFFLOADED), task.UNSHELVING, ACTIVE, power.RUNNING,
           'unshelve', needs_host=False, takes_params=True,
           event_name='compute_unshelve_instance'),
    Action('rescue', (ACTIVE, STOPPED, ERROR), task.RESCUING, RESCUED, power.RUNNING,
           'rescue', takes_params=True),
    Action('unrescue', (RESCUED,), task.UNRESCUING, ACTIVE, power.RUNNING, 'unrescue'),
)}


def get(name: str) -> Action:
    return ACTIONS[name]


def owning(task_state: str | None) -> Action | None:
    """The action a server showing `task_state` is in (an action's own task_state
    first: shelving_offloading is shelveOffload's, and a step of shelve's)."""
    for action in ACTIONS.values():
        if action.task_state == task_state:
            return action
    for action in ACTIONS.values():
        if task_state in action.step_task_states:
            return action
    return None
