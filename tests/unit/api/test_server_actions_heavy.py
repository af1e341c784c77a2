"""The heavier server actions (issue 7) with the fake driver: every state rule and
409 of the one lifecycle table, the happy paths of changePassword, createImage,
createBackup and rebuild, their instance actions, and the out-of-scope answers."""
from __future__ import annotations

import contextlib
import os
import time
import uuid as uuidlib

import sqlalchemy as sa
import testtools

from kumo_api import errors
from kumo_api.actions import lifecycle as api_lifecycle
from kumo_common import context, lifecycle, states
from kumo_common.db import images as image_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, network_cache, session
from tests.fixtures import cloud

ADMIN = cloud.ADMIN_TOKEN
task = states.task

# Nova's rules (reference/NOTES.md section g) for the actions of issue 7.
NOVA_RULES = {
    'set_admin_password': {states.ACTIVE},
    'snapshot': {states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED},
    'backup': {states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED},
    'rebuild': {states.ACTIVE, states.STOPPED, states.ERROR},
    'resize': {states.ACTIVE, states.STOPPED},
    'confirm_resize': {states.RESIZED},
    'revert_resize': {states.RESIZED},
    'rescue': {states.ACTIVE, states.STOPPED, states.ERROR},
    'unrescue': {states.RESCUED},
    'shelve': {states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED},
    'shelve_offload': {states.SHELVED},
    'unshelve': {states.SHELVED, states.SHELVED_OFFLOADED},
}
API_NAMES = {'set_admin_password': 'changePassword', 'snapshot': 'createImage',
             'backup': 'createBackup', 'rebuild': 'rebuild', 'resize': 'resize',
             'confirm_resize': 'confirmResize', 'revert_resize': 'revertResize',
             'rescue': 'rescue', 'unrescue': 'unrescue', 'shelve': 'shelve',
             'shelve_offload': 'shelveOffload', 'unshelve': 'unshelve'}


class TestStateTable(testtools.TestCase):
    """The table itself: what API, conductor and agent all read."""

    def _instance(self, vm_state, task_state=None, locked=False, host='compute1'):
        return models.Instance(uuid='u-1', vm_state=vm_state, task_state=task_state,
                               locked=locked, host=host)

    def test_allowed_vm_states_are_novas(self):
        for name, allowed in NOVA_RULES.items():
            self.assertEqual(allowed, set(lifecycle.get(name).allowed_vm_states), name)
            self.assertEqual((None,), lifecycle.get(name).allowed_task_states, name)
            self.assertEqual(API_NAMES[name], lifecycle.get(name).recorded_as)

    def test_every_other_vm_state_is_a_409_naming_the_api_action(self):
        ctxt = context.RequestContext(user_id='u', project_id='p')
        for name, allowed in NOVA_RULES.items():
            spec = lifecycle.get(name)
            for vm_state in states.ALL_VM_STATES:
                instance = self._instance(vm_state)
                if vm_state in allowed:
                    api_lifecycle.check(ctxt, instance, spec, spec.recorded_as)
                    continue
                exc = self.assertRaises(errors.Conflict, api_lifecycle.check, ctxt,
                                        instance, spec, spec.recorded_as)
                self.assertEqual(f"Cannot '{API_NAMES[name]}' instance u-1 while it is in "
                                 f'vm_state {vm_state}', exc.message)

    def test_a_running_task_is_a_409(self):
        ctxt = context.RequestContext(user_id='u', project_id='p')
        for name, allowed in NOVA_RULES.items():
            spec = lifecycle.get(name)
            instance = self._instance(sorted(allowed)[0], task_state=task.REBOOTING)
            exc = self.assertRaises(errors.Conflict, api_lifecycle.check, ctxt, instance,
                                    spec, spec.recorded_as)
            self.assertIn('while it is in task_state rebooting', exc.message)

    def test_locks(self):
        member = context.RequestContext(user_id='u', project_id='p', roles=['member'])
        for name, allowed in NOVA_RULES.items():
            spec = lifecycle.get(name)
            instance = self._instance(sorted(allowed)[0], locked=True)
            if name in ('snapshot', 'backup'):
                # Nova does not lock-check createImage / createBackup.
                api_lifecycle.check(member, instance, spec, spec.recorded_as)
            else:
                self.assertRaises(errors.Conflict, api_lifecycle.check, member, instance,
                                  spec, spec.recorded_as)

    def test_task_states_are_unique(self):
        # The reaper finds an overdue action by its task_state. (evacuate shows
        # rebuild's, as Nova's: the reaper knows it by its evacuation migration,
        # kumo_conductor.evacuating.)
        seen = [a.task_state for a in lifecycle.ACTIONS.values() if a.name != 'evacuate']
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual('rebuild', lifecycle.owning(lifecycle.get('evacuate').task_state)
                         .name)

    def test_where_each_ends(self):
        self.assertEqual(states.PAUSED, lifecycle.get('snapshot').vm_state_after(
            states.PAUSED))
        self.assertEqual(states.STOPPED, lifecycle.get('rebuild').vm_state_after(
            states.STOPPED))
        self.assertEqual(states.ACTIVE, lifecycle.get('rebuild').vm_state_after(
            states.ERROR))
        self.assertEqual(states.ACTIVE, lifecycle.get('set_admin_password').vm_state_after(
            states.ACTIVE))


