"""The state model against reference/NOTES.md sections a and b, row by row."""
from __future__ import annotations

import testtools

from kumo_common import states
from kumo_common.states import task

# Task states that no row of the table names: each falls back to its vm_state's default.
_UNLISTED_TASKS = (None, task.SCHEDULING, task.NETWORKING, task.SPAWNING,
                   task.POWERING_OFF, task.POWERING_ON, task.DELETING, task.PAUSING,
                   task.IMAGE_SNAPSHOT, task.SHELVING)
_ALL_TASKS = tuple(v for k, v in vars(task).items() if k.isupper()) + (None,)

_REBOOT = ('rebooting', 'reboot_pending', 'reboot_started')
_HARD_REBOOT = ('rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard')
_REBUILD = ('rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning')
_RESIZE = ('resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish')

# NOTES.md section a, one entry per row: (vm_state, task_states, status), where the
# task states are the raw DB strings, 'default' the rows' "(default)" and 'any' "any".
TABLE = [
    ('active', 'default', 'ACTIVE'),
    ('active', _REBOOT, 'REBOOT'),
    ('active', _HARD_REBOOT, 'HARD_REBOOT'),
    ('active', ('updating_password',), 'PASSWORD'),
    ('active', _REBUILD, 'REBUILD'),
    ('active', ('migrating',), 'MIGRATING'),
    ('active', _RESIZE, 'RESIZE'),
    ('building', 'any', 'BUILD'),
    ('stopped', 'default', 'SHUTOFF'),
    ('stopped', _RESIZE, 'RESIZE'),
    ('stopped', _REBUILD, 'REBUILD'),
    ('resized', 'default', 'VERIFY_RESIZE'),
    ('resized', ('resize_confirming',), 'VERIFY_RESIZE'),
    ('resized', ('resize_reverting',), 'REVERT_RESIZE'),
    ('paused', 'default', 'PAUSED'),
    ('paused', ('migrating',), 'MIGRATING'),
    ('suspended', 'any', 'SUSPENDED'),
    ('rescued', 'any', 'RESCUE'),
    ('error', 'default', 'ERROR'),
    ('error', _REBUILD, 'REBUILD'),
    ('deleted', 'any', 'DELETED'),
    ('soft-delete', 'any', 'SOFT_DELETED'),
    ('shelved', 'any', 'SHELVED'),
    ('shelved_offloaded', 'any', 'SHELVED_OFFLOADED'),
]


class TestStatusTable(testtools.TestCase):

    def test_every_row(self):
        for vm_state, tasks, status in TABLE:
            if tasks == 'any':
                tasks = _ALL_TASKS
            elif tasks == 'default':
                tasks = _UNLISTED_TASKS
            for task_state in tasks:
                self.assertEqual(
                    status, states.status_from_state(vm_state, task_state),
                    f'({vm_state}, {task_state})')

    def test_table_covers_every_vm_state(self):
        self.assertEqual(set(states.ALL_VM_STATES), {row[0] for row in TABLE})

    def test_deleted_row_wins_over_states(self):
        for vm_state, _tasks, _status in TABLE:
            self.assertEqual('DELETED', states.status_from_state(
                vm_state, task.REBOOTING, deleted=True))

    def test_unknown_vm_state(self):
        self.assertEqual('UNKNOWN', states.status_from_state('no-such-state'))
        self.assertEqual('UNKNOWN', states.status_from_state(None, None))
        # Underscore spelling is not Nova's DB value for soft-delete.
        self.assertEqual('UNKNOWN', states.status_from_state('soft_delete'))

    def test_db_spellings(self):
        self.assertEqual('soft-delete', states.SOFT_DELETED)
        self.assertEqual('soft-deleting', task.SOFT_DELETING)
        self.assertEqual('powering-off', task.POWERING_OFF)
        self.assertEqual('powering-on', task.POWERING_ON)
        self.assertEqual('shelved_offloaded', states.SHELVED_OFFLOADED)
        self.assertEqual('rebooting_hard', task.REBOOTING_HARD)

    def test_the_twenty_statuses_of_servers_inc(self):
        self.assertEqual(
            ['ACTIVE', 'BUILD', 'DELETED', 'ERROR', 'HARD_REBOOT', 'MIGRATING', 'PASSWORD',
             'PAUSED', 'REBOOT', 'REBUILD', 'RESCUE', 'RESIZE', 'REVERT_RESIZE', 'SHELVED',
             'SHELVED_OFFLOADED', 'SHUTOFF', 'SOFT_DELETED', 'SUSPENDED', 'UNKNOWN',
             'VERIFY_RESIZE'],
            states.ALL_STATUSES)

    def test_progress_and_fault_statuses(self):
        # NOTES.md a, "View details".
        self.assertEqual({'ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE',
                          'MIGRATING'}, set(states.PROGRESS_STATUSES))
        self.assertEqual({'ERROR', 'DELETED'}, set(states.FAULT_STATUSES))


