"""A server's live migrations through the API: GET /servers/{id}/migrations[/{id}]
(2.23), force_complete (2.22) and DELETE (abort, 2.24; queued or preparing from
2.65), and the `links` /os-migrations gives them, as Nova's.

The field sets are those of Nova's samples (server-migrations/v2.23, v2.59, v2.80);
the words of each refusal are Nova's. Migration records are written straight into
the database (a server in task_state migrating with a live migration at the status
each test needs). The casts to the source are checked where they land: the source's
fake hypervisor copying the guest (kumo_compute.virt.fake), which an abort or a
force-complete ends. TestThroughTheConductor drives whole live migrations through
os-migrateLive and the conductor (kumo_conductor.live_migrating).
"""
from __future__ import annotations

import threading
import time
import uuid

import fixtures
import sqlalchemy as sa
from oslo_policy import policy as oslo_policy

from kumo_api import policy
from kumo_common import objects
from kumo_common.db import models, session
from kumo_common.db import server_migrations as migration_db
from kumo_compute.virt.driver import LiveMigrationAborted
from tests.fixtures import cloud
from tests.unit.api.test_server_resize import ADMIN, ResizeCase

COMMON = ['created_at', 'dest_compute', 'dest_host', 'dest_node', 'disk_processed_bytes',
          'disk_remaining_bytes', 'disk_total_bytes', 'id', 'memory_processed_bytes',
          'memory_remaining_bytes', 'memory_total_bytes', 'server_uuid', 'source_compute',
          'source_node', 'status', 'updated_at']
FIELDS = {'2.23': COMMON, '2.58': COMMON, '2.59': COMMON + ['uuid'],
          '2.79': COMMON + ['uuid'], '2.80': COMMON + ['uuid', 'user_id', 'project_id']}
PROGRESS = [f for f in COMMON if f.endswith('_bytes')]
TIME = r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$'


class LiveMigrationRows(ResizeCase):
    """A server (self.server_id, on self.source) and live migrations of it written
    into the database."""
    COMPUTES = 2

    def setUp(self):
        super().setUp()
        self.source = self.show()['OS-EXT-SRV-ATTR:host']
        self.dest = next(a.host for a in self.cloud.agents if a.host != self.source)
        # Undone before the server is deleted (cleanups run last first): no live
        # migration of it left for the delete to abort.
        self.addCleanup(self._settle)

    def _settle(self) -> None:
        m = models.Migration
        with session.transaction() as s:
            s.execute(sa.update(m).where(m.instance_uuid == self.server_id,
                                         m.status.in_(migration_db.LIVE_HELD))
                      .values(status=migration_db.FAILED))
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == self.server_id).values(task_state=None))

    def migrating(self, vm_state: str = 'active') -> None:
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == self.server_id).values(task_state='migrating',
                                                               vm_state=vm_state))

    def add(self, status: str, migration_type: str = 'live-migration',
            server_id: str | None = None) -> models.Migration:
        cn = models.ComputeNode
        with session.transaction() as s:
            nodes = {node.host: node for node in s.scalars(sa.select(cn))}
            source, dest = nodes[self.source], nodes[self.dest]
            row = models.Migration(
                uuid=str(uuid.uuid4()), instance_uuid=server_id or self.server_id,
                migration_type=migration_type, status=status,
                source_compute=source.host, source_node=source.hypervisor_hostname,
                source_node_uuid=source.uuid, dest_compute=dest.host,
                dest_node=dest.hypervisor_hostname, dest_node_uuid=dest.uuid,
                dest_host=dest.host, user_id='admin', project_id='admin', hidden=False,
                # (Set by every status change after the first: always, in progress.)
                updated_at=models.utcnow())
            s.add(row)
            s.flush()
            s.expunge(row)
        return row

    def call(self, method: str, path: str = '', version: str = '2.80', token: str = ADMIN,
             json=None, server_id: str | None = None):
        return self.cloud.request(method, f'/v2.1/servers/{server_id or self.server_id}'
                                          f'/migrations{path}', token=token,
                                  version=version, json=json)

    def answer(self, resp, code: int, fault: str | None = None):
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json[fault]['message'] if fault else resp.json

    def force_complete(self, migration_id, version='2.22', token=ADMIN,
                       body=None) -> object:
        return self.call('POST', f'/{migration_id}/action', version=version, token=token,
                         json={'force_complete': None} if body is None else body)

    def abort(self, migration_id, version='2.24', token=ADMIN):
        return self.call('DELETE', f'/{migration_id}', version=version, token=token)

    def status_of(self, row: models.Migration) -> str:
        with session.reader() as s:
            return migration_db.get(s, row.uuid).status

    def action_names(self) -> list[str]:
        return [a['action'] for a in self.actions()]

    def members_may(self, *actions: str) -> None:
        """Let project members use these rules (Nova lets managers; Kumo has none)."""
        enforcer = policy.get_enforcer()
        enforcer.load_rules()
        enforcer.set_rules(oslo_policy.Rules.from_dict(
            {f'os_compute_api:servers:migrations:{a}': 'rule:project_member_or_admin'
             for a in actions}), overwrite=False, use_conf=False)
        self.addCleanup(policy.reset)