class HeavyActionsCase(cloud.CloudTestCase):
    COMPUTES = 1

    def setUp(self):
        super().setUp()
        self.token = self.new_token()
        server = self.cloud.create_server(token=self.token)
        self.server = self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.server_id = server['id']

    def act(self, body, code=202, token=None, version=None):
        resp = self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                  token=token or self.token, version=version, json=body)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp

    def driver(self):
        return self.cloud.agents[0].driver

    @contextlib.contextmanager
    def agent_busy(self):
        """Hold the agent's lock on the server: an action waits, showing its task."""
        lock = self.cloud.agents[0].manager.instance_lock(self.server_id)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def actions(self):
        resp = self.cloud.request('GET',
                                  f'/v2.1/servers/{self.server_id}/os-instance-actions',
                                  token=ADMIN)
        return resp.json['instanceActions']

    def events(self, name):
        request_id = next(a['request_id'] for a in self.actions() if a['action'] == name)
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{self.server_id}/os-instance-actions/{request_id}',
            token=ADMIN, version='2.51')
        return resp.json['instanceAction']

    def wait_idle(self, status='ACTIVE'):
        return self.cloud.wait_settled(self.server_id, status)

    def stop(self):
        self.act({'os-stop': None})
        self.wait_idle('SHUTOFF')


class TestChangePassword(HeavyActionsCase):

    def test_sets_it_showing_password_meanwhile(self):
        with self.agent_busy():
            self.act({'changePassword': {'adminPass': 'n3w-s3cret'}})
            server = self.cloud.get_server(self.server_id)
            self.assertEqual('PASSWORD', server['status'])
            self.assertEqual('updating_password', server['OS-EXT-STS:task_state'])
            # One action at a time.
            resp = self.act({'changePassword': {'adminPass': 'x'}}, code=409)
            self.assertIn('task_state updating_password', resp.json['conflictingRequest'][
                'message'])
        self.wait_idle()
        self.assertEqual('n3w-s3cret', self.driver().passwords[self.server_id])
        action = self.events('changePassword')
        self.assertEqual(['compute_set_admin_password'], [e['event'] for e in
                                                          action['events']])
        self.assertEqual('Success', action['events'][0]['result'])

    def test_only_from_active(self):
        self.stop()
        resp = self.act({'changePassword': {'adminPass': 'x'}}, code=409)
        self.assertEqual(f"Cannot 'changePassword' instance {self.server_id} while it is "
                         'in vm_state stopped', resp.json['conflictingRequest']['message'])

    def test_locked(self):
        self.act({'lock': None}, token=ADMIN)
        self.act({'changePassword': {'adminPass': 'x'}}, code=409)
        self.act({'changePassword': {'adminPass': 'x'}}, token=ADMIN)
        self.wait_idle()

    def test_schema(self):
        self.act({'changePassword': {}}, code=400)
        self.act({'changePassword': {'adminPass': 1}}, code=400)
        self.act({'changePassword': {'adminPass': 'x', 'other': 1}}, code=400)

    def test_libvirt_without_guest_agent_is_a_409(self):
        with session.transaction() as s:
            node = s.query(models.ComputeNode).filter_by(
                uuid=instance_db.get_instance(s, self.server_id).compute_node_uuid).one()
            original = node.hypervisor_type
            node.hypervisor_type = 'QEMU'
        self.addCleanup(self._set_hypervisor_type, original)
        resp = self.act({'changePassword': {'adminPass': 'x'}}, code=409)
        self.assertEqual('QEMU guest agent is not enabled',
                         resp.json['conflictingRequest']['message'])
        self.assertEqual('ACTIVE', self.cloud.get_server(self.server_id)['status'])

    def _set_hypervisor_type(self, value):
        with session.transaction() as s:
            for node in s.query(models.ComputeNode):
                node.hypervisor_type = value


