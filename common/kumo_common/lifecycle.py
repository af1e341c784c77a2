"""Server actions as one table: from which states each is allowed, the task_state it
shows while running, and where it ends. API, conductor and agent all read it.

Rules follow Nova (reference/NOTES.md section g): unless stated, task_state must be
None and the server must have been launched.
"""
from __future__ import annotations

from dataclasses import dataclass

from kumo_common.states import (
    ACTIVE,
    ERROR,
    PAUSED,
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
    done_vm_state: str             # vm_state once the agent reports success
    done_power_state: int          # power_state then (the agent's report wins)
    driver_call: str               # ComputeDriver method the agent calls
    allowed_task_states: tuple = (None,)
    needs_host: bool = True


_HARD_REBOOT_TASKS = (None, task.REBOOTING, task.REBOOT_PENDING, task.REBOOT_STARTED,
                      task.REBOOTING_HARD, task.RESUMING, task.PAUSING, task.UNPAUSING,
                      task.SUSPENDING)

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
)}


def get(name: str) -> Action:
    return ACTIONS[name]
