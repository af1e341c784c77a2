"""os-migrateLive with the fake driver: Nova's checks, words and order, its answers per
microversion (synchronous refusals before 2.34), and the live migration itself (the
migration record and its statuses, the instance action's events, the claims, where
the guest runs and in which state), its rollback when the copy fails, an abort, and a
delete while the guest is being copied. The fake hypervisors of the in-process
cloud's agents hand the guest over as a real copy would (kumo_compute.virt.fake);
real guests under libvirt: tests/guest/test_live_migration_driver.py.
"""
from __future__ import annotations

import time

import sqlalchemy as sa

from kumo_common import context, states
from kumo_common.db import models, session
from kumo_common.db import server_migrations as migration_db
from kumo_common.rpcapi import compute as compute_rpcapi
from tests.fixtures import cloud
from tests.unit.api.test_server_resize import ADMIN, ResizeCase

task = states.task


class LiveMigrateCase(ResizeCase):
    COMPUTES = 3

    def setUp(self):
        super().setUp()
        self.source = self.show()['OS-EXT-SRV-ATTR:host']

    def live(self, host=None, block='auto', code=202, version='2.34', token=ADMIN,
             **extra):
        body = {'host': host, 'block_migration': block, **extra}
        return self.act({'os-migrateLive': body}, code, token=token, version=version)

    def error(self, resp, kind='badRequest'):
        return resp.json[kind]['message']

    def others(self):
        return sorted({'compute1', 'compute2', 'compute3'} - {self.source})

    def migrations(self):
        with session.reader() as s:
            return [m for m in migration_db.for_instance(s, self.server_id)
                    if m.migration_type == 'live-migration']

    def wait_migration(self, status, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            found = self.migrations()
            if found and found[-1].status == status:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f'migration is {found[-1].status if found else None}, '
                                     f'not {status}')
            time.sleep(0.01)

    def guests(self, host):
        return self.agent(host).driver.list_instances()

    def delay_copies(self, seconds):
        cloud.CONF.set_override('fake_live_migration_delay', seconds, group='compute')
        self.addCleanup(cloud.CONF.clear_override, 'fake_live_migration_delay',
                        group='compute')


