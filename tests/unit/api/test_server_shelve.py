"""shelve / shelveOffload / unshelve (issue 7) with the fake driver, through the API
of a whole in-process cloud: every state rule and 409, each microversion's unshelve
body, the task_states shown, the shelve image's life, claims freed on offload and
taken on unshelve, quota kept counted, the periodic offload, and instance actions."""
from __future__ import annotations

import contextlib
import datetime
import threading
import time

import sqlalchemy as sa
from oslo_config import cfg

from kumo_common import context, states
from kumo_common.db import images as image_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, recovery, session
from kumo_conductor import shelving
from kumo_conductor.manager import ConductorManager
from tests.fixtures import cloud

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN
task = states.task


class ShelveCase(cloud.CloudTestCase):
    COMPUTES = 2
    OFFLOAD_TIME = -1

    def setUp(self):
        super().setUp()
        self.offload_time(self.OFFLOAD_TIME)
        self.token = self.new_token()
        self.server_id = self.boot()

    # --- helpers ---------------------------------------------------------------------
    def offload_time(self, seconds: int) -> None:
        CONF.set_override('shelved_offload_time', seconds)
        self.addCleanup(CONF.clear_override, 'shelved_offload_time')

    def boot(self, name='vm', **server) -> str:
        server = self.cloud.create_server(name, token=self.token, **server)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        return server['id']

    def act(self, body, code=202, token=None, version=None, server_id=None):
        resp = self.cloud.request(
            'POST', f'/v2.1/servers/{server_id or self.server_id}/action',
            token=token or self.token, version=version, json=body)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp

    def conflict(self, body, token=None, version=None) -> str:
        return self.act(body, 409, token, version).json['conflictingRequest']['message']

    def view(self, version=None) -> dict:
        return self.cloud.get_server(self.server_id, version=version)

    def wait_idle(self, status: str) -> dict:
        return self.cloud.wait_settled(self.server_id, status)

    def agent(self, host: str):
        return next(a for a in self.cloud.agents if a.host == host)

    def row(self) -> models.Instance:
        with session.reader() as s:
            return instance_db.get_instance(s, self.server_id)

    def sysmeta(self) -> dict:
        with session.reader() as s:
            return {r.key: r.value for r in s.query(models.InstanceSystemMetadata)
                    .filter_by(instance_uuid=self.server_id)}

    def claims(self) -> list[str]:
        """The compute hosts the server holds a claim on."""
        with session.reader() as s:
            return list(s.scalars(
                sa.select(models.ComputeNode.host).join(
                    models.Allocation,
                    models.Allocation.compute_node_id == models.ComputeNode.id)
                .where(models.Allocation.instance_uuid == self.server_id)))

    def image(self, image_id: str) -> models.Image | None:
        with session.reader() as s:
            try:
                image = image_db.get(s, image_id)
            except Exception:
                return None
            image.props = image_db.properties(image)
            return image

    def wait_image_gone(self, image_id: str) -> None:
        for _ in range(500):
            if self.image(image_id) is None:
                return
            time.sleep(0.01)
        self.fail(f'image {image_id} is still there')

    def events(self, name: str) -> list[tuple[str, str]]:
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{self.server_id}/os-instance-actions', token=ADMIN)
        request_id = next(a['request_id'] for a in resp.json['instanceActions']
                          if a['action'] == name)
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{self.server_id}/os-instance-actions/{request_id}',
            token=ADMIN, version='2.51')
        return [(e['event'], e['result']) for e in resp.json['instanceAction']['events']]

    def shelve(self) -> dict:
        self.act({'shelve': None})
        return self.wait_idle('SHELVED')

    def shelve_offloaded(self) -> dict:
        self.shelve()
        self.act({'shelveOffload': None}, token=ADMIN)
        return self.wait_idle('SHELVED_OFFLOADED')

    def usage(self) -> dict:
        resp = self.cloud.request('GET', '/v2.1/limits', token=self.token)
        return resp.json['limits']['absolute']

    @contextlib.contextmanager
    def agent_busy(self, host: str):
        lock = self.agent(host).manager.instance_lock(self.server_id)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()