class TestListAndShow(LiveMigrationRows):

    def test_only_live_migrations_in_progress_by_microversion(self):
        preparing, running = self.add('preparing'), self.add('running')
        post = self.add('post-migrating')
        for status in ('accepted', 'completed', 'failed', 'cancelled', 'error'):
            self.add(status)
        self.add('finished', migration_type='resize')
        self.migrating()
        with session.reader() as s:
            ip = s.scalars(sa.select(models.ComputeNode.host_ip).where(
                models.ComputeNode.host == self.dest)).one()
        for version, fields in FIELDS.items():
            items = self.answer(self.call('GET', version=version), 200)['migrations']
            self.assertEqual([preparing.id, running.id, post.id], [m['id'] for m in items])
            for item in items:
                self.assertEqual(sorted(fields), sorted(item), version)
                # The same view one by one.
                shown = self.answer(self.call('GET', f"/{item['id']}", version=version),
                                    200)
                self.assertEqual({'migration': item}, shown, version)
        item = self.answer(self.call('GET'), 200)['migrations'][1]
        self.assertEqual(
            {'server_uuid': self.server_id, 'status': 'running', 'uuid': running.uuid,
             'source_compute': self.source, 'source_node': self.source,
             'dest_compute': self.dest, 'dest_node': self.dest,
             # dest_host: the destination's IP address, as Nova's (its my_ip).
             'dest_host': ip, 'user_id': 'admin', 'project_id': 'admin',
             # Rows written here carry no progress: null, as Nova's when unknown.
             **{f: None for f in PROGRESS}},
            {k: item[k] for k in item if k not in ('id', 'created_at', 'updated_at')})
        self.assertRegex(item['created_at'], TIME)
        self.assertRegex(item['updated_at'], TIME)

    def test_not_found(self):
        other = self.boot('1')
        done, resize = self.add('completed'), self.add('finished', migration_type='resize')
        # (Another server's, finished: its delete has no live migration to abort.)
        elsewhere = self.add('completed', server_id=other)
        for missing in (str(elsewhere.id), '999999', 'abc', '99999999999999999999', '-1'):
            self.assertEqual(f'In-progress live migration {missing} is not found for '
                             f'server {self.server_id}.',
                             self.answer(self.call('GET', f'/{missing}'), 404,
                                         'itemNotFound'))
        self.assertEqual(f'Migration {resize.id} for server {self.server_id} is not '
                         'live-migration.',
                         self.answer(self.call('GET', f'/{resize.id}'), 404, 'itemNotFound'))
        self.assertEqual(f'Live migration {done.id} for server {self.server_id} is not in '
                         'progress.',
                         self.answer(self.call('GET', f'/{done.id}'), 404, 'itemNotFound'))
        # Before 2.23 there is no such resource.
        running = self.add('running')
        for path in ('', f'/{running.id}'):
            self.assertEqual('The resource could not be found.', self.answer(
                self.call('GET', path, version='2.22'), 404, 'itemNotFound'))
        # No server: a 404, for anyone (Nova looks the server up before its rule).
        gone = str(uuid.uuid4())
        for token in (ADMIN, self.token):
            for path in ('', f'/{running.id}'):
                self.assertEqual(f'Instance {gone} could not be found.', self.answer(
                    self.call('GET', path, token=token, server_id=gone), 404,
                    'itemNotFound'))

    def test_admins_only_by_default(self):
        running = self.add('running')
        self.migrating()
        calls = {'index': self.call('GET', token=self.token),
                 'show': self.call('GET', f'/{running.id}', token=self.token),
                 'force_complete': self.force_complete(running.id, token=self.token),
                 'delete': self.abort(running.id, token=self.token)}
        for rule, resp in calls.items():
            self.assertEqual(f"Policy doesn't allow os_compute_api:servers:migrations:"
                             f'{rule} to be performed.',
                             self.answer(resp, 403, 'forbidden'))
        self.assertEqual('running', self.status_of(running))
        self.assertNotIn('live_migration_cancel', self.action_names())

    def test_os_migrations_links_to_live_migrations_in_progress(self):
        running, done = self.add('running'), self.add('completed')
        resize = self.add('finished', migration_type='resize')
        for version in ('2.23', '2.80'):
            resp = self.cloud.request('GET', f'/v2.1/os-migrations?instance_uuid='
                                             f'{self.server_id}', token=ADMIN,
                                      version=version)
            items = {m['id']: m for m in self.answer(resp, 200)['migrations']}
            self.assertEqual(('live-migration', 'live-migration', 'resize'),
                             tuple(items[m.id]['migration_type']
                                   for m in (running, done, resize)))
            self.assertNotIn('links', items[done.id])
            self.assertNotIn('links', items[resize.id])
            self.assertEqual(
                [('self', f'http://localhost/v2.1/servers/{self.server_id}/migrations/'
                          f'{running.id}'),
                 ('bookmark', f'http://localhost/servers/{self.server_id}/migrations/'
                              f'{running.id}')],
                [(link['rel'], link['href']) for link in items[running.id]['links']])
        # Before 2.23: neither the type nor links.
        resp = self.cloud.request('GET', f'/v2.1/os-migrations?instance_uuid='
                                         f'{self.server_id}', token=ADMIN, version='2.22')
        for item in self.answer(resp, 200)['migrations']:
            self.assertFalse({'links', 'migration_type'} & set(item))


