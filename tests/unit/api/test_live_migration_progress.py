"""How far a live migration's copy has got, as Nova shows it: the source agent asks
its hypervisor every [compute] live_migration_progress_interval seconds while the
copy runs (kumo_compute.migration_progress), the conductor writes the counters onto
the running migration (kumo_conductor.live_migrating.progress), and GET
/servers/{id}/migrations[/{id}] (2.23) shows them as memory_*_bytes and
disk_*_bytes. The fake hypervisor makes its counts up from the guest's flavor and
the time the copy has taken of [compute] fake_live_migration_delay
(kumo_compute.virt.fake); libvirt's job stats: tests/guest/test_live_migration_driver.py.
"""
from __future__ import annotations

import time

from kumo_common import context, objects
from kumo_common.db import server_migrations as migration_db
from kumo_common.db import session
from kumo_compute import migration_progress
from kumo_conductor.manager import ConductorManager
from tests.fixtures import cloud
from tests.unit.api.test_server_live_migrate import LiveMigrateCase
from tests.unit.api.test_server_resize import ADMIN

MIB, GIB = 1024 ** 2, 1024 ** 3
COUNTERS = ('memory_total', 'memory_processed', 'memory_remaining', 'disk_total',
            'disk_processed', 'disk_remaining')
SHOWN = tuple(f'{name}_bytes' for name in COUNTERS)


class TestLiveMigrationProgress(LiveMigrateCase):
    COMPUTES = 2

    def setUp(self):
        super().setUp()
        cloud.CONF.set_override('live_migration_progress_interval', 1, group='compute')
        self.addCleanup(cloud.CONF.clear_override, 'live_migration_progress_interval',
                        group='compute')

    def shown(self, migration_id: int, code: int = 200) -> dict:
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{self.server_id}/migrations/{migration_id}',
            token=ADMIN, version='2.23')
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json.get('migration', {})

    def shown_until(self, migration_id: int, done, timeout: float = 5) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            view = self.shown(migration_id)
            if done(view):
                return view
            self.assertLess(time.monotonic(), deadline, view)
            time.sleep(0.05)

    def reported(self) -> list[str]:
        """The server's copy, while the agent reports on it."""
        return [uuid for uuid in migration_progress.watched() if uuid == self.server_id]

    def test_counters_grow_while_the_guest_is_copied(self):
        self.delay_copies(5)
        self.live()
        migration = self.wait_migration('running')
        # Unknown until the source's first report.
        first = self.shown_until(migration.id,
                                 lambda view: view['memory_total_bytes'] is not None)
        self.assertEqual('running', first['status'])
        self.assertEqual([self.server_id], self.reported())
        for name in SHOWN:
            self.assertIsInstance(first[name], int, name)
        # m1.tiny: 512 MiB of memory, a 1 GiB root disk; what is copied and what is
        # left make the whole.
        self.assertEqual((512 * MIB, GIB),
                         (first['memory_total_bytes'], first['disk_total_bytes']))
        for what in ('memory', 'disk'):
            self.assertEqual(first[f'{what}_total_bytes'],
                             first[f'{what}_processed_bytes']
                             + first[f'{what}_remaining_bytes'])
        self.assertLess(first['memory_processed_bytes'], 512 * MIB)
        # A later report: more copied, less left.
        later = self.shown_until(
            migration.id,
            lambda view: view['status'] != 'running'
            or view['memory_processed_bytes'] > first['memory_processed_bytes'])
        self.assertEqual('running', later['status'])
        self.assertGreater(later['disk_processed_bytes'], first['disk_processed_bytes'])
        self.assertLess(later['memory_remaining_bytes'], first['memory_remaining_bytes'])
        # The list shows the same.
        resp = self.cloud.request('GET', f'/v2.1/servers/{self.server_id}/migrations',
                                  token=ADMIN, version='2.23')
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        [listed] = resp.json['migrations']
        for name in SHOWN:
            self.assertIsInstance(listed[name], int, name)

        self.wait_migration('completed', timeout=15)
        server = self.wait_idle('ACTIVE')
        self.assertNotEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        # The reports ended with the copy.
        self.assertEqual([], self.reported())
        # Done: no longer a migration in progress; /os-migrations shows it as ever,
        # without the counters (as Nova's).
        self.shown(migration.id, code=404)
        for version in ('2.1', '2.23', '2.80'):
            resp = self.cloud.request('GET', '/v2.1/os-migrations', token=ADMIN,
                                      version=version)
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            [row] = [m for m in resp.json['migrations'] if m['id'] == migration.id]
            self.assertEqual('completed', row['status'], version)
            self.assertFalse([key for key in row if key.endswith('_bytes')
                              or key in COUNTERS], version)

    def test_only_a_running_migration_takes_a_report(self):
        self.live()
        migration = self.wait_migration('completed')
        self.wait_idle('ACTIVE')
        with session.reader() as s:
            before = {name: getattr(migration_db.get(s, migration.uuid), name)
                      for name in COUNTERS}
        # A report that arrives after the copy ended (casts may overtake each other).
        ConductorManager().live_migration_progress(
            context.get_admin_context(), migration.uuid,
            objects.LiveMigrationProgress(memory_total=1, memory_processed=1,
                                          memory_remaining=0, disk_total=1,
                                          disk_processed=1, disk_remaining=0))
        with session.reader() as s:
            after = {name: getattr(migration_db.get(s, migration.uuid), name)
                     for name in COUNTERS}
        self.assertEqual(before, after)

    def test_the_reports_end_with_a_failed_copy(self):
        self.agent(self.source).driver.fail_next_live_migration = 'connection refused'
        self.live()
        migration = self.wait_migration('failed')
        self.assertEqual([], self.reported())
        # Nothing was reported: the counters stay unknown.
        with session.reader() as s:
            record = migration_db.get(s, migration.uuid)
            self.assertEqual([None] * 6, [getattr(record, name) for name in COUNTERS])
        self.wait_idle('ACTIVE')

    def test_a_driver_that_cannot_tell_does_not_stop_the_copy(self):
        driver = self.agent(self.source).driver
        asked = []

        def broken(instance_uuid):
            asked.append(instance_uuid)
            raise RuntimeError('the hypervisor would not say')

        driver.live_migration_progress = broken
        self.addCleanup(delattr, driver, 'live_migration_progress')
        self.delay_copies(2.5)
        self.live()
        migration = self.wait_migration('running')
        self.assertIsNone(self.shown(migration.id)['memory_total_bytes'])
        self.wait_migration('completed', timeout=15)
        self.wait_idle('ACTIVE')
        self.assertIn(self.server_id, asked)
        self.assertEqual([], self.reported())
        with session.reader() as s:
            record = migration_db.get(s, migration.uuid)
            self.assertEqual([None] * 6, [getattr(record, name) for name in COUNTERS])