class TestShelve(ShelveCase):

    def test_shelve_keeps_the_guest_and_makes_the_image(self):
        host = self.view()['OS-EXT-SRV-ATTR:host']
        with self.agent_busy(host):
            self.act({'shelve': None})
            server = self.view()
            self.assertEqual('ACTIVE', server['status'])
            self.assertEqual('shelving', server['OS-EXT-STS:task_state'])
            # One action at a time.
            self.assertIn('task_state shelving', self.conflict({'shelve': None}))
        server = self.wait_idle('SHELVED')
        self.assertEqual('shelved', server['OS-EXT-STS:vm_state'])
        self.assertEqual(states.power.SHUTDOWN, server['OS-EXT-STS:power_state'])
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        # The guest stays on its host, powered off, and keeps its claim.
        self.assertEqual(states.power.SHUTDOWN,
                         self.agent(host).driver.power_state(self.server_id))
        self.assertEqual([host], self.claims())
        meta = self.sysmeta()
        self.assertEqual(host, meta['shelved_host'])
        self.assertTrue(meta['shelved_at'])
        image = self.image(meta['shelved_image_id'])
        self.assertEqual('vm-shelved', image.name)
        self.assertEqual('active', image.status)
        self.assertEqual(self.server_id, image.props['instance_uuid'])
        self.assertEqual('snapshot', image.props['image_type'])
        self.assertEqual(cloud.IMAGE_ID, image.props['base_image_ref'])
        self.assertEqual(self.token.split(':')[1], image.owner)
        self.assertGreater(image.size, 0)
        self.assertEqual([('compute_shelve_instance', 'Success')], self.events('shelve'))

    def test_shows_each_step(self):
        host = self.view()['OS-EXT-SRV-ATTR:host']
        driver = self.agent(host).driver
        original = driver.snapshot
        release = threading.Event()

        def slow(uuid, params):
            release.wait(10)
            return original(uuid, params)
        driver.snapshot = slow
        self.addCleanup(setattr, driver, 'snapshot', original)
        self.act({'shelve': None})
        try:
            for _ in range(500):
                server = self.view()
                if server['OS-EXT-STS:task_state'] == 'shelving_image_uploading':
                    break
                time.sleep(0.01)
            self.assertEqual('shelving_image_uploading', server['OS-EXT-STS:task_state'])
            self.assertEqual('ACTIVE', server['status'])
            # The step has a deadline of its own, for the reaper.
            self.assertIsNotNone(self.row().task_deadline)
        finally:
            release.set()
        self.wait_idle('SHELVED')

    def test_from_each_allowed_state(self):
        for prepare, status in ((None, 'ACTIVE'), ({'os-stop': None}, 'SHUTOFF'),
                                ({'pause': None}, 'PAUSED'),
                                ({'suspend': None}, 'SUSPENDED')):
            server_id = self.boot()
            if prepare:
                self.act(prepare, server_id=server_id)
            self.cloud.wait_for_status(server_id, status)
            self.act({'shelve': None}, server_id=server_id)
            view = self.cloud.wait_for_status(server_id, 'SHELVED')
            self.assertEqual(states.power.SHUTDOWN, view['OS-EXT-STS:power_state'])

    def test_409s(self):
        self.act({'rescue': None}, code=200)
        self.wait_idle('RESCUE')
        self.assertEqual(f"Cannot 'shelve' instance {self.server_id} while it is in "
                         'vm_state rescued', self.conflict({'shelve': None}))
        self.act({'unrescue': None})
        self.wait_idle('ACTIVE')
        self.assertEqual(f"Cannot 'shelveOffload' instance {self.server_id} while it is "
                         'in vm_state active', self.conflict({'shelveOffload': None},
                                                             token=ADMIN))
        self.assertEqual(f"Cannot 'unshelve' instance {self.server_id} while it is in "
                         'vm_state active', self.conflict({'unshelve': None}))
        self.shelve()
        self.assertIn('vm_state shelved', self.conflict({'shelve': None}))
        self.assertIn('vm_state shelved', self.conflict({'os-start': None}))
        self.assertIn("Cannot 'createImage'",
                      self.conflict({'createImage': {'name': 'x'}}))

    def test_locked(self):
        self.act({'lock': None}, token=ADMIN)
        self.assertEqual(f'Instance {self.server_id} is locked',
                         self.conflict({'shelve': None}))
        self.act({'shelve': None}, token=ADMIN)
        self.wait_idle('SHELVED')
        self.conflict({'unshelve': None})
        self.act({'unshelve': None}, token=ADMIN)
        self.wait_idle('ACTIVE')

    def test_any_value_is_taken_as_no_arguments(self):
        # As Nova's: {"shelve": {}} is what Tempest sends.
        self.act({'shelve': {}})
        self.wait_idle('SHELVED')
        self.act({'shelveOffload': {'x': 1}}, token=ADMIN)
        self.wait_idle('SHELVED_OFFLOADED')
        self.act({'unshelve': {}}, version='2.76')
        self.wait_idle('ACTIVE')

    def test_failure_keeps_the_server_and_deletes_the_image(self):
        host = self.view()['OS-EXT-SRV-ATTR:host']
        driver = self.agent(host).driver
        original = driver.snapshot

        def broken(uuid, params):
            raise RuntimeError('disk on fire')
        driver.snapshot = broken
        self.addCleanup(setattr, driver, 'snapshot', original)
        self.act({'shelve': None})
        server = self.wait_idle('ACTIVE')
        self.assertEqual(states.power.SHUTDOWN, server['OS-EXT-STS:power_state'])
        self.assertEqual([('compute_shelve_instance', 'Error')], self.events('shelve'))
        with session.reader() as s:
            left = [i.id for i in s.query(models.Image)
                    if image_db.properties(i).get('instance_uuid') == self.server_id]
        self.assertEqual([], left)
        self.assertNotIn('shelved_image_id', self.sysmeta())