class TestRefusals(LiveMigrationRows):
    """Every refusal of force_complete and abort, in Nova's order and words; none
    records an action or tells an agent anything."""

    def assert_untouched(self, *rows: models.Migration, statuses=None):
        for row, status in zip(rows, statuses or [r.status for r in rows], strict=True):
            self.assertEqual(status, self.status_of(row))
        names = self.action_names()
        self.assertNotIn('live_migration_cancel', names)
        self.assertNotIn('live_migration_force_complete', names)

    def test_force_complete(self):
        running, preparing = self.add('running'), self.add('preparing')
        resize = self.add('finished', migration_type='resize')
        sid = self.server_id
        # The body first: one action, force_complete, whose value is null.
        for body, message in (({'force_complete': None, 'other': 1}, 'Malformed request body'),
                              ({'other': None}, 'There is no such action: other'),
                              ([], 'Malformed request body')):
            self.assertEqual(message, self.answer(self.force_complete(running.id, body=body),
                                                  400, 'badRequest'))
        self.assertIn("Invalid input for field/attribute force_complete", self.answer(
            self.force_complete(running.id, body={'force_complete': {}}), 400,
            'badRequest'))
        self.assertEqual('The resource could not be found.', self.answer(
            self.force_complete(running.id, version='2.21'), 404, 'itemNotFound'))
        # The server: migrating and ACTIVE.
        # (No task to name: Nova's other sentence.)
        self.assertEqual(f"Instance {sid} is in an invalid state for 'force_complete'",
                         self.answer(self.force_complete(running.id), 409,
                                     'conflictingRequest'))
        self.migrating('paused')
        self.assertEqual(f"Cannot 'force_complete' instance {sid} while it is in "
                         'vm_state paused', self.answer(self.force_complete(running.id),
                                                        409, 'conflictingRequest'))
        self.migrating()
        # The migration: the server's, and running (a 400 both, as Nova's).
        for missing in ('999999', 'abc'):
            self.assertEqual(f'Migration {missing} not found for instance {sid}',
                             self.answer(self.force_complete(missing), 400, 'badRequest'))
        for row in (preparing, resize):
            self.assertEqual(f'Migration {row.id} state of instance {sid} is {row.status}. '
                             'Cannot force complete while the migration is in this state.',
                             self.answer(self.force_complete(row.id), 400, 'badRequest'))
        self.assert_untouched(running, preparing)

    def test_abort(self):
        queued, preparing = self.add('queued'), self.add('preparing')
        done = self.add('completed')
        sid = self.server_id
        self.assertEqual('The resource could not be found.', self.answer(
            self.abort(queued.id, version='2.23'), 404, 'itemNotFound'))
        # The server: migrating (whatever its vm_state).
        self.assertEqual(f"Instance {sid} is in an invalid state for 'abort live "
                         "migration'", self.answer(self.abort(queued.id), 409,
                                                   'conflictingRequest'))
        self.migrating('paused')
        # The migration: the server's (a 404 here), and abortable at that version.
        for missing in ('999999', 'abc'):
            self.assertEqual(f'Migration {missing} not found for instance {sid}',
                             self.answer(self.abort(missing), 404, 'itemNotFound'))
        for row, version in ((queued, '2.24'), (preparing, '2.64'), (done, '2.65')):
            self.assertEqual(f'Migration {row.id} state of instance {sid} is {row.status}. '
                             'Cannot abort live migration while the migration is in this '
                             'state.', self.answer(self.abort(row.id, version), 400,
                                                   'badRequest'))
        self.assert_untouched(queued, preparing, done)

    def test_a_locked_server(self):
        running = self.add('running')
        self.migrating()
        self.act({'lock': None})
        self.members_may('force_complete', 'delete')
        self.assertEqual(f'Instance {self.server_id} is locked', self.answer(
            self.force_complete(running.id, token=self.token), 409, 'conflictingRequest'))
        self.assertEqual(f"Instance {self.server_id} is in an invalid state for 'abort live "
                         "migration'", self.answer(self.abort(running.id, token=self.token),
                                                   409, 'conflictingRequest'))
        self.assert_untouched(running)
        # A lock does not stop an admin (who gets to the next check).
        preparing = self.add('preparing')
        self.assertIn('Cannot force complete', self.answer(
            self.force_complete(preparing.id), 400, 'badRequest'))