class TestLiveMigrateChecks(LiveMigrateCase):
    """Every refusal, in Nova's order and words; none leaves a trace."""

    def assert_untouched(self, status='ACTIVE'):
        server = self.show()
        self.assertEqual((status, None, self.source),
                         (server['status'], server['OS-EXT-STS:task_state'],
                          server['OS-EXT-SRV-ATTR:host']))
        self.assertEqual([], self.migrations())
        self.assertNotIn('live-migration', [a['action'] for a in self.actions()])

    def test_policy_is_admin_only(self):
        resp = self.live(code=403, token=self.token)
        self.assertEqual("Policy doesn't allow os_compute_api:os-migrate-server:"
                         "migrate_live to be performed.", self.error(resp, 'forbidden'))
        resp = self.live(self.others()[0], code=403, token=self.token)
        self.assertEqual("Policy doesn't allow os_compute_api:os-migrate-server:"
                         "migrate_live:host to be performed.", self.error(resp, 'forbidden'))
        self.assert_untouched()

    def test_bodies_per_microversion(self):
        # 2.1: disk_over_commit required, no "auto".
        resp = self.live(block=False, code=400, version='2.24')
        self.assertIn("'disk_over_commit' is a required property", self.error(resp))
        self.live(code=400, version='2.24', disk_over_commit=False)
        # 2.25: disk_over_commit gone; host still required.
        self.live(block=False, code=400, version='2.25', disk_over_commit=False)
        resp = self.act({'os-migrateLive': {'block_migration': 'auto'}}, 400, token=ADMIN,
                        version='2.25')
        self.assertIn("'host' is a required property", self.error(resp))
        # force from 2.30 to 2.67 only, and never without a host.
        self.live(code=400, version='2.29', force=False)
        resp = self.live(code=400, version='2.30', force=True)
        self.assertEqual("Can't force to a non-provided destination", self.error(resp))
        self.live(self.others()[0], code=400, version='2.68', force=True)
        self.assert_untouched()

    def test_unknown_host_locked_and_stopped(self):
        resp = self.live('nowhere', code=400)
        self.assertEqual('Compute host nowhere could not be found.', self.error(resp))
        self.act({'lock': None}, token=ADMIN)
        resp = self.live('nowhere', code=409)
        self.assertEqual(f'Instance {self.server_id} is locked',
                         self.error(resp, 'conflictingRequest'))
        self.act({'unlock': None}, token=ADMIN)
        self.act({'os-stop': None})
        self.wait_idle('SHUTOFF')
        resp = self.live(code=409)
        self.assertEqual(f"Cannot 'os-migrateLive' instance {self.server_id} while it is "
                         'in vm_state stopped', self.error(resp, 'conflictingRequest'))
        self.assert_untouched('SHUTOFF')

    def test_before_2_34_the_conductor_refusal_is_a_400(self):
        resp = self.live(self.source, code=400, version='2.33')
        self.assertEqual(f'Unable to migrate instance ({self.server_id}) to current host '
                         f'({self.source}).', self.error(resp))
        server = self.wait_idle('ACTIVE')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(['error'], [m.status for m in self.migrations()])
        self.assertEqual({'conductor_live_migrate_instance': 'Error'},
                         self.events('live-migration'))
        self.assertEqual({'server': [(self.source, 512)]}, self.claims())

    def test_from_2_34_it_is_the_server_fault(self):
        self.live(self.source, version='2.34')
        self.wait_migration('error')
        server = self.wait_idle('ACTIVE')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual({'conductor_live_migrate_instance': 'Error'},
                         self.events('live-migration'))
        self.assertEqual({'server': [(self.source, 512)]}, self.claims())


class TestLiveMigrate(LiveMigrateCase):

    def test_to_the_host_the_scheduler_picks(self):
        self.live()
        migration = self.wait_migration('completed')
        server = self.wait_idle('ACTIVE')
        dest = server['OS-EXT-SRV-ATTR:host']
        self.assertIn(dest, self.others())
        self.assertEqual((self.source, dest, 'live-migration'),
                         (migration.source_compute, migration.dest_compute,
                          migration.migration_type))
        self.assertEqual(1, server['OS-EXT-STS:power_state'])
        # The guest left the source's hypervisor for the destination's.
        self.assertNotIn(self.server_id, self.guests(self.source))
        self.assertIn(self.server_id, self.guests(dest))
        # Only the server's claim, on the destination.
        self.assertEqual({'server': [(dest, 512)]}, self.claims())
        self.assertEqual({'conductor_live_migrate_instance': 'Success',
                          'compute_pre_live_migration': 'Success',
                          'compute_live_migration': 'Success',
                          'compute_post_live_migration_at_destination': 'Success'},
                         self.events('live-migration'))

    def test_a_paused_server_to_a_given_host_before_2_34(self):
        self.act({'pause': None})
        self.wait_idle('PAUSED')
        dest = self.others()[1]
        self.live(dest, block=False, version='2.24', disk_over_commit=False)
        server = self.wait_idle('PAUSED')
        self.assertEqual((dest, 3), (server['OS-EXT-SRV-ATTR:host'],
                                     server['OS-EXT-STS:power_state']))
        self.assertEqual('completed', self.migrations()[-1].status)

    def test_a_failed_copy_leaves_the_server_where_it_ran(self):
        self.agent(self.source).driver.fail_next_live_migration = 'connection refused'
        dest = self.others()[0]
        self.live(dest)
        self.wait_migration('failed')
        server = self.wait_idle('ACTIVE')
        self.assertEqual((self.source, 1), (server['OS-EXT-SRV-ATTR:host'],
                                            server['OS-EXT-STS:power_state']))
        self.assertIn(self.server_id, self.guests(self.source))
        self.assertNotIn(self.server_id, self.guests(dest))
        self.assertEqual({'server': [(self.source, 512)]}, self.claims())
        # The destination removes what it prepared (after the server is ACTIVE again).
        deadline = time.monotonic() + 5
        while self.events('live-migration').get(
                'compute_rollback_live_migration_at_destination') != 'Success':
            self.assertLess(time.monotonic(), deadline, self.events('live-migration'))
            time.sleep(0.01)
        self.assertNotIn(self.server_id, self.agent(dest).driver.incoming)
        self.assertEqual('Error', self.events('live-migration')['compute_live_migration'])

    def test_an_abort_while_copying(self):
        self.delay_copies(10)
        self.live()
        migration = self.wait_migration('running')
        self.assertEqual('MIGRATING', self.show()['status'])
        compute_rpcapi.ComputeAPI().live_migration_abort(
            context.get_admin_context(), self.source, self.server_id, migration.uuid)
        self.wait_migration('cancelled', timeout=5)
        server = self.wait_idle('ACTIVE')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertNotIn('fault', server)
        self.assertEqual({'server': [(self.source, 512)]}, self.claims())

    def test_a_delete_while_copying(self):
        self.delay_copies(10)
        self.live()
        migration = self.wait_migration('running')
        began = time.monotonic()
        self.cloud.request('DELETE', f'/v2.1/servers/{self.server_id}', token=ADMIN)
        self.cloud.wait_for_status(self.server_id, 'DELETED', timeout=8)
        self.assertLess(time.monotonic() - began, 8)   # the copy was aborted
        self.assertEqual({}, self.claims())
        for host in (migration.source_compute, migration.dest_compute):
            self.assertNotIn(self.server_id, self.guests(host))
        self.assertEqual('error', self.migrations()[-1].status)