class TestShelveOffload(ShelveCase):

    def test_offload_frees_the_host_but_not_the_quota(self):
        before = self.usage()
        host = self.view()['OS-EXT-SRV-ATTR:host']
        self.shelve()
        with self.agent_busy(host):
            self.act({'shelveOffload': None}, token=ADMIN)
            server = self.view()
            self.assertEqual('SHELVED', server['status'])
            self.assertEqual('shelving_offloading', server['OS-EXT-STS:task_state'])
        server = self.wait_idle('SHELVED_OFFLOADED')
        self.assertEqual('shelved_offloaded', server['OS-EXT-STS:vm_state'])
        self.assertEqual(states.power.NOSTATE, server['OS-EXT-STS:power_state'])
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self.assertIsNone(server['OS-EXT-SRV-ATTR:hypervisor_hostname'])
        self.assertEqual('', server['hostId'])
        row = self.row()
        self.assertIsNone(row.node)
        self.assertIsNone(row.compute_node_uuid)
        self.assertNotIn(self.server_id, self.agent(host).driver.list_instances())
        self.assertEqual([], self.claims())
        # Nova keeps counting an offloaded server's instances, cores and RAM.
        after = self.usage()
        for key in ('totalInstancesUsed', 'totalCoresUsed', 'totalRAMUsed'):
            self.assertEqual(before[key], after[key], key)
        # Its image stays for the unshelve; its ports stay its own.
        image = self.image(self.sysmeta()['shelved_image_id'])
        self.assertEqual('active', image.status)
        self.assertTrue(server['addresses'])
        self.assertEqual([('compute_shelve_offload_instance', 'Success')],
                         self.events('shelveOffload'))

    def test_admin_only_by_default(self):
        self.shelve()
        self.act({'shelveOffload': None}, code=403)
        self.assertEqual('SHELVED', self.view()['status'])

    def test_offload_time_zero_offloads_with_the_shelve(self):
        self.offload_time(0)
        host = self.view()['OS-EXT-SRV-ATTR:host']
        self.act({'shelve': None})
        server = self.wait_idle('SHELVED_OFFLOADED')
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self.assertNotIn(self.server_id, self.agent(host).driver.list_instances())
        self.assertEqual([], self.claims())
        meta = self.sysmeta()
        self.assertEqual(host, meta['shelved_host'])
        self.assertEqual('active', self.image(meta['shelved_image_id']).status)
        # One action, as Nova's.
        self.assertEqual([('compute_shelve_instance', 'Success')], self.events('shelve'))

    def test_periodic_offload(self):
        self.offload_time(3600)
        self.shelve()
        conductor = ConductorManager()
        ctxt = context.get_admin_context()
        self.assertEqual(0, conductor.offload_shelved(ctxt))   # not due yet
        old = (datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
               - datetime.timedelta(seconds=7200)).isoformat()
        with session.transaction() as s:
            s.query(models.InstanceSystemMetadata).filter_by(
                instance_uuid=self.server_id, key='shelved_at').update({'value': old})
        self.assertEqual(1, conductor.offload_shelved(ctxt))
        server = self.wait_idle('SHELVED_OFFLOADED')
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([], self.claims())
        self.assertEqual([('compute_shelve_offload_instance', 'Success')],
                         self.events('shelveOffload'))
        # Nothing more to offload; -1 turns the task off.
        self.assertEqual(0, conductor.offload_shelved(ctxt))
        self.offload_time(-1)
        self.assertEqual(0, conductor.offload_shelved(ctxt))

    def test_the_orphan_claim_reaper_leaves_placements_alone(self):
        self.shelve_offloaded()
        with session.reader() as s:
            node = s.query(models.ComputeNode).filter_by(host='compute1').one()
            node_id, node_uuid = node.id, node.uuid

        def stray_claim():
            with session.transaction() as s:
                s.add(models.Allocation(compute_node_id=node_id,
                                        instance_uuid=self.server_id, vcpus=1,
                                        memory_mb=1, disk_gb=0))

        # An offloaded server owns no claim: one left behind is given back...
        stray_claim()
        with session.transaction() as s:
            self.assertEqual([self.server_id], recovery.free_orphan_allocations(s))
        # ...but not while it is being unshelved (the scheduler's claim comes before
        # the conductor records the host).
        stray_claim()
        with session.transaction() as s:
            instance_db.update_if(s, self.server_id, {'task_state': task.UNSHELVING})
        self.addCleanup(self._idle)
        with session.transaction() as s:
            self.assertEqual([], recovery.free_orphan_allocations(s))
        with session.transaction() as s:
            recovery.free_allocation_on(s, self.server_id, node_uuid)

    def _idle(self):
        with session.transaction() as s:
            instance_db.update_if(s, self.server_id, {'task_state': None})