class TestAbortBeforeTheCopy(LiveMigrationRows):
    """From 2.65 a migration not yet running is marked cancelled (the conductor rolls
    it back when the destination's preparation reports)."""

    def test_queued_or_preparing_is_cancelled(self):
        self.migrating()
        for status in ('queued', 'preparing'):
            row = self.add(status)
            self.assertEqual(b'', self.abort(row.id, version='2.65').data)
            self.assertEqual('cancelled', self.status_of(row))
            # No longer in progress: gone from the list, and not to be aborted again.
            self.assertEqual([], self.answer(self.call('GET'), 200)['migrations'])
            self.assertIn('is cancelled. Cannot abort live migration', self.answer(
                self.abort(row.id, version='2.65'), 400, 'badRequest'))
        self.assertEqual(['live_migration_cancel'] * 2,
                         [n for n in self.action_names() if n != 'create'])


class CopyingCase(LiveMigrationRows):
    """The source's fake hypervisor copying the guest to self.dest, as the source's
    live_migration step does, for up to a minute unless told to end."""

    def start_copy(self, row: models.Migration) -> list[str]:
        cloud.CONF.set_override('fake_live_migration_delay', 60, group='compute')
        self.addCleanup(cloud.CONF.clear_override, 'fake_live_migration_delay',
                        group='compute')
        driver = self.agent(self.source).driver
        step = objects.MigrationStep(
            migration_uuid=row.uuid, instance_uuid=self.server_id, step='live_migration',
            step_id=str(uuid.uuid4()), source_host=self.source, dest_host=self.dest)
        outcome: list[str] = []

        def copy():
            try:
                driver.live_migration(self.server_id, step)
                outcome.append('moved')
            except LiveMigrationAborted:
                outcome.append('aborted')
        self.copier = threading.Thread(target=copy, daemon=True)
        self.copier.start()
        self.addCleanup(self._stop_copy, driver)
        deadline = time.monotonic() + 5
        while self.server_id not in driver.outgoing:
            self.assertLess(time.monotonic(), deadline, 'the copy did not start')
            time.sleep(0.01)
        return outcome

    def _stop_copy(self, driver) -> None:
        if self.copier.is_alive():
            driver.live_migration_abort(self.server_id)
        self.copier.join(5)
        # A guest handed to the destination's fake hypervisor (the database still
        # places the server at the source) goes with the test.
        self.agent(self.dest).driver.destroy(self.server_id)

    def wait_copy_ended(self, outcome: list[str], began: float) -> str:
        self.copier.join(10)
        self.assertFalse(self.copier.is_alive(), 'the cast did not end the copy')
        self.assertLess(time.monotonic() - began, 10)
        return outcome[0]