class TestCreateImage(HeavyActionsCase):

    def image(self, image_id):
        with session.reader() as s:
            image = image_db.get(s, image_id)
            return image, image_db.properties(image)

    def wait_image(self, image_id, status='active'):
        for _ in range(500):
            with session.reader() as s:
                try:
                    current = image_db.get(s, image_id).status
                except Exception:
                    current = 'gone'
            if current == status:
                return
            time.sleep(0.01)
        self.fail(f'image {image_id} is {current}, not {status}')

    def test_2_45_returns_the_image_id_and_the_image_becomes_active(self):
        with self.agent_busy():
            resp = self.act({'createImage': {'name': 'snap', 'metadata': {'k': 'v'}}},
                            version='2.45')
            image_id = resp.json['image_id']
            self.assertNotIn('Location', resp.headers)
            server = self.cloud.get_server(self.server_id)
            self.assertEqual('ACTIVE', server['status'])
            self.assertEqual('image_snapshot', server['OS-EXT-STS:task_state'])
            image, _ = self.image(image_id)
            self.assertEqual('saving', image.status)
        self.wait_idle()
        self.wait_image(image_id)
        image, props = self.image(image_id)
        self.assertEqual(self.server_id, props['instance_uuid'])
        self.assertEqual('snapshot', props['image_type'])
        self.assertEqual(cloud.IMAGE_ID, props['base_image_ref'])
        self.assertEqual(self.token.split(':')[0], props['user_id'])
        self.assertEqual('v', props['k'])
        self.assertEqual(self.token.split(':')[1], image.owner)
        self.assertEqual('private', image.visibility)
        self.assertTrue(os.path.exists(image.location))
        self.assertEqual(os.path.getsize(image.location), image.size)
        self.assertIsNotNone(image.checksum)
        # The compute images API shows it too (same catalog).
        resp = self.cloud.request('GET', f'/v2.1/images/{image_id}', token=self.token)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual('ACTIVE', resp.json['image']['status'])
        self.assertEqual(self.server_id, resp.json['image']['server']['id'])
        action = self.events('createImage')
        self.assertEqual([('compute_snapshot_instance', 'Success')],
                         [(e['event'], e['result']) for e in action['events']])

    def test_before_2_45_a_location_header(self):
        resp = self.act({'createImage': {'name': 'snap'}}, version='2.44')
        self.assertEqual(b'', resp.data)
        self.assertIn('/images/', resp.headers['Location'])
        self.wait_idle()

    def test_boot_from_the_snapshot(self):
        image_id = self.act({'createImage': {'name': 'snap'}},
                            version='2.45').json['image_id']
        self.wait_idle()
        self.wait_image(image_id)
        server = self.cloud.create_server(token=self.token, imageRef=image_id)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')

    def test_paused_stays_paused_and_not_lock_checked(self):
        self.act({'pause': None})
        self.wait_idle('PAUSED')
        self.act({'lock': None}, token=ADMIN)
        self.act({'createImage': {'name': 'snap'}})
        server = self.wait_idle('PAUSED')
        self.assertEqual(states.power.PAUSED, server['OS-EXT-STS:power_state'])

    def test_409s(self):
        with self.agent_busy():
            self.act({'os-stop': None})
            resp = self.act({'createImage': {'name': 'snap'}}, code=409)
            self.assertIn("Cannot 'createImage'", resp.json['conflictingRequest']['message'])
        self.wait_idle('SHUTOFF')
        with session.transaction() as s:
            instance_db.update_if(s, self.server_id, {'vm_state': states.ERROR})
        resp = self.act({'createImage': {'name': 'snap'}}, code=409)
        self.assertIn('vm_state error', resp.json['conflictingRequest']['message'])
        resp = self.act({'createBackup': {'name': 'b', 'backup_type': 'daily',
                                          'rotation': 1}}, code=409)
        self.assertIn("Cannot 'createBackup'", resp.json['conflictingRequest']['message'])

    def test_failure_deletes_the_image(self):
        driver = self.driver()
        original = driver.snapshot

        def broken(uuid, params):
            raise RuntimeError('disk on fire')
        driver.snapshot = broken
        self.addCleanup(setattr, driver, 'snapshot', original)
        image_id = self.act({'createImage': {'name': 'snap'}},
                            version='2.45').json['image_id']
        server = self.wait_idle()
        self.assertEqual('ACTIVE', server['status'])
        self.wait_image(image_id, 'gone')
        action = self.events('createImage')
        self.assertEqual('Error', action['events'][0]['result'])

    def test_schema(self):
        self.act({'createImage': {}}, code=400)
        self.act({'createImage': {'name': ' lead'}}, code=400)
        self.act({'createImage': {'name': 'x', 'metadata': {'k': 1}}}, code=400)
        self.act({'createBackup': {'name': 'b', 'backup_type': 'daily'}}, code=400)
        self.act({'createBackup': {'name': 'b', 'backup_type': 'daily', 'rotation': -1}},
                 code=400)