class TestUnshelve(ShelveCase):

    def test_from_shelved_powers_on_where_it_is(self):
        host = self.view()['OS-EXT-SRV-ATTR:host']
        self.shelve()
        image_id = self.sysmeta()['shelved_image_id']
        with self.agent_busy(host):
            self.act({'unshelve': None})
            server = self.view()
            self.assertEqual('SHELVED', server['status'])
            self.assertEqual('unshelving', server['OS-EXT-STS:task_state'])
        server = self.wait_idle('ACTIVE')
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual(states.power.RUNNING, server['OS-EXT-STS:power_state'])
        self.assertEqual(states.power.RUNNING,
                         self.agent(host).driver.power_state(self.server_id))
        self.assertNotIn(self.server_id, self.agent(host).driver.unshelved_from)
        self.wait_image_gone(image_id)
        self.assertFalse(set(shelving.SYSMETA_KEYS) & set(self.sysmeta()))
        self.assertEqual([host], self.claims())
        # Nova's conductor only starts a SHELVED server: its compute's start event.
        self.assertEqual([('compute_start_instance', 'Success')],
                         self.events('unshelve'))

    def test_from_offloaded_spawns_from_the_image(self):
        self.shelve_offloaded()
        image_id = self.sysmeta()['shelved_image_id']
        before = self.usage()
        self.act({'unshelve': None})
        server = self.wait_idle('ACTIVE')
        host = server['OS-EXT-SRV-ATTR:host']
        self.assertIsNotNone(host)
        self.assertEqual(states.power.RUNNING, server['OS-EXT-STS:power_state'])
        self.assertEqual(image_id, self.agent(host).driver.unshelved_from[self.server_id])
        self.assertEqual([host], self.claims())
        # The server still shows the image it was booted from.
        self.assertEqual(cloud.IMAGE_ID, server['image']['id'])
        self.wait_image_gone(image_id)
        self.assertFalse(set(shelving.SYSMETA_KEYS) & set(self.sysmeta()))
        self.assertEqual(before['totalInstancesUsed'], self.usage()['totalInstancesUsed'])
        # Nova's: the conductor reads the image and schedules, then the host spawns.
        self.assertEqual([('compute_unshelve_instance', 'Success'),
                          ('get_image_info', 'Success'),
                          ('schedule_instances', 'Success')],
                         sorted(self.events('unshelve')))
        # And it can go round again.
        self.shelve_offloaded()
        self.act({'unshelve': None})
        self.wait_idle('ACTIVE')

    def test_shows_unshelving_while_it_is_placed(self):
        self.shelve_offloaded()
        conductor = self.cloud.conductor
        # Hold the conductor's unshelve: the API has claimed the task.
        original = ConductorManager.unshelve_instance
        release = threading.Event()

        def held(manager, ctxt, instance_uuid):
            release.wait(10)
            return original(manager, ctxt, instance_uuid)
        ConductorManager.unshelve_instance = held
        self.addCleanup(setattr, ConductorManager, 'unshelve_instance', original)
        try:
            self.act({'unshelve': None})
            server = self.view()
            self.assertEqual('SHELVED_OFFLOADED', server['status'])
            self.assertEqual('unshelving', server['OS-EXT-STS:task_state'])
            self.assertIn('task_state unshelving', self.conflict({'unshelve': None}))
        finally:
            release.set()
        del conductor
        self.wait_idle('ACTIVE')

    def test_spawn_failure_goes_back_to_offloaded(self):
        self.shelve_offloaded()
        image_id = self.sysmeta()['shelved_image_id']
        originals = []
        for agent in self.cloud.agents:
            original = agent.driver.spawn
            originals.append((agent.driver, original))

            def broken(build):
                raise RuntimeError('no room in the disk')
            agent.driver.spawn = broken
        for driver, original in originals:
            self.addCleanup(setattr, driver, 'spawn', original)
        self.act({'unshelve': None})
        server = self.wait_idle('SHELVED_OFFLOADED')
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([], self.claims())
        self.assertEqual('active', self.image(image_id).status)
        self.assertEqual(image_id, self.sysmeta()['shelved_image_id'])
        self.assertIn(('compute_unshelve_instance', 'Error'), self.events('unshelve'))
        for agent in self.cloud.agents:
            self.assertNotIn(self.server_id, agent.driver.list_instances())
        for driver, original in originals:
            driver.spawn = original
        self.act({'unshelve': None})
        self.wait_idle('ACTIVE')

    def test_no_valid_host_goes_back_to_offloaded(self):
        self.shelve_offloaded()
        image_id = self.sysmeta()['shelved_image_id']
        services = self.cloud.request('GET', '/v2.1/os-services?binary=kumo-compute',
                                      token=ADMIN, version='2.53').json['services']
        service_id = next(s['id'] for s in services if s['host'] == 'compute2')

        def set_status(status):
            resp = self.cloud.request('PUT', f'/v2.1/os-services/{service_id}',
                                      token=ADMIN, version='2.53',
                                      json={'status': status})
            self.assertEqual(200, resp.status_code, resp.get_data(True))
        set_status('disabled')
        self.addCleanup(set_status, 'enabled')
        self.act({'unshelve': {'host': 'compute2'}}, token=ADMIN, version='2.91')
        server = self.wait_idle('SHELVED_OFFLOADED')
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([], self.claims())
        self.assertEqual('active', self.image(image_id).status)
        self.assertEqual([('get_image_info', 'Success'), ('schedule_instances', 'Error')],
                         sorted(self.events('unshelve')))
        # Anywhere else is fine.
        self.act({'unshelve': None})
        self.assertEqual('compute1', self.wait_idle('ACTIVE')['OS-EXT-SRV-ATTR:host'])

    def test_delete_takes_the_shelve_image_along(self):
        self.shelve_offloaded()
        image_id = self.sysmeta()['shelved_image_id']
        resp = self.cloud.request('DELETE', f'/v2.1/servers/{self.server_id}',
                                  token=self.token)
        self.assertEqual(204, resp.status_code)
        self.cloud.wait_for_status(self.server_id, 'DELETED')
        self.wait_image_gone(image_id)