class TestCastsToTheSource(CopyingCase):

    def test_abort_of_a_running_migration(self):
        row = self.add('running')
        self.migrating()
        outcome = self.start_copy(row)
        began = time.monotonic()
        self.assertEqual(202, self.abort(row.id).status_code)
        self.assertEqual('aborted', self.wait_copy_ended(outcome, began))
        self.assertIn(self.server_id, self.agent(self.source).driver.list_instances())
        self.assertNotIn(self.server_id, self.agent(self.dest).driver.list_instances())
        # The migration ends when the source reports (the conductor's part).
        self.assertEqual('running', self.status_of(row))
        self.assertIn('live_migration_cancel', self.action_names())

    def test_force_complete_of_a_running_migration(self):
        row = self.add('running')
        self.migrating()
        outcome = self.start_copy(row)
        began = time.monotonic()
        resp = self.force_complete(row.id)
        self.assertEqual((202, b''), (resp.status_code, resp.data))
        self.assertEqual('moved', self.wait_copy_ended(outcome, began))
        self.assertIn(self.server_id, self.agent(self.source).driver.forced_complete)
        self.assertIn(self.server_id, self.agent(self.dest).driver.list_instances())
        self.assertIn('live_migration_force_complete', self.action_names())

    def test_abort_from_2_65_of_one_that_began_running_meanwhile(self):
        row = self.add('preparing')
        self.migrating()
        outcome = self.start_copy(row)
        real_set_status = migration_db.set_status

        def conductor_first(s, uuid, status, expected=None, **values):
            # The destination's preparation reported just before the API's update.
            with session.transaction() as other:
                real_set_status(other, row.uuid, migration_db.RUNNING)
            return real_set_status(s, uuid, status, expected, **values)
        self.useFixture(fixtures.MockPatch(
            'kumo_api.resources.migrations.migration_db.set_status', conductor_first))
        began = time.monotonic()
        self.assertEqual(202, self.abort(row.id, version='2.65').status_code)
        self.assertEqual('aborted', self.wait_copy_ended(outcome, began))
        self.assertEqual('running', self.status_of(row))


