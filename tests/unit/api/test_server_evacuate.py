"""evacuate with the fake driver: Nova's checks, words and order, its answers per
microversion, and the evacuation itself (the migration record, the instance action,
the claims, where the server runs and in which state). The source host's service is
forced down here (os-services' forced_down, as an operator marks a dead host); the
agent stopped for real, then restarted, is tests/unit/conductor/test_evacuate_stack.py.
"""
from __future__ import annotations

import time

import fixtures
import sqlalchemy as sa

from kumo_common.db import models, session
from kumo_common.db import server_migrations as migration_db
from tests.fixtures import cloud
from tests.unit.api.test_server_resize import ADMIN, ResizeCase


class EvacuateCase(ResizeCase):
    COMPUTES = 3

    def setUp(self):
        super().setUp()
        self.source = self.show()['OS-EXT-SRV-ATTR:host']

    def force_down(self, host: str, down: bool = True, disabled: bool | None = None):
        values = {'forced_down': down, 'updated_at': models.utcnow()}
        if disabled is not None:
            values['disabled'] = disabled
        with session.transaction() as s:
            s.execute(sa.update(models.Service).where(models.Service.host == host)
                      .values(**values))
        if down or disabled:
            self.addCleanup(self.force_down, host, False, False)

    def evacuate(self, body=None, code=200, version='2.94', token=ADMIN):
        return self.act({'evacuate': {} if body is None else body}, code, token=token,
                        version=version)

    def error(self, resp, kind='badRequest'):
        return resp.json[kind]['message']

    def others(self):
        return sorted({'compute1', 'compute2', 'compute3'} - {self.source})


class TestEvacuateChecks(EvacuateCase):
    """Every refusal, in Nova's order and words; none leaves a trace."""

    def assert_untouched(self):
        server = self.show()
        self.assertEqual(('ACTIVE', None, self.source),
                         (server['status'], server['OS-EXT-STS:task_state'],
                          server['OS-EXT-SRV-ATTR:host']))
        self.assertEqual([], [m.uuid for m in self._migrations()])
        self.assertNotIn('evacuate', [a['action'] for a in self.actions()])

    def _migrations(self):
        with session.reader() as s:
            return migration_db.for_instance(s, self.server_id)

    def test_policy_is_admin_only(self):
        self.force_down(self.source)
        resp = self.evacuate(code=403, token=self.token)
        self.assertEqual('Policy doesn\'t allow os_compute_api:os-evacuate to be '
                         'performed.', self.error(resp, 'forbidden'))
        self.assert_untouched()

    def test_the_source_service_must_be_down(self):
        resp = self.evacuate(code=400)
        self.assertEqual(f'Compute service of {self.source} is still in use.',
                         self.error(resp))
        self.assert_untouched()

    def test_target_host_must_exist_and_differ(self):
        self.force_down(self.source)
        resp = self.evacuate({'host': 'nowhere'}, 404)
        self.assertEqual('Compute host nowhere not found.', self.error(resp, 'itemNotFound'))
        resp = self.evacuate({'host': self.source}, 400)
        self.assertEqual("The target host can't be the same one.", self.error(resp))
        self.assert_untouched()

    def test_host_is_checked_before_the_state(self):
        # Nova's controller checks the host before its compute API checks the state.
        self.act({'pause': None})
        self.wait_idle('PAUSED')
        self.force_down(self.source)
        self.evacuate({'host': 'nowhere'}, 404)
        resp = self.evacuate(code=409)
        self.assertEqual(f"Cannot 'evacuate' instance {self.server_id} while it is in "
                         'vm_state paused', self.error(resp, 'conflictingRequest'))

    def test_state_is_checked_before_the_service(self):
        # A server with a task is refused (409) even when its host is up.
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == self.server_id).values(task_state='powering-off'))
        self.addCleanup(self._idle)
        resp = self.evacuate(code=409)
        self.assertEqual(f"Cannot 'evacuate' instance {self.server_id} while it is in "
                         'task_state powering-off', self.error(resp, 'conflictingRequest'))

    def _idle(self):
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == self.server_id).values(task_state=None))

    def test_request_schemas_per_microversion(self):
        self.force_down(self.source)
        bad = [
            ('2.1', {}),                                      # onSharedStorage required
            ('2.1', {'onSharedStorage': 'maybe'}),
            ('2.1', {'onSharedStorage': False, 'force': True}),
            ('2.13', {'onSharedStorage': False, 'host': 'bad host!'}),
            ('2.14', {'onSharedStorage': False}),             # gone at 2.14
            ('2.14', {'force': True, 'host': 'compute1'}),    # not yet
            ('2.29', {'force': 'sure', 'host': 'compute1'}),
            ('2.68', {'force': False}),                       # gone again at 2.68
            ('2.95', {'host': ''}),
            ('2.95', {'adminPass': 5}),
            ('2.95', {'other': 1}),
        ]
        for version, body in bad:
            resp = self.evacuate(body, 400, version=version)
            self.assertIn('Invalid input for field/attribute evacuate',
                          self.error(resp), (version, body))
        resp = self.evacuate({'force': True}, 400, version='2.29')
        self.assertEqual("Can't force to a non-provided destination", self.error(resp))
        resp = self.evacuate({'onSharedStorage': True, 'adminPass': 'pw'}, 400,
                             version='2.1')
        self.assertEqual("admin password can't be changed on existing disk",
                         self.error(resp))
        self.assert_untouched()

    def test_other_projects_do_not_see_the_server(self):
        self.force_down(self.source)
        self.evacuate(code=404, token=self.new_token())