class TestCreateBackup(HeavyActionsCase):

    def backups(self):
        with session.reader() as s:
            return [i.id for i in s.query(models.Image).all()
                    if image_db.properties(i).get('instance_uuid') == self.server_id
                    and image_db.properties(i).get('image_type') == 'backup']

    def test_rotation(self):
        made = []
        for n in range(3):
            resp = self.act({'createBackup': {'name': f'b{n}', 'backup_type': 'daily',
                                              'rotation': '2'}}, version='2.45')
            made.append(resp.json['image_id'])
            self.wait_idle()
            for _ in range(500):
                if made[-1] in self.backups() and len(self.backups()) <= 2:
                    break
                time.sleep(0.01)
        self.assertEqual(sorted(made[1:]), sorted(self.backups()))
        with session.reader() as s:
            props = image_db.properties(image_db.get(s, made[-1]))
        self.assertEqual('daily', props['backup_type'])
        self.assertEqual('backup', props['image_type'])
        action = self.events('createBackup')
        self.assertEqual('compute_backup_instance', action['events'][0]['event'])

    def test_rotation_zero_before_2_45_has_no_location(self):
        resp = self.act({'createBackup': {'name': 'b', 'backup_type': 'weekly',
                                          'rotation': 0}}, version='2.44')
        self.assertNotIn('Location', resp.headers)
        self.wait_idle()


