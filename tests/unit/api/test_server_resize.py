"""resize, confirmResize and revertResize (issue 7) with the fake driver: Nova's
state rules and answers, the flavor the server shows, where it runs, and the claims
of both flavors while the resize waits in VERIFY_RESIZE."""
from __future__ import annotations

import datetime
import time

import sqlalchemy as sa

from kumo_common import context, states
from kumo_common.db import models, recovery, session
from kumo_common.db import server_migrations as migration_db
from kumo_conductor.manager import ConductorManager
from tests.fixtures import cloud
from tests.unit.api import api_samples

ADMIN = cloud.ADMIN_TOKEN
TINY, SMALL, MEDIUM = '1', '2', '3'   # m1.tiny (512 MB, 1 vCPU, 1 GB), small, medium
task = states.task


class ResizeCase(cloud.CloudTestCase):
    COMPUTES = 2
    ALLOW_RESIZE_TO_SAME_HOST = False

    def setUp(self):
        if self.ALLOW_RESIZE_TO_SAME_HOST:
            cloud.CONF.set_override('allow_resize_to_same_host', True)
            self.addCleanup(cloud.CONF.clear_override, 'allow_resize_to_same_host')
        super().setUp()
        self.token = self.new_token()
        self.project = self.token.split(':')[1]
        self.server_id = self.boot(TINY)

    def boot(self, flavor: str) -> str:
        server = self.cloud.create_server(token=self.token, flavorRef=flavor)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.addCleanup(self.cloud.request, 'DELETE', f'/v2.1/servers/{server["id"]}',
                        token=ADMIN)
        return server['id']

    # --- helpers -------------------------------------------------------------------------
    def act(self, body, code=202, token=None, server_id=None, version=None):
        resp = self.cloud.request(
            'POST', f'/v2.1/servers/{server_id or self.server_id}/action',
            token=token or self.token, json=body, version=version)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp

    def resize(self, flavor=SMALL, code=202, **kwargs):
        return self.act({'resize': {'flavorRef': flavor}}, code, **kwargs)

    def wait_idle(self, status, server_id=None):
        return self.cloud.wait_settled(server_id or self.server_id, status, version='2.47')

    def show(self, version='2.47'):
        return self.cloud.get_server(self.server_id, version=version)

    def agent(self, host):
        return next(a for a in self.cloud.agents if a.host == host)

    def usage(self, host) -> tuple[int, int]:
        with session.reader() as s:
            node = s.scalars(sa.select(models.ComputeNode)
                             .where(models.ComputeNode.host == host)).one()
            return node.vcpus_used, node.memory_mb_used

    def claims(self) -> dict[str, list[tuple[str, int]]]:
        """{owner: [(host, memory_mb)]}: the server's and its migrations' claims."""
        a, cn, m = models.Allocation, models.ComputeNode, models.Migration
        with session.reader() as s:
            owners = [self.server_id] + list(s.scalars(
                sa.select(m.uuid).where(m.instance_uuid == self.server_id)))
            rows = s.execute(sa.select(a.instance_uuid, cn.host, a.memory_mb)
                             .join(cn, cn.id == a.compute_node_id)
                             .where(a.instance_uuid.in_(owners))).all()
        found: dict[str, list] = {}
        for owner, host, memory in rows:
            key = 'server' if owner == self.server_id else 'migration'
            found.setdefault(key, []).append((host, memory))
        return found

    def overdue(self):
        """The server's task is past its deadline (for the reaper to find)."""
        with session.transaction() as s:
            s.execute(sa.update(models.Instance)
                      .where(models.Instance.uuid == self.server_id)
                      .values(task_deadline=models.utcnow()
                              - datetime.timedelta(seconds=5)))

    def migration(self) -> models.Migration:
        with session.reader() as s:
            return migration_db.for_instance(s, self.server_id)[-1]

    def actions(self):
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{self.server_id}/os-instance-actions', token=ADMIN)
        return resp.json['instanceActions']

    def events(self, name):
        request_id = next(a['request_id'] for a in self.actions() if a['action'] == name)
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{self.server_id}/os-instance-actions/{request_id}',
            token=ADMIN, version='2.51')
        return {e['event']: e['result'] for e in resp.json['instanceAction']['events']}

    def flavor(self, name, ram, disk, public=True, vcpus=1) -> str:
        flavor_id = f'{name}-{self.project}'
        resp = self.cloud.request('POST', '/v2.1/flavors', token=ADMIN, json={'flavor': {
            'name': flavor_id, 'ram': ram, 'vcpus': vcpus, 'disk': disk, 'id': flavor_id,
            'os-flavor-access:is_public': public}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return flavor_id

    def quota_usage(self):
        resp = self.cloud.request('GET', f'/v2.1/os-quota-sets/{self.project}/detail',
                                  token=ADMIN)
        usage = resp.json['quota_set']
        return usage['cores']['in_use'], usage['ram']['in_use']

    def to_verify_resize(self, flavor=SMALL):
        before = self.show()
        self.resize(flavor)
        server = self.wait_idle('VERIFY_RESIZE')
        return before, server


class TestResizeConfirm(ResizeCase):

    def test_resize_moves_the_server_with_its_new_flavor(self):
        before, server = self.to_verify_resize()
        source, dest = before['OS-EXT-SRV-ATTR:host'], server['OS-EXT-SRV-ATTR:host']
        # allow_resize_to_same_host is False: another host.
        self.assertNotEqual(source, dest)
        self.assertEqual('resized', server['OS-EXT-STS:vm_state'])
        self.assertEqual({'original_name': 'm1.small', 'vcpus': 1, 'ram': 2048,
                          'disk': 20},
                         {k: server['flavor'][k] for k in ('original_name', 'vcpus', 'ram',
                                                           'disk')})
        self.assertEqual(SMALL, self.show(version='2.46')['flavor']['id'])
        # The guest runs with the new flavor on the destination, none on the source.
        self.assertEqual(2048, self.agent(dest).driver.flavors[self.server_id].memory_mb)
        self.assertNotIn(self.server_id, self.agent(source).driver.list_instances())
        # Both claims while it waits: the new on the destination, the old (the
        # migration's) on the source.
        self.assertEqual({'server': [(dest, 2048)], 'migration': [(source, 512)]},
                         self.claims())
        self.assertEqual(migration_db.FINISHED, self.migration().status)

    def test_the_api_samples(self):
        """Nova's request samples, as they are: resize (flavorRef '2', diskConfig
        AUTO), revertResize, resize again, confirmResize."""
        resize = api_samples.load('servers/server-action-resize.json')
        self.act(resize, 202)
        self.wait_idle('VERIFY_RESIZE')
        with session.reader() as s:
            self.assertTrue(s.scalars(sa.select(models.Instance.auto_disk_config).where(
                models.Instance.uuid == self.server_id)).one())
        self.act(api_samples.load('servers/server-action-revert-resize.json'), 202)
        self.wait_idle('ACTIVE')
        self.act(resize, 202)
        self.wait_idle('VERIFY_RESIZE')
        resp = self.act(api_samples.load('servers/server-action-confirm-resize.json'), 204)
        self.assertEqual(b'', resp.get_data())
        self.assertEqual('m1.small', self.wait_idle('ACTIVE')['flavor']['original_name'])

    def test_task_states_shown_while_it_runs(self):
        source = self.show()['OS-EXT-SRV-ATTR:host']
        dest = next(a.host for a in self.cloud.agents if a.host != source)
        seen = []

        def wait_task(expected):
            for _ in range(2000):
                server = self.cloud.get_server(self.server_id)
                if server['OS-EXT-STS:task_state'] == expected:
                    seen.append((server['status'], expected))
                    return
            self.fail(f'never {expected}: {server["OS-EXT-STS:task_state"]}')

        # Each agent step waits for the agent's lock on the server: its task shows.
        source_lock = self.agent(source).manager.instance_lock(self.server_id)
        dest_lock = self.agent(dest).manager.instance_lock(self.server_id)
        source_lock.acquire()
        dest_lock.acquire()
        try:
            self.resize()
            wait_task(task.RESIZE_MIGRATING)
            source_lock.release()
            wait_task(task.RESIZE_FINISH)
        finally:
            if source_lock.locked():
                source_lock.release()
            dest_lock.release()
        self.wait_idle('VERIFY_RESIZE')
        self.assertEqual([('RESIZE', task.RESIZE_MIGRATING),
                          ('RESIZE', task.RESIZE_FINISH)], seen)
        dest_lock.acquire()
        try:
            self.act({'revertResize': None})
            wait_task(task.RESIZE_REVERTING)
            self.assertEqual('REVERT_RESIZE', seen[-1][0])
            # A second revert, or a confirm, meanwhile: 409.
            resp = self.act({'confirmResize': None}, 409)
            self.assertIn('task_state resize_reverting',
                          resp.json['conflictingRequest']['message'])
        finally:
            dest_lock.release()
        self.wait_idle('ACTIVE')

    def test_confirm_frees_the_old_claim(self):
        before, server = self.to_verify_resize()
        source, dest = before['OS-EXT-SRV-ATTR:host'], server['OS-EXT-SRV-ATTR:host']
        source_usage = self.usage(source)
        self.act({'confirmResize': None}, 204)
        server = self.wait_idle('ACTIVE')
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('m1.small', server['flavor']['original_name'])
        self.assertEqual({'server': [(dest, 2048)]}, self.claims())
        self.assertEqual((source_usage[0] - 1, source_usage[1] - 512), self.usage(source))
        self.assertEqual(migration_db.CONFIRMED, self.migration().status)
        self.assertNotIn(self.server_id, self.agent(source).driver.resize_aside)
        self.assertEqual((1, 2048), self.quota_usage())
        # Nova's events of a resize: its conductor's (migrate_server, and cold_migrate
        # within it), the destination's prep_resize, then the steps'.
        self.assertEqual({'conductor_migrate_server': 'Success', 'cold_migrate': 'Success',
                          'compute_prep_resize': 'Success',
                          'compute_resize_instance': 'Success',
                          'compute_finish_resize': 'Success'}, self.events('resize'))
        self.assertEqual({'compute_confirm_resize': 'Success'},
                         self.events('confirmResize'))

    def test_os_migrations_lists_the_resize(self):
        before, server = self.to_verify_resize()
        path = f'/v2.1/os-migrations?instance_uuid={self.server_id}'
        resp = self.cloud.request('GET', path, token=ADMIN, version='2.80')
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        [migration] = resp.json['migrations']
        self.assertEqual(
            {'status': 'finished', 'migration_type': 'resize',
             'source_compute': before['OS-EXT-SRV-ATTR:host'],
             'dest_compute': server['OS-EXT-SRV-ATTR:host'],
             'uuid': self.migration().uuid, 'project_id': self.project},
            {k: migration[k] for k in ('status', 'migration_type', 'source_compute',
                                       'dest_compute', 'uuid', 'project_id')})
        resp = self.cloud.request('GET', path, token=ADMIN)
        self.assertNotIn('uuid', resp.json['migrations'][0])
        self.assertEqual(403, self.cloud.request('GET', path, token=self.token).status_code)

    def test_revert_restores_the_old_flavor_on_the_source(self):
        before, server = self.to_verify_resize()
        source, dest = before['OS-EXT-SRV-ATTR:host'], server['OS-EXT-SRV-ATTR:host']
        dest_usage = self.usage(dest)
        self.act({'revertResize': None}, 202)
        server = self.wait_idle('ACTIVE')
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('m1.tiny', server['flavor']['original_name'])
        self.assertEqual(TINY, self.show(version='2.46')['flavor']['id'])
        self.assertEqual({'server': [(source, 512)]}, self.claims())
        self.assertEqual((dest_usage[0] - 1, dest_usage[1] - 2048), self.usage(dest))
        self.assertEqual(512, self.agent(source).driver.flavors[self.server_id].memory_mb)
        self.assertEqual(states.power.RUNNING,
                         self.agent(source).driver.power_state(self.server_id))
        self.assertNotIn(self.server_id, self.agent(dest).driver.list_instances())
        self.assertEqual(migration_db.REVERTED, self.migration().status)
        self.assertEqual((1, 512), self.quota_usage())
        self.assertEqual({'compute_revert_resize': 'Success',
                          'compute_finish_revert_resize': 'Success'},
                         self.events('revertResize'))

    def test_a_destination_that_fails_is_rolled_back(self):
        source = self.show()['OS-EXT-SRV-ATTR:host']
        dest = next(a.host for a in self.cloud.agents if a.host != source)
        driver = self.agent(dest).driver

        def broken(instance_uuid, step):
            raise RuntimeError('no room for the disk')
        driver.finish_migration = broken
        self.addCleanup(delattr, driver, 'finish_migration')
        self.resize()
        server = self.wait_idle('ACTIVE')
        # As it was, where it was (Nova's rollback), the failure told by the events
        # and a fault; the destination's claim given back.
        self.assertEqual((source, 'm1.tiny'), (server['OS-EXT-SRV-ATTR:host'],
                                               server['flavor']['original_name']))
        self.assertEqual(states.power.RUNNING,
                         self.agent(source).driver.power_state(self.server_id))
        self.assertEqual({'server': [(source, 512)]}, self.claims())
        events = self.events('resize')
        self.assertEqual('Error', events['compute_finish_resize'])
        self.assertEqual('Success', events['compute_finish_revert_resize'])
        self.assertEqual(migration_db.ERROR, self.migration().status)
        self.assertEqual((1, 512), self.quota_usage())

    def test_a_smaller_disk_is_accepted_then_refused_by_the_source(self):
        # Nova's API takes it (202); its source compute refuses to shrink the disk
        # (InstanceFaultRollback): the server is as it was, with an Error event.
        smaller = self.boot(SMALL)
        source = self.cloud.get_server(smaller)['OS-EXT-SRV-ATTR:host']
        resp = self.resize(TINY, server_id=smaller)
        request_id = resp.headers['x-openstack-request-id']
        server = self.wait_idle('ACTIVE', server_id=smaller)
        self.assertEqual(('m1.small', source, None),
                         (server['flavor']['original_name'],
                          server['OS-EXT-SRV-ATTR:host'], server['OS-EXT-STS:task_state']))
        # The guest was never powered off.
        self.assertEqual(states.power.RUNNING,
                         self.agent(source).driver.power_state(smaller))
        self.assertEqual(2048, self.agent(source).driver.flavors[smaller].memory_mb)
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{smaller}/os-instance-actions/{request_id}',
            token=ADMIN, version='2.84')
        action = resp.json['instanceAction']
        self.assertEqual(('resize', 'Error'), (action['action'], action['message']))
        events = {e['event']: e for e in action['events']}
        self.assertEqual({'conductor_migrate_server': 'Success', 'cold_migrate': 'Success',
                          'compute_prep_resize': 'Success',
                          'compute_resize_instance': 'Error'},
                         {name: e['result'] for name, e in events.items()})
        failed = events['compute_resize_instance']
        self.assertEqual(('Resize error: Unable to resize disk down.', source),
                         (failed['details'], failed['host']))
        with session.reader() as s:
            migration = migration_db.for_instance(s, smaller)[-1]
            fault = s.scalars(sa.select(models.InstanceFault)
                              .where(models.InstanceFault.instance_uuid == smaller)
                              .order_by(models.InstanceFault.id.desc())).first()
        self.assertEqual(migration_db.ERROR, migration.status)
        self.assertEqual((500, 'Resize error: Unable to resize disk down.'),
                         (fault.code, fault.message))
        # Only the server's own claim is left, and the quota it had (two servers).
        with session.reader() as s:
            rows = s.execute(sa.select(models.Allocation.instance_uuid,
                                       models.Allocation.memory_mb)
                             .where(models.Allocation.instance_uuid.in_(
                                 [smaller, migration.uuid]))).all()
        self.assertEqual([(smaller, 2048)], [tuple(r) for r in rows])
        self.assertEqual((2, 512 + 2048), self.quota_usage())

    def test_a_refused_smaller_disk_leaves_a_stopped_server_stopped(self):
        # (Nova passes the server's vm_state to its rollback: SHUTOFF stays SHUTOFF.)
        smaller = self.boot(SMALL)
        self.act({'os-stop': None}, server_id=smaller)
        self.wait_idle('SHUTOFF', server_id=smaller)
        self.resize(TINY, server_id=smaller)
        # Refused on the source: the resize is over and the server as it was.
        for _ in range(500):
            with session.reader() as s:
                if migration_db.for_instance(s, smaller)[-1].status == migration_db.ERROR:
                    break
            time.sleep(0.01)
        server = self.wait_idle('SHUTOFF', server_id=smaller)
        self.assertEqual(('m1.small', states.power.SHUTDOWN),
                         (server['flavor']['original_name'],
                          server['OS-EXT-STS:power_state']))

    def test_a_private_flavor_is_not_access_checked(self):
        # Nova's resize looks the flavor up without the caller's project: a private
        # flavor the project was not given still resizes (create refuses it).
        private = self.flavor('private', 1024, 1, public=False)
        resp = self.cloud.request('POST', '/v2.1/servers', token=self.token, version='2.37',
                                  json={'server': {'name': 'x', 'flavorRef': private,
                                                   'imageRef': cloud.IMAGE_ID,
                                                   'networks': 'none'}})
        self.assertEqual(400, resp.status_code, resp.get_data(True))
        self.resize(private)
        server = self.wait_idle('VERIFY_RESIZE')
        self.assertEqual(private, server['flavor']['original_name'])

    def test_a_stopped_server_stays_stopped(self):
        self.act({'os-stop': None})
        self.wait_idle('SHUTOFF')
        self.resize()
        server = self.wait_idle('VERIFY_RESIZE')
        self.assertEqual(states.power.SHUTDOWN, server['OS-EXT-STS:power_state'])
        self.act({'confirmResize': None}, 204)
        server = self.wait_idle('SHUTOFF')
        self.assertEqual('m1.small', server['flavor']['original_name'])

    def test_the_orphan_sweep_keeps_both_claims(self):
        self.to_verify_resize()
        with session.transaction() as s:
            freed = recovery.free_orphan_allocations(s)
        self.assertNotIn(self.server_id, freed)
        self.assertEqual({'server', 'migration'}, set(self.claims()))

    def test_delete_while_resized_frees_both_claims_and_the_quota(self):
        self.to_verify_resize()
        migration = self.migration()
        resp = self.cloud.request('DELETE', f'/v2.1/servers/{self.server_id}',
                                  token=self.token)
        self.assertEqual(204, resp.status_code)
        self.cloud.wait_for_status(self.server_id, 'DELETED')
        self.assertEqual({}, self.claims())
        self.assertEqual((0, 0), self.quota_usage())
        self.assertEqual(migration_db.ERROR, self.migration().status)
        for agent in self.cloud.agents:
            self.assertNotIn(self.server_id, agent.driver.list_instances())
            self.assertNotIn(migration.uuid, agent.driver.resize_aside)

    def test_auto_confirm_after_the_window(self):
        self.to_verify_resize()
        manager = ConductorManager()
        self.assertEqual(0, manager.confirm_resizes())   # window 0: disabled
        self.useFixture_override('resize_confirm_window', 60)
        with session.transaction() as s:
            s.execute(sa.update(models.Migration)
                      .where(models.Migration.instance_uuid == self.server_id)
                      .values(updated_at=models.utcnow() - datetime.timedelta(minutes=5)))
        self.assertEqual(1, manager.confirm_resizes())
        server = self.wait_idle('ACTIVE')
        self.assertEqual('m1.small', server['flavor']['original_name'])
        self.assertIn('confirmResize', [a['action'] for a in self.actions()])

    def useFixture_override(self, name, value, group=None):
        cloud.CONF.set_override(name, value, group=group)
        self.addCleanup(cloud.CONF.clear_override, name, group=group)


class TestResizeRules(ResizeCase):
    COMPUTES = 1

    def test_confirm_and_revert_only_from_verify_resize(self):
        for action in ('confirmResize', 'revertResize'):
            resp = self.act({action: None}, 409)
            self.assertEqual(f"Cannot '{action}' instance {self.server_id} while it is in "
                             f'vm_state active', resp.json['conflictingRequest']['message'])

    def test_resize_only_from_active_or_shutoff(self):
        self.act({'pause': None})
        self.wait_idle('PAUSED')
        resp = self.resize(code=409)
        self.assertEqual(f"Cannot 'resize' instance {self.server_id} while it is in "
                         'vm_state paused', resp.json['conflictingRequest']['message'])

    def test_resize_during_a_task_is_a_409(self):
        with session.transaction() as s:
            s.execute(sa.update(models.Instance)
                      .where(models.Instance.uuid == self.server_id)
                      .values(task_state=task.REBOOTING))
        try:
            resp = self.resize(code=409)
            self.assertIn('while it is in task_state rebooting',
                          resp.json['conflictingRequest']['message'])
        finally:
            with session.transaction() as s:
                s.execute(sa.update(models.Instance)
                          .where(models.Instance.uuid == self.server_id)
                          .values(task_state=None))

    def test_locked(self):
        self.act({'lock': None})
        resp = self.resize(code=409)
        self.assertEqual(f'Instance {self.server_id} is locked',
                         resp.json['conflictingRequest']['message'])

    def test_flavor_rules(self):
        resp = self.resize(TINY, code=400)
        self.assertEqual('When resizing, instances must change flavor!',
                         resp.json['badRequest']['message'])
        resp = self.resize('no-such-flavor', code=400)
        self.assertEqual('Flavor no-such-flavor could not be found.',
                         resp.json['badRequest']['message'])
        resp = self.cloud.request('POST', '/v2.1/flavors', token=ADMIN, json={'flavor': {
            'name': f'off-{self.project}', 'ram': 512, 'vcpus': 1, 'disk': 5,
            'id': f'off-{self.project}'}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        with session.transaction() as s:
            s.execute(sa.update(models.Flavor).where(
                models.Flavor.flavorid == f'off-{self.project}').values(disabled=True))
        resp = self.resize(f'off-{self.project}', code=400)
        self.assertEqual(f'Flavor off-{self.project} could not be found.',
                         resp.json['badRequest']['message'])
        resp = self.act({'resize': {'flavorRef': SMALL, 'bogus': 1}}, 400)
        resp = self.act({'resize': {}}, 400)

    def test_disk_rules(self):
        # (A smaller disk is the source host's to refuse: TestResizeConfirm.)
        resp = self.cloud.request('POST', '/v2.1/flavors', token=ADMIN, json={'flavor': {
            'name': f'zero-{self.project}', 'ram': 512, 'vcpus': 1, 'disk': 0,
            'id': f'zero-{self.project}'}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        resp = self.resize(f'zero-{self.project}', code=400)
        self.assertEqual('Server disk was unable to be resized because: Resize to zero '
                         'disk flavor is not allowed.', resp.json['badRequest']['message'])

    def test_over_quota_is_a_403_and_changes_nothing(self):
        self.limit_ram(1024)
        resp = self.resize(SMALL, code=403)
        self.assertEqual('Quota exceeded for ram: Requested 1536, but already used 512 of '
                         '1024 ram', resp.json['forbidden']['message'])
        server = self.show()
        self.assertEqual(('ACTIVE', None), (server['status'],
                                            server['OS-EXT-STS:task_state']))
        self.assertEqual({'server': [(server['OS-EXT-SRV-ATTR:host'], 512)]},
                         self.claims())
        self.assertEqual((1, 512), self.quota_usage())

    def limit_ram(self, mb: int) -> None:
        resp = self.cloud.request('PUT', f'/v2.1/os-quota-sets/{self.project}',
                                  token=ADMIN, json={'quota_set': {'ram': mb}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))

    def needy_image(self, **fields) -> str:
        """Make the server's image one with these minimums."""
        image_id = cloud.image_with(**fields)
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == self.server_id).values(image_ref=image_id))
        return image_id

    def assert_unchanged(self):
        server = self.show()
        self.assertEqual(('ACTIVE', None, 'm1.tiny'),
                         (server['status'], server['OS-EXT-STS:task_state'],
                          server['flavor']['original_name']))
        self.assertEqual({'server': [(server['OS-EXT-SRV-ATTR:host'], 512)]},
                         self.claims())
        self.assertEqual((1, 512), self.quota_usage())
        self.assertNotIn('resize', [a['action'] for a in self.actions()])

    def test_image_minimums_in_novas_words(self):
        gib = 1024 ** 3
        self.needy_image(min_ram=4096, min_disk=30, size=50 * gib)
        resp = self.resize(SMALL, code=400)    # 2048 MB
        self.assertEqual("Flavor's memory is too small for requested image.",
                         resp.json['badRequest']['message'])
        # The image's size is not compared on resize (Nova's check reads the server's
        # system metadata, which keeps the minimums only).
        big = self.flavor('big', 4096, 25)
        resp = self.resize(big, code=400)
        self.assertEqual("Flavor's disk is smaller than the minimum size specified in "
                         f"image metadata. Flavor disk is {25 * gib} bytes, minimum size "
                         f"is {30 * gib} bytes.", resp.json['badRequest']['message'])
        self.assert_unchanged()

    def test_quota_is_checked_before_the_image(self):
        # Nova: the quota's 403 comes before the image's 400.
        self.needy_image(min_ram=4096)
        self.limit_ram(1024)
        resp = self.resize(SMALL, code=403)
        self.assertEqual('Quota exceeded for ram: Requested 1536, but already used 512 of '
                         '1024 ram', resp.json['forbidden']['message'])
        self.assert_unchanged()
        # Within the quota, the image's minimums refuse it, and nothing was charged.
        self.limit_ram(51200)
        resp = self.resize(SMALL, code=400)
        self.assertEqual("Flavor's memory is too small for requested image.",
                         resp.json['badRequest']['message'])
        self.assert_unchanged()

    def test_no_other_host_is_a_no_valid_host_not_an_error(self):
        before = self.show()
        self.resize(SMALL)
        server = self.wait_idle('ACTIVE')
        self.assertEqual('m1.tiny', server['flavor']['original_name'])
        self.assertEqual(before['OS-EXT-SRV-ATTR:host'], server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual({'server': [(before['OS-EXT-SRV-ATTR:host'], 512)]},
                         self.claims())
        self.assertEqual({'conductor_migrate_server': 'Error', 'cold_migrate': 'Error'},
                         self.events('resize'))
        self.assertEqual(migration_db.ERROR, self.migration().status)
        self.assertEqual((1, 512), self.quota_usage())


class TestResizeSameHost(ResizeCase):
    COMPUTES = 1
    ALLOW_RESIZE_TO_SAME_HOST = True

    def test_both_flavors_are_claimed_on_the_host_until_confirmed(self):
        host = self.show()['OS-EXT-SRV-ATTR:host']
        start = self.usage(host)
        _before, server = self.to_verify_resize()
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual((start[0] + 1, start[1] + 2048), self.usage(host))
        self.assertEqual({'server': [(host, 2048)], 'migration': [(host, 512)]},
                         self.claims())
        self.act({'confirmResize': None}, 204)
        self.wait_idle('ACTIVE')
        self.assertEqual((start[0], start[1] + 2048 - 512), self.usage(host))

    def test_revert_gives_the_new_claim_back(self):
        host = self.show()['OS-EXT-SRV-ATTR:host']
        # The servers of earlier tests (one cloud for the class) may still be leaving
        # this host: start from this server's own claim alone.
        deadline = time.monotonic() + 10
        while self.usage(host) != (1, 512) and time.monotonic() < deadline:
            time.sleep(0.05)
        start = self.usage(host)
        self.assertEqual((1, 512), start)
        self.to_verify_resize()
        self.act({'revertResize': None})
        server = self.wait_idle('ACTIVE')
        self.assertEqual('m1.tiny', server['flavor']['original_name'])
        self.assertEqual(start, self.usage(host))
        self.assertEqual({'server': [(host, 512)]}, self.claims())
        self.assertEqual(512, self.agent(host).driver.flavors[self.server_id].memory_mb)


class TestColdMigrate(ResizeCase):
    """migrate: Nova's cold migration, a resize to the same flavor on another host."""
    COMPUTES = 3

    def test_to_a_host_the_scheduler_picks_then_confirmed(self):
        before = self.show()
        source = before['OS-EXT-SRV-ATTR:host']
        self.act({'migrate': None}, token=self.token, code=403)
        self.act({'migrate': None}, token=ADMIN)
        server = self.wait_idle('VERIFY_RESIZE')
        dest = server['OS-EXT-SRV-ATTR:host']
        self.assertNotEqual(source, dest)
        self.assertEqual(before['flavor'], server['flavor'])
        self.assertEqual(512, self.agent(dest).driver.flavors[self.server_id].memory_mb)
        migration = self.migration()
        self.assertEqual(('migration', migration_db.FINISHED, source, dest),
                         (migration.migration_type, migration.status,
                          migration.source_compute, migration.dest_compute))
        self.assertEqual({'conductor_migrate_server': 'Success', 'cold_migrate': 'Success',
                          'compute_prep_resize': 'Success',
                          'compute_resize_instance': 'Success',
                          'compute_finish_resize': 'Success'}, self.events('migrate'))
        self.act({'confirmResize': {}}, 204)
        server = self.wait_idle('ACTIVE')
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual({'server': [(dest, 512)]}, self.claims())
        self.assertNotIn(self.server_id, self.agent(source).driver.list_instances())
        self.assertEqual((1, 512), self.quota_usage())

    def test_to_a_given_host_from_2_56_and_reverted(self):
        source = self.show()['OS-EXT-SRV-ATTR:host']
        other = sorted({'compute1', 'compute2', 'compute3'} - {source})[-1]
        for host, message in ((source, 'Cannot migrate to the host where the server '
                                       'exists.'),
                              ('nowhere', 'Compute host nowhere could not be found.')):
            resp = self.act({'migrate': {'host': host}}, 400, token=ADMIN, version='2.56')
            self.assertEqual(message, resp.json['badRequest']['message'])
        self.act({'migrate': {'host': 'bad host!'}}, 400, token=ADMIN, version='2.56')
        self.assertEqual('ACTIVE', self.show()['status'])
        self.act({'migrate': {'host': other}}, token=ADMIN, version='2.56')
        server = self.wait_idle('VERIFY_RESIZE')
        self.assertEqual(other, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(other, self.migration().requested_host)
        self.act({'revertResize': None})
        server = self.wait_idle('ACTIVE')
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual({'server': [(source, 512)]}, self.claims())

    def test_a_host_before_2_56_is_not_looked_at(self):
        source = self.show()['OS-EXT-SRV-ATTR:host']
        self.act({'migrate': {'host': source}}, token=ADMIN, version='2.55')
        self.assertNotEqual(source, self.wait_idle('VERIFY_RESIZE')['OS-EXT-SRV-ATTR:host'])

    def test_only_from_active_or_shutoff(self):
        self.act({'pause': None})
        self.wait_idle('PAUSED')
        resp = self.act({'migrate': None}, 409, token=ADMIN)
        self.assertEqual(f"Cannot 'migrate' instance {self.server_id} while it is in "
                         'vm_state paused', resp.json['conflictingRequest']['message'])


class TestColdMigrateOneHost(ResizeCase):
    COMPUTES = 1
    # Even where a resize may stay on its host, a cold migration may not.
    ALLOW_RESIZE_TO_SAME_HOST = True

    def test_no_other_host_is_a_no_valid_host(self):
        host = self.show()['OS-EXT-SRV-ATTR:host']
        self.act({'migrate': None}, token=ADMIN)
        server = self.wait_idle('ACTIVE')
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual({'conductor_migrate_server': 'Error', 'cold_migrate': 'Error'},
                         self.events('migrate'))
        self.assertEqual({'server': [(host, 512)]}, self.claims())


class TestResizeRecovery(ResizeCase):
    """A resize step whose agent never answers (it restarted, the message was lost):
    the reaper sends it again, and once out of re-drives ends the resize where the
    truth is known."""

    def setUp(self):
        super().setUp()
        from kumo_conductor.reaper import Reaper
        self.reaper = Reaper(ConductorManager())
        self.ctxt = context.get_admin_context()

    def wait_for(self, predicate, what, timeout=10):
        deadline = time.monotonic() + timeout
        while not predicate():
            self.assertLess(time.monotonic(), deadline, f'never: {what}')
            time.sleep(0.02)

    def test_a_finish_step_that_never_answers_is_sent_again_then_rolled_back(self):
        source = self.show()['OS-EXT-SRV-ATTR:host']
        dest = next(a.host for a in self.cloud.agents if a.host != source)
        dropped = []
        manager = self.agent(dest).manager
        # The destination agent loses every finish_resize (as one that restarted
        # before it ran them: the cast is gone, nothing ran).
        manager.finish_resize = lambda ctxt, step: dropped.append(step.step_id)
        self.addCleanup(delattr, manager, 'finish_resize')
        self.resize(SMALL)
        for _ in range(500):
            if dropped:
                break
            self.cloud.get_server(self.server_id)
        self.assertEqual(1, len(dropped))
        self.assertEqual(task.RESIZE_FINISH, self.show()['OS-EXT-STS:task_state'])
        # Overdue: sent again (a new step id), [conductor] max_step_redrives times.
        for attempt in range(cloud.CONF.conductor.max_step_redrives):
            self.overdue()
            self.assertEqual(1, self.reaper.run_once(self.ctxt))
            self.wait_for(lambda n=attempt + 2: len(dropped) == n, 'the step sent again')
            self.assertEqual(2, len(set(dropped[-2:])))   # a new step id each time
            self.assertEqual(task.RESIZE_FINISH, self.show()['OS-EXT-STS:task_state'])
        self.overdue()
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        server = self.show()
        # No guest is known to run the new flavor: ERROR on the source, old flavor,
        # the old claim its own again, the new one given back.
        self.assertEqual(('ERROR', None), (server['status'],
                                           server['OS-EXT-STS:task_state']))
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('m1.tiny', server['flavor']['original_name'])
        self.assertIn('timed out', server['fault']['message'])
        self.assertEqual({'server': [(source, 512)]}, self.claims())
        self.assertEqual(migration_db.ERROR, self.migration().status)
        self.assertEqual((1, 512), self.quota_usage())

    def test_a_lost_report_is_recovered(self):
        source = self.show()['OS-EXT-SRV-ATTR:host']
        dest = next(a.host for a in self.cloud.agents if a.host != source)
        manager = self.agent(dest).manager
        real = manager.conductor

        class DropStepReports:
            def __getattr__(self, name):
                return getattr(real, name)

            def migration_step_finished(self, ctxt, result):
                dropped.append(result)

        dropped = []
        manager.conductor = DropStepReports()
        self.addCleanup(setattr, manager, 'conductor', real)
        self.resize(SMALL)
        for _ in range(500):
            if dropped:
                break
            self.cloud.get_server(self.server_id)
        self.assertEqual('finish_resize', dropped[0].step)
        self.assertEqual(task.RESIZE_FINISH, self.show()['OS-EXT-STS:task_state'])
        self.overdue()
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        server = self.wait_idle('VERIFY_RESIZE')
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])

    def test_a_source_step_that_never_arrives_leaves_the_server_as_it_was(self):
        source = self.show()['OS-EXT-SRV-ATTR:host']
        manager = self.agent(source).manager
        dropped = []
        manager.resize_instance = lambda ctxt, step: dropped.append(step.step_id)
        self.addCleanup(delattr, manager, 'resize_instance')
        self.resize(SMALL)
        self.wait_for(lambda: dropped, 'the source step sent')
        self.assertEqual(task.RESIZE_MIGRATING, self.show()['OS-EXT-STS:task_state'])
        for _ in range(cloud.CONF.conductor.max_step_redrives + 1):
            self.overdue()
            self.assertEqual(1, self.reaper.run_once(self.ctxt))
        server = self.show()
        # The source answered that the step never reached it (and will refuse it):
        # the guest is as it was, and so is the server, with an Error event.
        self.assertEqual(('ACTIVE', None), (server['status'],
                                            server['OS-EXT-STS:task_state']))
        self.assertEqual((source, 'm1.tiny'), (server['OS-EXT-SRV-ATTR:host'],
                                               server['flavor']['original_name']))
        self.assertEqual({'server': [(source, 512)]}, self.claims())
        self.assertEqual('Error', self.events('resize')['compute_resize_instance'])
        self.assertEqual((1, 512), self.quota_usage())