class TestEvacuate(EvacuateCase):
    """The evacuation itself: rebuilt on another host from its image."""

    def test_active_server_ends_active_elsewhere_before_2_95(self):
        self.force_down(self.source)
        resp = self.evacuate(version='2.94')
        self.assertEqual(b'', resp.data)
        server = self.wait_idle('ACTIVE')
        dest = server['OS-EXT-SRV-ATTR:host']
        self.assertIn(dest, self.others())
        self.assertIn(self.server_id, self.agent(dest).driver.list_instances())
        self.assertEqual(cloud.IMAGE_ID, server['image']['id'])
        migration = self.migration()
        self.assertEqual(('evacuation', 'done', self.source, dest),
                         (migration.migration_type, migration.status,
                          migration.source_compute, migration.dest_compute))
        self.assertEqual({'rebuild_server': 'Success',
                          'compute_rebuild_instance': 'Success'}, self.events('evacuate'))
        # The new claim is the server's; the source's is the migration's until the
        # source agent comes back and cleans up.
        self.assertEqual({'server': [(dest, 512)], 'migration': [(self.source, 512)]},
                         self.claims())
        listed = self.cloud.request('GET', '/v2.1/os-migrations?migration_type=evacuation',
                                    token=ADMIN, version='2.59').json['migrations']
        mine = [m for m in listed if m['instance_uuid'] == self.server_id]
        self.assertEqual([('evacuation', 'done', self.source, dest)],
                         [(m['migration_type'], m['status'], m['source_compute'],
                           m['dest_compute']) for m in mine])

    def test_2_95_active_server_ends_stopped(self):
        self.force_down(self.source)
        self.evacuate(version='2.95')
        server = self.wait_idle('SHUTOFF')
        dest = server['OS-EXT-SRV-ATTR:host']
        self.assertNotEqual(self.source, dest)
        self.assertEqual(4, server['OS-EXT-STS:power_state'])
        self.assertEqual(4, self.agent(dest).driver.power_state(self.server_id))

    def test_stopped_server_stays_stopped_and_a_locked_one_may_go(self):
        self.act({'os-stop': None})
        self.wait_idle('SHUTOFF')
        self.act({'lock': None})
        self.force_down(self.source)
        other = self.others()[0]
        self.evacuate({'host': other}, version='2.29')
        server = self.wait_idle('SHUTOFF')
        self.assertEqual(other, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(other, self.migration().requested_host)

    def test_error_server_ends_active(self):
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == self.server_id).values(vm_state='error'))
        self.force_down(self.source)
        self.evacuate(version='2.94')
        server = self.wait_idle('ACTIVE')
        self.assertNotEqual(self.source, server['OS-EXT-SRV-ATTR:host'])

    def test_error_server_ends_active_at_2_95_too(self):
        # Nova's compute applies 2.95's target state to any server but one in ERROR.
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == self.server_id).values(vm_state='error'))
        self.force_down(self.source)
        self.evacuate(version='2.95')
        server = self.wait_idle('ACTIVE')
        self.assertNotEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(1, server['OS-EXT-STS:power_state'])

    def test_forced_host_skips_the_filters(self):
        other = self.others()[0]
        self.force_down(self.source)
        # Disabled: the filters refuse it, a forced host goes all the same (Nova 2.29).
        self.force_down(other, down=False, disabled=True)
        self.evacuate({'host': other}, version='2.29')
        self.assertEqual(self.source, self.wait_idle('ERROR')['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('error', self.migration().status)
        self.act({'os-resetState': {'state': 'active'}}, token=ADMIN)
        self.evacuate({'host': other, 'force': True}, version='2.29')
        self.assertEqual(other, self.wait_idle('ACTIVE')['OS-EXT-SRV-ATTR:host'])

    def test_admin_password_before_2_14_per_config(self):
        self.force_down(self.source)
        resp = self.evacuate({'onSharedStorage': False, 'adminPass': 'secret'},
                             version='2.13')
        self.assertEqual({'adminPass': 'secret'}, resp.json)
        self.wait_idle('ACTIVE')

    def test_no_admin_password_when_disabled(self):
        cloud.CONF.set_override('enable_instance_password', False, group='api')
        self.addCleanup(cloud.CONF.clear_override, 'enable_instance_password', group='api')
        self.force_down(self.source)
        resp = self.evacuate({'onSharedStorage': 'false'}, version='2.1')
        self.assertEqual(b'', resp.data)
        self.wait_idle('ACTIVE')

    def test_generated_password_before_2_14(self):
        self.force_down(self.source)
        resp = self.evacuate({'onSharedStorage': False}, version='2.13')
        self.assertEqual(['adminPass'], list(resp.json))
        self.assertTrue(resp.json['adminPass'])
        self.wait_idle('ACTIVE')

    def test_on_shared_storage_fails_as_nova_does_without_it(self):
        self.force_down(self.source)
        resp = self.evacuate({'onSharedStorage': True}, version='2.13')
        self.assertEqual({'adminPass': None}, resp.json)
        server = self.wait_idle('ERROR')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('Invalid state of instance files on shared storage',
                         server['fault']['message'])
        self.assertEqual('failed', self.migration().status)
        self.assertEqual({'server': [(self.source, 512)]}, self.claims())

    def test_no_valid_host_leaves_it_where_it_was_in_error(self):
        self.force_down(self.source)
        for other in self.others():
            self.force_down(other, down=False, disabled=True)
        self.evacuate()
        server = self.wait_idle('ERROR')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertTrue(server['fault']['message'].startswith('No valid host was found.'),
                        server['fault'])
        self.assertEqual('error', self.migration().status)
        self.assertEqual({'rebuild_server': 'Error'}, self.events('evacuate'))
        self.assertEqual({'server': [(self.source, 512)]}, self.claims())

    def test_failed_rebuild_leaves_it_in_error_on_its_source(self):
        self.force_down(self.source)
        other = self.others()[0]

        def broken(build):
            raise RuntimeError('disk on fire')
        agent = self.agent(other)
        original = agent.driver.spawn
        agent.driver.spawn = broken
        self.addCleanup(setattr, agent.driver, 'spawn', original)
        self.evacuate({'host': other}, version='2.29')
        server = self.wait_idle('ERROR')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(f'Evacuation to {other} failed: disk on fire',
                         server['fault']['message'])
        self.assertEqual('failed', self.migration().status)
        self.assertEqual({'rebuild_server': 'Success',
                          'compute_rebuild_instance': 'Error'}, self.events('evacuate'))
        self.assertEqual({'server': [(self.source, 512)]}, self.claims())
        self.assertNotIn(self.server_id, agent.driver.list_instances())

    def test_delete_after_evacuation_frees_both_claims(self):
        self.force_down(self.source)
        self.evacuate()
        self.wait_idle('ACTIVE')
        self.cloud.request('DELETE', f'/v2.1/servers/{self.server_id}', token=ADMIN)
        self.cloud.wait_for_status(self.server_id, 'DELETED')
        self.assertEqual({}, self.claims())



class TestEvacuateRecovery(EvacuateCase):
    """Nothing stays stuck: the conductor or the new host dying mid-evacuation is
    ended by the deadline reaper (kumo_conductor.reaper)."""

    def setUp(self):
        super().setUp()
        from kumo_common import context
        from kumo_conductor.manager import ConductorManager
        from kumo_conductor.reaper import Reaper
        self.reaper = Reaper(ConductorManager())
        self.ctxt = context.get_admin_context()
        self.force_down(self.source)
        self.dest = self.others()[0]

    def wait_task(self, task_state):
        deadline = time.monotonic() + 10
        while self.show()['OS-EXT-STS:task_state'] != task_state:
            self.assertLess(time.monotonic(), deadline, f'never {task_state}')
            time.sleep(0.02)

    def wait_for(self, found: list):
        deadline = time.monotonic() + 10
        while not found:
            self.assertLess(time.monotonic(), deadline, 'never sent')
            time.sleep(0.02)

    def assert_back_on_source_in_error(self, words):
        server = self.show()
        self.assertEqual(('ERROR', None, self.source),
                         (server['status'], server['OS-EXT-STS:task_state'],
                          server['OS-EXT-SRV-ATTR:host']))
        self.assertIn(words, server['fault']['message'])
        self.assertEqual('failed', self.migration().status)
        self.assertEqual({'server': [(self.source, 512)]}, self.claims())

    def test_conductor_lost_before_scheduling(self):
        dropped = []
        self.useFixture(fixtures.MockPatch('kumo_conductor.evacuating.evacuate_server',
                                           lambda *a, **k: dropped.append(a)))
        self.evacuate()
        self.wait_task('rebuilding')
        self.wait_for(dropped)
        self.assertEqual('accepted', self.migration().status)
        self.assertEqual(0, self.reaper.run_once(self.ctxt))   # not overdue yet
        self.overdue()
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.assert_back_on_source_in_error('Task rebuilding timed out')
        self.assertEqual({'rebuild_server': 'Error'}, self.events('evacuate'))

    def test_new_host_never_gets_the_rebuild(self):
        manager = self.agent(self.dest).manager
        dropped = []
        real = manager.perform_action

        def lossy(ctxt, instance_uuid, action, params=None):
            if action == 'evacuate':
                dropped.append(instance_uuid)
                return None
            return real(ctxt, instance_uuid, action, params)
        manager.perform_action = lossy
        self.addCleanup(delattr, manager, 'perform_action')
        self.evacuate({'host': self.dest})
        self.wait_task('rebuild_spawning')
        self.wait_for(dropped)
        self.assertEqual([self.server_id], dropped)
        self.assertEqual(('pre-migrating', self.dest),
                         (self.migration().status, self.show()['OS-EXT-SRV-ATTR:host']))
        self.overdue()
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.assert_back_on_source_in_error('the request never reached the host')
        self.assertEqual({'rebuild_server': 'Success', 'compute_rebuild_instance': 'Error'},
                         self.events('evacuate'))

    def test_lost_report_is_recovered(self):
        manager = self.agent(self.dest).manager
        real = manager.conductor
        dropped = []

        class DropReports:
            def __getattr__(self, name):
                return getattr(real, name)

            def action_finished(self, ctxt, instance_uuid, host, action, *args, **kw):
                dropped.append(action)

        manager.conductor = DropReports()
        self.addCleanup(setattr, manager, 'conductor', real)
        self.evacuate({'host': self.dest})
        self.wait_for(dropped)
        self.assertEqual('rebuild_spawning', self.show()['OS-EXT-STS:task_state'])
        self.overdue()
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        server = self.wait_idle('ACTIVE')
        self.assertEqual(self.dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('done', self.migration().status)