class TestRebuild(HeavyActionsCase):

    def new_image(self):
        image_id = str(uuidlib.uuid4())
        with session.transaction() as s:
            seeded = image_db.get(s, cloud.IMAGE_ID)
            image_db.create(s, image_id, 'other', disk_format=seeded.disk_format,
                            container_format=seeded.container_format,
                            location=seeded.location, checksum=seeded.checksum,
                            size=seeded.size, visibility='public')
        return image_id

    def test_rebuild_with_a_new_image(self):
        image_id = self.new_image()
        with self.agent_busy():
            resp = self.act({'rebuild': {'imageRef': image_id, 'name': 'renamed',
                                         'metadata': {'a': 'b'}, 'adminPass': 'pw'}})
            view = resp.json['server']
            self.assertEqual('REBUILD', view['status'])
            self.assertEqual('pw', view['adminPass'])
            self.assertEqual('renamed', view['name'])
            self.assertEqual(image_id, view['image']['id'])
            self.assertEqual({'a': 'b'}, view['metadata'])
            # Before 2.75 the basic view (no OS-EXT-STS:*).
            self.assertNotIn('OS-EXT-STS:vm_state', view)
        server = self.wait_idle()
        self.assertEqual(image_id, server['image']['id'])
        self.assertEqual(image_id, self.driver().rebuilt_from[self.server_id])
        action = self.events('rebuild')
        # Nova's conductor reports rebuild_server as it sends the rebuild on.
        self.assertEqual([('compute_rebuild_instance', 'Success'),
                          ('rebuild_server', 'Success')],
                         sorted((e['event'], e['result']) for e in action['events']))

    def test_image_requirements_against_the_flavor(self):
        # Nova's order and words (the server's m1.tiny: 512 MB, 1 GB); nothing changes.
        gib = 1024 ** 3

        def refused(**fields):
            image_id = self.new_image()
            with session.transaction() as s:
                s.execute(sa.update(models.Image).where(models.Image.id == image_id)
                          .values(**fields))
            return self.act({'rebuild': {'imageRef': image_id}}, code=400).json[
                'badRequest']['message']
        self.assertEqual("Flavor's memory is too small for requested image.",
                         refused(min_ram=1024, min_disk=5, size=2 * gib))
        self.assertEqual(f"Flavor's disk is too small for requested image. Flavor disk is "
                         f"{gib} bytes, image is {2 * gib} bytes.",
                         refused(min_disk=5, size=2 * gib))
        self.assertEqual("Flavor's disk is smaller than the minimum size specified in image "
                         f"metadata. Flavor disk is {gib} bytes, minimum size is "
                         f"{5 * gib} bytes.", refused(min_disk=5, size=None))
        server = self.cloud.get_server(self.server_id)
        self.assertEqual(('ACTIVE', None, cloud.IMAGE_ID),
                         (server['status'], server['OS-EXT-STS:task_state'],
                          server['image']['id']))

    def test_2_75_full_view_and_user_data(self):
        resp = self.act({'rebuild': {'imageRef': cloud.IMAGE_ID, 'user_data': 'aGk=',
                                     'hostname': 'new-host'}}, version='2.94')
        view = resp.json['server']
        self.assertIn('OS-EXT-STS:vm_state', view)
        self.assertIn('config_drive', view)
        # From 2.57 the answer shows the server's user_data (Tempest's schema needs it).
        self.assertEqual('aGk=', view['user_data'])
        self.wait_idle()
        resp = self.act({'rebuild': {'imageRef': cloud.IMAGE_ID}}, version='2.57')
        self.assertEqual('aGk=', resp.json['server']['user_data'])
        self.wait_idle()
        resp = self.act({'rebuild': {'imageRef': cloud.IMAGE_ID}}, version='2.56')
        self.assertNotIn('user_data', resp.json['server'])
        self.assertIn('key_name', resp.json['server'])   # from 2.54 (basic view aside)
        self.wait_idle()
        resp = self.act({'rebuild': {'imageRef': cloud.IMAGE_ID}}, version='2.53')
        self.assertNotIn('key_name', resp.json['server'])
        self.wait_idle()
        # An admin's 2.75 view has its extended attributes, but user_data only once.
        resp = self.act({'rebuild': {'imageRef': cloud.IMAGE_ID}}, version='2.75',
                        token=ADMIN)
        view = resp.json['server']
        self.assertIn('OS-EXT-SRV-ATTR:host', view)
        self.assertNotIn('OS-EXT-SRV-ATTR:user_data', view)
        self.assertEqual('aGk=', view['user_data'])
        self.wait_idle()
        with session.reader() as s:
            instance = instance_db.get_instance(s, self.server_id)
            self.assertEqual('aGk=', instance.user_data)
            self.assertEqual('new-host', instance.hostname)

    def test_user_data_not_before_2_57(self):
        self.act({'rebuild': {'imageRef': cloud.IMAGE_ID, 'user_data': 'aGk='}},
                 version='2.56', code=400)

    def test_stopped_stays_stopped(self):
        self.stop()
        self.act({'rebuild': {'imageRef': cloud.IMAGE_ID}})
        server = self.wait_idle('SHUTOFF')
        self.assertEqual(states.power.SHUTDOWN, server['OS-EXT-STS:power_state'])

    def test_409s_and_400s(self):
        self.act({'rebuild': {'imageRef': str(uuidlib.uuid4())}}, code=400)
        self.act({'rebuild': {}}, code=400)
        self.act({'pause': None})
        self.wait_idle('PAUSED')
        resp = self.act({'rebuild': {'imageRef': cloud.IMAGE_ID}}, code=409)
        self.assertEqual(f"Cannot 'rebuild' instance {self.server_id} while it is in "
                         'vm_state paused', resp.json['conflictingRequest']['message'])

    def test_locked(self):
        self.act({'lock': None}, token=ADMIN)
        self.act({'rebuild': {'imageRef': cloud.IMAGE_ID}}, code=409)

    def test_failure_is_an_error_with_a_fault(self):
        driver = self.driver()
        original = driver.rebuild

        def broken(uuid, params):
            raise RuntimeError('no disk today')
        driver.rebuild = broken
        self.addCleanup(setattr, driver, 'rebuild', original)
        self.act({'rebuild': {'imageRef': cloud.IMAGE_ID}})
        server = self.cloud.wait_for_status(self.server_id, 'ERROR')
        self.assertIn('no disk today', server['fault']['message'])
        self.assertEqual('Error', self.events('rebuild')['events'][0]['result'])
        # Rebuild is the way out of ERROR.
        driver.rebuild = original
        self.act({'rebuild': {'imageRef': cloud.IMAGE_ID}})
        self.wait_idle()


