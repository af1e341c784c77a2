"""Server actions as one table: from which states each is allowed, the task_state it
shows while running, and where it ends. API, conductor and agent all read it.

Rules follow Nova (reference/NOTES.md section g): unless stated, task_state must be
None and the server must have been launched.

The heavier actions (issue 7: changePassword, createImage, createBackup, rebuild,
resize, shelve, rescue...) are rows of the same table: they differ only in carrying
parameters to the driver (objects.ActionParams), in leaving some vm_states as they
were (done_vm_state None, keep_vm_states), and in the name their instance action is
recorded under (Nova's: 'createImage' for the method Nova calls 'snapshot').

The instance action events are Nova's names too, all of them here (the table's rows
and the constants below): a client reading os-instance-actions cannot tell Kumo from
Nova by them.
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
    # The instance action event the agent's work is recorded under: Nova's name, the
    # compute manager method that does it ('compute_stop_instance'), not the driver's.
    event_name: str = ''
    # Events by the vm_state the action starts from, where Nova's differ: unshelving
    # a SHELVED server only starts it (compute_start_instance).
    event_by_vm_state: tuple = ()
    # The event Nova's conductor records while it sends the action on (rebuild's
    # 'rebuild_server'); Kumo's API sends it: recorded there, ended at once.
    dispatch_event: str = ''

    @property
    def recorded_as(self) -> str:
        return self.instance_action or self.name

    @property
    def event(self) -> str:
        """The instance action event the agent's work is recorded under."""
        return self.event_name

    def event_for(self, vm_state: str | None) -> str:
        """The event of the action started from `vm_state`."""
        return dict(self.event_by_vm_state).get(vm_state, self.event_name)

    @property
    def task_states(self) -> tuple[str, ...]:
        """Every task_state the server shows while the action runs."""
        return (self.task_state, *self.step_task_states)

    def vm_state_after(self, vm_state: str | None) -> str | None:
        """The vm_state a server in `vm_state` has once the action succeeded."""
        if self.done_vm_state is None or vm_state in self.keep_vm_states:
            return vm_state
        return self.done_vm_state


# --- Instance action events outside the table, by Nova's names ---------------------------
# Nova names an event '<prefix>_<method>' after the manager method its
# wrap_instance_event decorates (so '_do_build_and_run_instance' gives two
# underscores), or as its conductor's EventReporter names it (no prefix).
BUILD_EVENT = 'compute__do_build_and_run_instance'
# Only when scheduling a create finds no host (Nova buries the server in cell0 then).
SCHEDULE_BUILD_EVENT = 'conductor_schedule_and_build_instances'
TERMINATE_EVENT = 'compute_terminate_instance'
# unshelve of an offloaded server: the conductor reads the shelve image, then
# schedules the server, before the host's compute_unshelve_instance.
UNSHELVE_IMAGE_EVENT = 'get_image_info'
UNSHELVE_SCHEDULE_EVENT = 'schedule_instances'
# resize: the conductor's migrate_server and the cold_migrate it reports within it,
# the destination's claim (compute_prep_resize), then each agent step's.
MIGRATE_SERVER_EVENT = 'conductor_migrate_server'
COLD_MIGRATE_EVENT = 'cold_migrate'
PREP_RESIZE_EVENT = 'compute_prep_resize'
RESIZE_EVENTS = {'resize_instance': 'compute_resize_instance',
                 'finish_resize': 'compute_finish_resize',
                 'confirm_resize': 'compute_confirm_resize',
                 'revert_resize': 'compute_revert_resize',
                 'finish_revert_resize': 'compute_finish_revert_resize'}
# trigger_crash_dump (2.17): no task_state and no state change, only its action and
# the host's event (an NMI sent to the guest, or Nova's reason why not).
CRASH_DUMP_ACTION = 'trigger_crash_dump'
CRASH_DUMP_EVENT = 'compute_trigger_crash_dump'
# evacuate: Nova's conductor reports its scheduling under rebuild's name.
EVACUATE_SCHEDULE_EVENT = 'rebuild_server'
# The conductor's own events: Nova's EventReporter gives them the conductor's host.
CONDUCTOR_EVENTS = frozenset({SCHEDULE_BUILD_EVENT, UNSHELVE_IMAGE_EVENT,
                              UNSHELVE_SCHEDULE_EVENT, MIGRATE_SERVER_EVENT,
                              COLD_MIGRATE_EVENT})


_HARD_REBOOT_TASKS = (None, task.REBOOTING, task.REBOOT_PENDING, task.REBOOT_STARTED,
                      task.REBOOTING_HARD, task.RESUMING, task.PAUSING, task.UNPAUSING,
                      task.SUSPENDING)

