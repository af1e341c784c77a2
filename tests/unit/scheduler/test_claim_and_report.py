"""The claim and the scheduling reports are written in one transaction: every report
of a placed request is stored (attempt numbers counting up per instance), and a
report that cannot be stored never undoes the placement."""
from __future__ import annotations

import sqlalchemy as sa

from kumo_common import context, exceptions
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import models, session
from kumo_common.db import scheduling as sched_db
from kumo_scheduler.manager import SchedulerManager
from tests.fixtures import database
from tests.unit.scheduler.test_filters import _ConfTestCase, _register_node, request_spec


class TestClaimWithReports(_ConfTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(database.Database('sqlite'))
        self.flags(service_down_time=60)
        self.flags(group='filter_scheduler', host_subset_size=1,
                   enabled_filters=['ComputeFilter', 'RamFilter'])
        self.ctxt = context.get_admin_context()
        _register_node('compute1', memory_mb=4096)
        _register_node('compute2', memory_mb=2048)

    def _reports(self, uuid):
        with session.reader() as s:
            return [(r.attempt, r.result, r.report['attempt'], r.report['instance_uuid'])
                    for r in sched_db.reports(s, uuid)]

    def _allocations(self):
        with session.reader() as s:
            return sorted(s.scalars(sa.select(models.Allocation.instance_uuid)))

    def test_every_report_of_a_request_is_stored_with_the_last_claim(self):
        spec = request_spec(memory_mb=1024, uuids=['i1', 'i2', 'i3'])
        selections = SchedulerManager().select_destinations(self.ctxt, spec)
        self.assertEqual(3, len(selections))
        for uuid in ('i1', 'i2', 'i3'):
            self.assertEqual([(1, 'placed', 1, uuid)], self._reports(uuid))
        # Scheduled again (a reschedule): the next attempt.
        with session.transaction() as s:
            node_db.free_allocations(s, 'i1')
        SchedulerManager().select_destinations(self.ctxt, request_spec(memory_mb=1024,
                                                                       uuids=['i1']))
        self.assertEqual([(1, 'placed', 1, 'i1'), (2, 'placed', 2, 'i1')],
                         self._reports('i1'))
        with session.reader() as s:
            [row] = [r for r in sched_db.reports(s, 'i1') if r.attempt == 2]
        self.assertEqual('compute1', row.report['selected']['host'])
        self.assertEqual(['resources claimed'], [c['reason'] for c in row.report['claims']])

    def test_a_report_that_cannot_be_stored_does_not_undo_the_claim(self):
        def broken(s, *_args, **_kwargs):
            # A statement that fails in the database, inside the claim's transaction.
            s.execute(sa.text('INSERT INTO no_such_table VALUES (1)'))

        self.patch(sched_db, 'save_reports', broken)
        [selection] = SchedulerManager().select_destinations(
            self.ctxt, request_spec(memory_mb=1024, uuids=['i1']))
        self.assertEqual('compute1', selection.service_host)
        self.assertEqual(['i1'], self._allocations())
        self.assertEqual([], self._reports('i1'))

    def test_no_valid_host_keeps_reports_and_releases_claims(self):
        spec = request_spec(memory_mb=2048, uuids=['i1', 'i2', 'i3', 'i4'])
        self.assertRaises(exceptions.NoValidHost, SchedulerManager().select_destinations,
                          self.ctxt, spec)
        self.assertEqual([], self._allocations())
        self.assertEqual([(1, 'released', 1, 'i1')], self._reports('i1'))
        self.assertEqual([(1, 'no_valid_host', 1, 'i4')], self._reports('i4'))