class TestThroughTheConductor(ResizeCase):
    """Whole live migrations (os-migrateLive, the conductor and the agents), acted on
    through this API while the fake hypervisor copies the guest."""
    COMPUTES = 2

    def setUp(self):
        super().setUp()
        self.source = self.show()['OS-EXT-SRV-ATTR:host']
        cloud.CONF.set_override('fake_live_migration_delay', 10, group='compute')
        self.addCleanup(cloud.CONF.clear_override, 'fake_live_migration_delay',
                        group='compute')

    def start(self, status: str = 'running') -> dict:
        self.act({'os-migrateLive': {'host': None, 'block_migration': 'auto'}},
                 token=ADMIN, version='2.34')
        deadline = time.monotonic() + 10
        while True:
            resp = self.cloud.request('GET', f'/v2.1/servers/{self.server_id}/migrations',
                                      token=ADMIN, version='2.80')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            found = [m for m in resp.json['migrations'] if m['status'] == status]
            if found:
                return found[0]
            self.assertLess(time.monotonic(), deadline, resp.json)
            time.sleep(0.01)

    def status_of(self, migration: dict) -> str:
        with session.reader() as s:
            return migration_db.get(s, migration['uuid']).status

    def wait_status(self, migration: dict, status: str, began: float) -> None:
        while self.status_of(migration) != status:
            self.assertLess(time.monotonic() - began, 8, self.status_of(migration))
            time.sleep(0.01)

    def test_abort(self):
        migration = self.start()
        self.assertEqual((self.source, 'MIGRATING'),
                         (migration['source_compute'], self.show()['status']))
        began = time.monotonic()
        resp = self.cloud.request('DELETE', f"/v2.1/servers/{self.server_id}/migrations/"
                                            f"{migration['id']}", token=ADMIN, version='2.24')
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        self.wait_status(migration, 'cancelled', began)
        server = self.wait_idle('ACTIVE')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])

    def test_force_complete(self):
        migration = self.start()
        began = time.monotonic()
        resp = self.cloud.request(
            'POST', f"/v2.1/servers/{self.server_id}/migrations/{migration['id']}/action",
            token=ADMIN, version='2.22', json={'force_complete': None})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        self.wait_status(migration, 'completed', began)
        server = self.wait_idle('ACTIVE')
        self.assertEqual(migration['dest_compute'], server['OS-EXT-SRV-ATTR:host'])
        self.assertIn(self.server_id, self.agent(self.source).driver.forced_complete)

    def test_abort_while_the_destination_prepares(self):
        dest = next(a for a in self.cloud.agents if a.host != self.source)
        go_on = threading.Event()
        self.addCleanup(go_on.set)
        real = dest.driver.pre_live_migration

        def slow_preparation(instance_uuid, step):
            go_on.wait(10)
            return real(instance_uuid, step)
        self.useFixture(fixtures.MockPatchObject(dest.driver, 'pre_live_migration',
                                                 slow_preparation))
        migration = self.start('preparing')
        resp = self.cloud.request('DELETE', f"/v2.1/servers/{self.server_id}/migrations/"
                                            f"{migration['id']}", token=ADMIN, version='2.65')
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        self.assertEqual('cancelled', self.status_of(migration))
        # The preparation reports: the conductor finds the migration cancelled.
        go_on.set()
        server = self.wait_idle('ACTIVE')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('cancelled', self.status_of(migration))
        self.assertNotIn(self.server_id, dest.driver.list_instances())
        # (The destination is told to undo its preparation once the server is idle.)
        deadline = time.monotonic() + 5
        while self.server_id in dest.driver.incoming:
            self.assertLess(time.monotonic(), deadline, 'the preparation was not undone')
            time.sleep(0.01)