class TestPowerStates(testtools.TestCase):
    """NOTES.md section b: the integers, with 2 and 5 unused."""

    def test_values(self):
        self.assertEqual(0, states.power.NOSTATE)
        self.assertEqual(1, states.power.RUNNING)
        self.assertEqual(3, states.power.PAUSED)
        self.assertEqual(4, states.power.SHUTDOWN)
        self.assertEqual(6, states.power.CRASHED)
        self.assertEqual(7, states.power.SUSPENDED)
        self.assertEqual((0, 1, 3, 4, 6, 7), states.power.ALL)


class TestStatesFromStatus(testtools.TestCase):
    """The `status` list filter mapped back to vm_state (and task_state) lists."""

    def _states(self, status):
        vm_states, task_states = states.states_from_status(status)
        return set(vm_states), None if task_states is None else set(task_states)

    def test_default_statuses_match_any_task(self):
        # A status that is some vm_state's default matches that vm_state whatever the
        # task: status=ACTIVE also returns servers shown as REBOOT, as in Nova.
        for status, vm_state in (('ACTIVE', 'active'), ('BUILD', 'building'),
                                 ('SHUTOFF', 'stopped'), ('VERIFY_RESIZE', 'resized'),
                                 ('PAUSED', 'paused'), ('SUSPENDED', 'suspended'),
                                 ('RESCUE', 'rescued'), ('ERROR', 'error'),
                                 ('DELETED', 'deleted'), ('SOFT_DELETED', 'soft-delete'),
                                 ('SHELVED', 'shelved'),
                                 ('SHELVED_OFFLOADED', 'shelved_offloaded')):
            self.assertEqual(({vm_state}, None), self._states(status), status)

    def test_task_statuses(self):
        self.assertEqual(({'active'}, set(_REBOOT)), self._states('REBOOT'))
        self.assertEqual(({'active'}, set(_HARD_REBOOT)), self._states('HARD_REBOOT'))
        self.assertEqual(({'active'}, {'updating_password'}), self._states('PASSWORD'))
        self.assertEqual(({'active', 'stopped'}, set(_RESIZE)), self._states('RESIZE'))
        self.assertEqual(({'active', 'stopped', 'error'}, set(_REBUILD)),
                         self._states('REBUILD'))
        self.assertEqual(({'active', 'paused'}, {'migrating'}), self._states('MIGRATING'))
        self.assertEqual(({'resized'}, {'resize_reverting'}), self._states('REVERT_RESIZE'))

    def test_case_insensitive(self):
        self.assertEqual(self._states('ACTIVE'), self._states('active'))
        self.assertEqual(self._states('HARD_REBOOT'), self._states('hard_reboot'))

    def test_unknown_status_matches_nothing(self):
        vm_states, _tasks = states.states_from_status('NO_SUCH_STATUS')
        self.assertEqual([], vm_states)

    def test_inverse_of_status_from_state(self):
        # Every (vm_state, task_state) a status filter selects shows that status --
        # except through "default" statuses, which by design match every task.
        for vm_state, tasks, status in TABLE:
            if tasks in ('any', 'default'):
                continue
            vm_states, task_states = states.states_from_status(status)
            for task_state in tasks:
                self.assertIn(vm_state, vm_states)
                if task_states is not None:  # None: the status is a default (any task)
                    self.assertIn(task_state, task_states)