class TestLiveMigrateOverdue(LiveMigrateCase):
    """A live migration past its deadline, as the reaper finds it."""

    def setUp(self):
        super().setUp()
        from kumo_conductor.manager import ConductorManager
        from kumo_conductor.reaper import Reaper
        self.reaper = Reaper(ConductorManager())
        self.ctxt = context.get_admin_context()

    def test_a_copy_still_running_is_aborted(self):
        self.delay_copies(10)
        self.live()
        self.wait_migration('running')
        self.overdue()
        began = time.monotonic()
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.wait_migration('cancelled', timeout=5)
        self.assertLess(time.monotonic() - began, 5)
        server = self.wait_idle('ACTIVE')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual({'server': [(self.source, 512)]}, self.claims())
        # (An ACTIVE server shows no fault: it is recorded all the same.)
        self.assertIn('timed out after', self._fault())

    def _fault(self):
        with session.reader() as s:
            fault = s.scalars(sa.select(models.InstanceFault).where(
                models.InstanceFault.instance_uuid == self.server_id)
                .order_by(models.InstanceFault.id.desc())).first()
            return fault.message if fault else ''

    def test_a_lost_report_is_recovered(self):
        dest = self.others()[0]
        manager = self.agent(dest).manager
        # The destination's report of its preparation is lost on the way.
        real_report = manager._report_step
        lost = []

        def report(ctxt, step, record):
            if step.step == 'pre_live_migration' and not lost:
                lost.append(step.step_id)
                return
            real_report(ctxt, step, record)
        manager._report_step = report
        self.addCleanup(delattr, manager, '_report_step')
        self.live(dest)
        deadline = time.monotonic() + 5
        while not lost:
            self.assertLess(time.monotonic(), deadline, 'the preparation never ran')
            time.sleep(0.01)
        self.assertEqual('preparing', self.migrations()[-1].status)
        self.overdue()
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.wait_migration('completed')
        server = self.wait_idle('ACTIVE')
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual({'server': [(dest, 512)]}, self.claims())