class TestUnshelveMicroversions(ShelveCase):
    """The unshelve body per microversion, and Nova's rules for zones and hosts."""

    def test_before_2_77_a_zone_is_ignored(self):
        # As Nova's: before 2.77 the value is not looked at.
        self.shelve_offloaded()
        self.act({'unshelve': {'availability_zone': 'no-such-zone'}}, version='2.76')
        self.wait_idle('ACTIVE')

    def test_2_77_availability_zone(self):
        self.shelve()
        self.act({'unshelve': {}}, code=400, version='2.77')
        self.act({'unshelve': {'availability_zone': 'nova', 'host': 'compute1'}}, code=400,
                 version='2.77')
        # Only an offloaded server may be sent to a zone.
        message = self.conflict({'unshelve': {'availability_zone': 'nova'}},
                                version='2.77')
        self.assertIn('The server status must be SHELVED_OFFLOADED', message)
        self.act({'shelveOffload': None}, token=ADMIN)
        self.wait_idle('SHELVED_OFFLOADED')
        resp = self.act({'unshelve': {'availability_zone': 'nowhere'}}, code=400,
                        version='2.77')
        self.assertEqual('The requested availability zone is not available',
                         resp.json['badRequest']['message'])
        self.act({'unshelve': {'availability_zone': 'nova'}}, version='2.77')
        self.wait_idle('ACTIVE')
        server = self.view(version='2.96')
        self.assertEqual('nova', server['pinned_availability_zone'])
        self.assertEqual('nova', server['OS-EXT-AZ:availability_zone'])

    def test_2_91_host_is_for_admins(self):
        self.shelve_offloaded()
        self.act({'unshelve': {'host': 'compute2'}}, code=403, version='2.91')
        # Before 2.91 `host` is not part of the body at all.
        self.act({'unshelve': {'host': 'compute2'}}, code=400, token=ADMIN, version='2.90')
        resp = self.act({'unshelve': {'host': 'nosuchhost'}}, code=400, token=ADMIN,
                        version='2.91')
        self.assertEqual('Compute host nosuchhost could not be found.',
                         resp.json['badRequest']['message'])
        for host in ('compute2', 'compute1'):
            self.act({'unshelve': {'host': host}}, token=ADMIN, version='2.91')
            server = self.wait_idle('ACTIVE')
            self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
            self.assertEqual([host], self.claims())
            # Unpinned it stays (the table: no AZ, host given).
            self.assertIsNone(self.view(version='2.96')['pinned_availability_zone'])
            self.shelve_offloaded()

    def test_2_91_host_only_when_offloaded(self):
        self.shelve()
        message = self.conflict({'unshelve': {'host': 'compute1'}}, token=ADMIN,
                                version='2.91')
        self.assertIn('The server status must be SHELVED_OFFLOADED', message)
        message = self.conflict({'unshelve': {'availability_zone': None}}, version='2.91')
        self.assertIn('The server status must be SHELVED_OFFLOADED', message)

    def test_2_91_bodies(self):
        self.shelve_offloaded()
        for body in ({}, {'foo': 'x'}, {'host': 'compute1', 'foo': 'x'}, {'host': ''},
                     {'availability_zone': 1}, {'host': None}):
            self.act({'unshelve': body}, code=400, token=ADMIN, version='2.91')
        self.assertEqual('SHELVED_OFFLOADED', self.view()['status'])

    def test_samples(self):
        """The request samples of api_samples/os-shelve, each accepted."""
        self.act({'shelve': None}, version='2.91')
        self.wait_idle('SHELVED')
        self.act({'unshelve': None}, version='2.91')
        self.wait_idle('ACTIVE')
        self.shelve_offloaded()
        self.act({'unshelve': {'availability_zone': 'nova', 'host': 'compute1'}},
                 token=ADMIN, version='2.91')
        self.wait_idle('ACTIVE')
        self.shelve_offloaded()
        self.act({'unshelve': {'availability_zone': None, 'host': 'compute1'}},
                 token=ADMIN, version='2.91')
        self.wait_idle('ACTIVE')