# createImage, createBackup and shelve: Nova's "active|stopped|paused|suspended".
_IMAGEABLE = (ACTIVE, STOPPED, PAUSED, SUSPENDED)

ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action('stop', (ACTIVE, ERROR), task.POWERING_OFF, STOPPED, power.SHUTDOWN, 'power_off',
           event_name='compute_stop_instance'),
    Action('start', (STOPPED,), task.POWERING_ON, ACTIVE, power.RUNNING, 'power_on',
           event_name='compute_start_instance'),
    Action('reboot', (ACTIVE,), task.REBOOTING, ACTIVE, power.RUNNING, 'reboot_soft',
           event_name='compute_reboot_instance'),
    Action('reboot_hard', (ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR), task.REBOOTING_HARD,
           ACTIVE, power.RUNNING, 'reboot_hard', allowed_task_states=_HARD_REBOOT_TASKS,
           event_name='compute_reboot_instance'),
    Action('pause', (ACTIVE,), task.PAUSING, PAUSED, power.PAUSED, 'pause',
           event_name='compute_pause_instance'),
    Action('unpause', (PAUSED,), task.UNPAUSING, ACTIVE, power.RUNNING, 'unpause',
           event_name='compute_unpause_instance'),
    Action('suspend', (ACTIVE,), task.SUSPENDING, SUSPENDED, power.SUSPENDED, 'suspend',
           event_name='compute_suspend_instance'),
    Action('resume', (SUSPENDED,), task.RESUMING, ACTIVE, power.RUNNING, 'resume',
           event_name='compute_resume_instance'),
    Action('soft_delete', (ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR), task.SOFT_DELETING,
           SOFT_DELETED, power.SHUTDOWN, 'power_off',
           event_name='compute_soft_delete_instance'),
    Action('restore', (SOFT_DELETED,), task.RESTORING, ACTIVE, power.RUNNING, 'power_on',
           event_name='compute_restore_instance'),
    # --- issue 7: the heavier actions ---
    Action('set_admin_password', (ACTIVE,), task.UPDATING_PASSWORD, ACTIVE, power.RUNNING,
           'set_admin_password', instance_action='changePassword', takes_params=True,
           event_name='compute_set_admin_password'),
    Action('snapshot', _IMAGEABLE, task.IMAGE_SNAPSHOT, None, power.RUNNING, 'snapshot',
           lock_checked=False, instance_action='createImage', takes_params=True,
           event_name='compute_snapshot_instance'),
    Action('backup', _IMAGEABLE, task.IMAGE_BACKUP, None, power.RUNNING, 'backup',
           lock_checked=False, instance_action='createBackup', takes_params=True,
           event_name='compute_backup_instance'),
    Action('rebuild', (ACTIVE, STOPPED, ERROR), task.REBUILDING, ACTIVE, power.RUNNING,
           'rebuild', keep_vm_states=(STOPPED,), takes_params=True,
           # Its old disk is gone by then: a failed rebuild is an ERROR, as Nova's.
           error_vm_state=ERROR, event_name='compute_rebuild_instance',
           dispatch_event='rebuild_server'),
    Action('resize', (ACTIVE, STOPPED), task.RESIZE_PREP, RESIZED, power.RUNNING,
           'resize', takes_params=True, event_name=MIGRATE_SERVER_EVENT),
    Action('confirm_resize', (RESIZED,), task.RESIZE_CONFIRMING, ACTIVE, power.RUNNING,
           'confirm_resize', instance_action='confirmResize',
           event_name=RESIZE_EVENTS['confirm_resize']),
    Action('revert_resize', (RESIZED,), task.RESIZE_REVERTING, ACTIVE, power.RUNNING,
           'revert_resize', instance_action='revertResize', takes_params=True,
           event_name=RESIZE_EVENTS['revert_resize']),
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
           event_name='compute_unshelve_instance',
           event_by_vm_state=((SHELVED, 'compute_start_instance'),)),
    # evacuate (admin, the server's host is down): the conductor schedules it and the
    # new host builds it from its image (kumo_conductor.evacuating); Nova does not
    # lock-check it. A STOPPED server (or any, from 2.95) ends STOPPED.
    Action('evacuate', (ACTIVE, STOPPED, ERROR), task.REBUILDING, ACTIVE, power.RUNNING,
           'evacuate', lock_checked=False, needs_host=False, keep_vm_states=(STOPPED,),
           takes_params=True,
           error_vm_state=ERROR, event_name='compute_rebuild_instance'),
    Action('rescue', (ACTIVE, STOPPED, ERROR), task.RESCUING, RESCUED, power.RUNNING,
           'rescue', takes_params=True, event_name='compute_rescue_instance'),
    Action('unrescue', (RESCUED,), task.UNRESCUING, ACTIVE, power.RUNNING, 'unrescue',
           event_name='compute_unrescue_instance'),
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