class TestRescue(HeavyActionsCase):

    def test_rescue_and_unrescue(self):
        with self.agent_busy():
            resp = self.act({'rescue': {'adminPass': 'MySecretPass'}}, code=200)
            self.assertEqual({'adminPass': 'MySecretPass'}, resp.json)
            self.assertEqual('rescuing',
                             self.cloud.get_server(self.server_id)['OS-EXT-STS:task_state'])
        server = self.wait_idle('RESCUE')
        self.assertEqual('rescued', server['OS-EXT-STS:vm_state'])
        self.assertEqual(cloud.IMAGE_ID, self.driver().rescued[self.server_id])
        # Only unrescue (and delete...) from RESCUE.
        resp = self.act({'rescue': None}, code=409)
        self.assertEqual(f"Cannot 'rescue' instance {self.server_id} while it is in "
                         'vm_state rescued', resp.json['conflictingRequest']['message'])
        self.act({'createImage': {'name': 'x'}}, code=409)
        self.act({'unrescue': None})
        self.wait_idle('ACTIVE')
        self.assertNotIn(self.server_id, self.driver().rescued)
        self.assertEqual(['unrescue', 'rescue'], [a['action'] for a in self.actions()][:2])
        self.assertEqual('compute_rescue_instance',
                         self.events('rescue')['events'][0]['event'])

    def test_rescue_generates_a_password_and_takes_an_image(self):
        resp = self.act({'rescue': {'rescue_image_ref': cloud.IMAGE_ID}}, code=200)
        self.assertEqual(12, len(resp.json['adminPass']))
        self.wait_idle('RESCUE')

    def test_409s_and_400s(self):
        self.act({'unrescue': None}, code=409)
        self.act({'rescue': {'rescue_image_ref': str(uuidlib.uuid4())}}, code=400)
        self.act({'rescue': {'other': 1}}, code=400)
        self.act({'pause': None})
        self.wait_idle('PAUSED')
        self.act({'rescue': None}, code=409)

    def test_from_stopped(self):
        self.stop()
        self.act({'rescue': None}, code=200)
        server = self.wait_idle('RESCUE')
        self.assertEqual(states.power.RUNNING, server['OS-EXT-STS:power_state'])


class TestResetState(HeavyActionsCase):

    def test_admin_sets_the_state(self):
        self.act({'os-resetState': {'state': 'error'}}, code=403)
        for bad in ({'state': 'stopped'}, {}, {'state': 'error', 'x': 1}, None):
            self.act({'os-resetState': bad}, token=ADMIN, code=400)
        self.act({'os-resetState': {'state': 'error'}}, token=ADMIN)
        server = self.cloud.get_server(self.server_id)
        self.assertEqual(('ERROR', 'error', None),
                         (server['status'], server['OS-EXT-STS:vm_state'],
                          server['OS-EXT-STS:task_state']))
        self.assertNotIn('fault', server)
        # An admin's action, recorded as Nova's, and the server usable again after
        # the reset to active.
        self.assertEqual('resetState', self.actions()[0]['action'])
        self.act({'os-resetState': {'state': 'active'}}, token=ADMIN)
        self.wait_idle('ACTIVE')
        self.stop()
        self.wait_idle('SHUTOFF')

    def test_clears_a_task(self):
        with self.agent_busy():
            self.act({'pause': None})
            self.assertEqual('pausing', self.cloud.get_server(
                self.server_id)['OS-EXT-STS:task_state'])
            self.act({'os-resetState': {'state': 'active'}}, token=ADMIN)
            server = self.cloud.get_server(self.server_id)
            self.assertEqual(('ACTIVE', None),
                             (server['status'], server['OS-EXT-STS:task_state']))


class TestInjectNetworkInfo(HeavyActionsCase):

    def test_the_cache_is_read_again(self):
        before = self.cloud.get_server(self.server_id)['addresses']
        self.assertTrue(before)
        with session.transaction() as s:   # a cache gone stale
            network_cache.clear(s, self.server_id)
        self.assertEqual({}, self.cloud.get_server(self.server_id)['addresses'])
        self.act({'injectNetworkInfo': None}, code=403)
        self.act({'injectNetworkInfo': {}}, token=ADMIN)
        self.assertEqual(before, self.cloud.get_server(self.server_id)['addresses'])