class TestUnshelveZones(ShelveCase):
    """compute2 in zone "az2" (before any server runs there), compute1 in "nova"."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        resp = cls.cloud.request('POST', '/v2.1/os-aggregates', token=ADMIN,
                                 json={'aggregate': {'name': 'agg-az2',
                                                     'availability_zone': 'az2'}})
        assert resp.status_code == 200, resp.get_data(True)
        resp = cls.cloud.request(
            'POST', f"/v2.1/os-aggregates/{resp.json['aggregate']['id']}/action",
            token=ADMIN, json={'add_host': {'host': 'compute2'}})
        assert resp.status_code == 200, resp.get_data(True)

    def test_2_91_zones_and_hosts(self):
        # The server pinned to "nova" at create.
        self.server_id = self.boot(availability_zone='nova')
        self.shelve_offloaded()
        # Pinned to nova, no zone given: the host must be in nova.
        message = self.conflict({'unshelve': {'host': 'compute2'}}, token=ADMIN,
                                version='2.91')
        self.assertEqual('Host "compute2" is not in the availability zone "nova".',
                         message)
        # Another zone with a host outside it.
        message = self.conflict({'unshelve': {'availability_zone': 'az2',
                                              'host': 'compute1'}}, token=ADMIN,
                                version='2.91')
        self.assertEqual('Host "compute1" is not in the availability zone "az2".',
                         message)
        # Unpinned with a host: anywhere goes, and it stays unpinned.
        self.act({'unshelve': {'availability_zone': None, 'host': 'compute2'}},
                 token=ADMIN, version='2.91')
        server = self.wait_idle('ACTIVE')
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        server = self.view(version='2.96')
        self.assertIsNone(server['pinned_availability_zone'])
        self.assertEqual('az2', server['OS-EXT-AZ:availability_zone'])
        # Pinned to az2 by the unshelve: scheduled there.
        self.shelve_offloaded()
        self.act({'unshelve': {'availability_zone': 'az2'}}, version='2.91')
        server = self.wait_idle('ACTIVE')
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('az2', self.view(version='2.96')['pinned_availability_zone'])
        # And unpinned again (no host).
        self.shelve_offloaded()
        self.act({'unshelve': {'availability_zone': None}}, version='2.91')
        self.wait_idle('ACTIVE')
        self.assertIsNone(self.view(version='2.96')['pinned_availability_zone'])
