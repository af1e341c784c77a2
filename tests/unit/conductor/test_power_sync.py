"""Nova's power state sync rules, end to end in one process: the agent's PowerSync
reports what its (fake) hypervisor says, the conductor applies the rules to the real
database, and the server's status follows. The guests change behind the API's back
by calling the fake driver directly, as a guest or a person with virsh would."""
from __future__ import annotations

import time

from kumo_common import context, objects, states
from kumo_common.db import instances as instance_db
from kumo_common.db import session
from kumo_conductor.manager import ConductorManager
from tests.fixtures import cloud

power = states.power


class TestPowerSync(cloud.CloudTestCase):
    COMPUTES = 1

    def setUp(self):
        super().setUp()
        self.token = self.new_token()
        self.agent = self.cloud.agents[0]

    def _active_server(self, name: str = 'vm') -> str:
        server = self.cloud.create_server(name, token=self.token)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        return server['id']

    def _wait(self, server_id: str, status: str, power_state: int) -> dict:
        deadline = time.monotonic() + 10
        while True:
            view = self.cloud.get_server(server_id)
            if (view['status'], view['OS-EXT-STS:task_state'],
                    view['OS-EXT-STS:power_state']) == (status, None, power_state):
                return view
            self.assertLess(time.monotonic(), deadline,
                            f'{server_id}: {view["status"]}/{view["OS-EXT-STS:task_state"]}'
                            f'/{view["OS-EXT-STS:power_state"]}, not {status}/{power_state}')
            time.sleep(0.02)

    def test_guest_that_shuts_down_by_itself_is_stopped(self):
        server_id = self._active_server()
        self.agent.driver.power_off(server_id)          # the guest powers itself off
        self.agent.power_sync.sync_all()
        self._wait(server_id, 'SHUTOFF', power.SHUTDOWN)
        resp = self.cloud.request('GET', f'/v2.1/servers/{server_id}/os-instance-actions',
                                  token=cloud.ADMIN_TOKEN)
        self.assertIn('stop', [a['action'] for a in resp.json['instanceActions']])

    def test_event_path_reports_one_guest(self):
        server_id = self._active_server()
        self.agent.driver.power_off(server_id)
        self.agent.power_sync.guest_changed(server_id)  # what a libvirt event does
        self._wait(server_id, 'SHUTOFF', power.SHUTDOWN)

    def test_guest_started_behind_our_back_is_stopped_again(self):
        server_id = self._active_server()
        resp = self.cloud.request('POST', f'/v2.1/servers/{server_id}/action',
                                  token=self.token, json={'os-stop': None})
        self.assertEqual(202, resp.status_code)
        self._wait(server_id, 'SHUTOFF', power.SHUTDOWN)
        self.agent.driver.power_on(server_id)           # `virsh start` by a person
        self.agent.power_sync.sync_all()
        self._wait(server_id, 'SHUTOFF', power.SHUTDOWN)
        self.assertEqual(power.SHUTDOWN, self.agent.driver.power_state(server_id))

    def test_paused_guest_of_an_active_server_is_only_recorded(self):
        server_id = self._active_server()
        self.agent.driver.pause(server_id)
        self.agent.power_sync.sync_all()
        view = self._wait(server_id, 'ACTIVE', power.PAUSED)
        self.assertEqual('ACTIVE', view['status'])

    def test_missing_guest_of_an_active_server_is_left_active(self):
        server_id = self._active_server()
        self.agent.driver.destroy(server_id)
        self.agent.power_sync.sync_all()
        self._wait(server_id, 'ACTIVE', power.NOSTATE)

    def test_stray_guests_are_reaped(self):
        gone = self._active_server('gone')
        resp = self.cloud.request('DELETE', f'/v2.1/servers/{gone}', token=self.token)
        self.assertEqual(204, resp.status_code)
        self.cloud.wait_for_status(gone, 'DELETED')
        unknown = '00000000-0000-4000-8000-00000000beef'
        for uuid in (gone, unknown):   # guests left behind, or made by someone else
            self.agent.driver.spawn(objects.InstanceBuild(
                uuid=uuid, name='stray', hostname='stray', project_id='p', user_id='u',
                flavor=objects.FlavorSpec(flavorid='1', name='t', vcpus=1, memory_mb=64,
                                          root_gb=1), image=None, node_uuid='n'))
        live = self._active_server('live')
        result = self.agent.power_sync.sync_all()
        self.assertEqual({gone, unknown}, set(result.strays))
        self.assertEqual([unknown], result.unknown)
        self.assertNotIn(gone, self.agent.driver.list_instances())
        self.assertNotIn(unknown, self.agent.driver.list_instances())
        self.assertIn(live, self.agent.driver.list_instances())

    def test_stray_of_another_host_is_marked_elsewhere(self):
        # Agents sharing one libvirtd all see a domain merely named like an instance:
        # only the deleted server's own host is told the stray is its to deal with.
        gone = self._active_server('gone')
        self.cloud.request('DELETE', f'/v2.1/servers/{gone}', token=self.token)
        self.cloud.wait_for_status(gone, 'DELETED')
        manager = ConductorManager()
        for host, elsewhere in ((self.agent.host, []), ('compute-next-door', [gone])):
            result = manager.sync_power_states(context.get_admin_context(),
                                               objects.PowerStateReport(
                                                   host=host,
                                                   power_states={gone: power.RUNNING}))
            self.assertEqual(([gone], [], elsewhere),
                             (result.strays, result.unknown, result.elsewhere), host)

    def test_instance_with_a_task_is_pending_and_untouched(self):
        server_id = self._active_server()
        with session.transaction() as s:
            self.assertTrue(instance_db.update_if(
                s, server_id, {'task_state': states.task.REBOOTING}))
        report = objects.PowerStateReport(host=self.agent.host,
                                          power_states={server_id: power.SHUTDOWN})
        result = ConductorManager().sync_power_states(context.get_admin_context(), report)
        self.assertEqual([server_id], result.pending)
        with session.reader() as s:
            instance = instance_db.get_instance(s, server_id)
            self.assertEqual((states.ACTIVE, power.RUNNING),
                             (instance.vm_state, instance.power_state))
        with session.transaction() as s:
            instance_db.update_if(s, server_id, {'task_state': None})

    def test_unsettled_guest_is_not_judged(self):
        server_id = self._active_server()
        report = objects.PowerStateReport(host=self.agent.host, power_states={},
                                          complete=True, unsettled=[server_id])
        result = ConductorManager().sync_power_states(context.get_admin_context(), report)
        self.assertIn(server_id, result.pending)
        self.assertEqual(power.RUNNING, self.cloud.get_server(server_id)[
            'OS-EXT-STS:power_state'])
