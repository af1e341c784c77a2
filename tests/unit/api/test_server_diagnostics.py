"""GET /servers/{id}/diagnostics against the real app, asked of a fake-driver agent:
both of Nova's shapes (the driver's dict before 2.48, the standard one from 2.48),
admin only, and the 404s, 409s and 501 Nova answers."""
from __future__ import annotations

import time
import uuid

from oslo_config import cfg

from kumo_compute.virt.driver import ComputeDriver
from tests.fixtures import cloud

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN
MEDIUM = '3'   # m1.medium: 2 vCPUs, 4096 MiB (kumo-manage seed)
# Nova's 2.48 keys, at the top and in each list's items.
STANDARD_KEYS = {'state', 'driver', 'hypervisor', 'hypervisor_os', 'uptime', 'config_drive',
                 'num_cpus', 'num_nics', 'num_disks', 'cpu_details', 'nic_details',
                 'disk_details', 'memory_details'}
CPU_KEYS = {'id', 'time', 'utilisation'}
DISK_KEYS = {'read_bytes', 'read_requests', 'write_bytes', 'write_requests', 'errors_count'}
NIC_KEYS = {'mac_address', 'rx_octets', 'rx_errors', 'rx_drop', 'rx_packets', 'rx_rate',
            'tx_octets', 'tx_errors', 'tx_drop', 'tx_packets', 'tx_rate'}


class TestServerDiagnostics(cloud.CloudTestCase):
    COMPUTES = 1

    def boot(self, flavor: str = cloud.FLAVOR_TINY, **server) -> tuple[str, str, dict]:
        """(member token, server id, its admin view) of an ACTIVE server in a new
        project."""
        token = self.new_token()
        server_id = self.cloud.create_server(token=token, flavorRef=flavor, **server)['id']
        view = self.cloud.wait_settled(server_id, 'ACTIVE')
        return token, server_id, view

    def diagnostics(self, server_id: str, version: str | None = None, token: str = ADMIN):
        return self.cloud.request('GET', f'/v2.1/servers/{server_id}/diagnostics',
                                  token=token, version=version)

    @staticmethod
    def macs(view: dict) -> list[str]:
        return [a['OS-EXT-IPS-MAC:mac_addr'] for addrs in view['addresses'].values()
                for a in addrs]

    def test_standard_diagnostics_from_2_48(self):
        _token, server_id, view = self.boot(MEDIUM, config_drive=True)
        resp = self.diagnostics(server_id, '2.48')
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        body = resp.json
        self.assertEqual(STANDARD_KEYS, set(body))
        self.assertEqual('running', body['state'])
        # Nova's fake calls itself libvirt too: `driver` is an enum of real drivers.
        self.assertEqual('libvirt', body['driver'])
        self.assertIs(True, body['config_drive'])
        # The guest's own flavor: 2 vCPUs, 4096 MiB.
        self.assertEqual(2, body['num_cpus'])
        self.assertEqual([0, 1], [c['id'] for c in body['cpu_details']])
        self.assertEqual({'maximum': 4096, 'used': 4096}, body['memory_details'])
        # Its NIC, by the MAC of its port; its disks (root, the config drive).
        self.assertEqual(self.macs(view), [n['mac_address'] for n in body['nic_details']])
        self.assertEqual(1, body['num_nics'])
        self.assertEqual(len(body['disk_details']), body['num_disks'])
        self.assertGreaterEqual(body['num_disks'], 2)
        for key, fields in (('cpu_details', CPU_KEYS), ('disk_details', DISK_KEYS),
                            ('nic_details', NIC_KEYS)):
            for item in body[key]:
                self.assertEqual(fields, set(item), key)
                self.assertTrue(all(v is None or isinstance(v, (int, str))
                                    for v in item.values()), item)
        # The fake driver cannot tell when the guest started: counted from its launch.
        self.assertIsInstance(body['uptime'], int)
        self.assertLess(body['uptime'], 60)
        # The latest microversion answers the same shape.
        self.assertEqual(STANDARD_KEYS, set(self.diagnostics(server_id, '2.100').json))

    def test_driver_dict_before_2_48(self):
        _token, server_id, view = self.boot()
        for version in (None, '2.47'):
            resp = self.diagnostics(server_id, version)
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            body = resp.json
            self.assertNotIn('state', body)
            # m1.tiny: 1 vCPU, 512 MiB (libvirt's KiB), root disk vda.
            self.assertEqual(512 * 1024, body['memory'])
            self.assertIn('memory-actual', body)
            self.assertEqual({'cpu0_time'}, {k for k in body if k.startswith('cpu')})
            for suffix in ('read', 'read_req', 'write', 'write_req', 'errors'):
                self.assertIsInstance(body[f'vda_{suffix}'], int)
            # The NIC by its host device: <tap>_rx, _rx_packets, ..., _tx_drop.
            taps = [k[:-len('_rx')] for k in body if k.endswith('_rx')]
            self.assertEqual(1, len(taps), body)
            for suffix in ('rx', 'rx_packets', 'rx_errors', 'rx_drop', 'tx', 'tx_packets',
                           'tx_errors', 'tx_drop'):
                self.assertIsInstance(body[f'{taps[0]}_{suffix}'], int)
        self.assertEqual(1, len(self.macs(view)))

    def test_admin_only(self):
        token, server_id, _view = self.boot()
        resp = self.diagnostics(server_id, '2.48', token=token)
        self.assertEqual(403, resp.status_code)
        self.assertEqual("Policy doesn't allow os_compute_api:os-server-diagnostics to be "
                         'performed.', resp.json['forbidden']['message'])
        # Another project's member does not see the server at all.
        resp = self.diagnostics(server_id, '2.48', token=self.new_token())
        self.assertEqual(404, resp.status_code)

    def test_missing_or_deleted_server_is_404(self):
        missing = str(uuid.uuid4())
        resp = self.diagnostics(missing, '2.48')
        self.assertEqual(404, resp.status_code)
        self.assertEqual(f'Instance {missing} could not be found.',
                         resp.json['itemNotFound']['message'])
        token, server_id, _view = self.boot()
        self.cloud.request('DELETE', f'/v2.1/servers/{server_id}', token=token)
        self.cloud.wait_for_status(server_id, 'DELETED')
        self.assertEqual(404, self.diagnostics(server_id).status_code)

    def test_guest_not_running_is_409(self):
        token, server_id, _view = self.boot()
        resp = self.cloud.request('POST', f'/v2.1/servers/{server_id}/action', token=token,
                                  json={'os-stop': None})
        self.assertEqual(202, resp.status_code)
        self.cloud.wait_settled(server_id, 'SHUTOFF')
        for version in ('2.47', '2.48'):
            resp = self.diagnostics(server_id, version)
            self.assertEqual(409, resp.status_code)
            self.assertEqual(f"Cannot 'get_diagnostics' instance {server_id} while it is "
                             'in power state shutdown',
                             resp.json['conflictingRequest']['message'])

    def test_building_server_is_409(self):
        # The agent takes its time to spawn: the server is BUILD on its host, and its
        # guest does not run yet (Nova's power state 'pending').
        CONF.set_override('fake_spawn_delay', 3, group='compute')
        self.addCleanup(CONF.clear_override, 'fake_spawn_delay', group='compute')
        server_id = self.cloud.create_server(token=self.new_token())['id']
        deadline = time.monotonic() + 10
        while (view := self.cloud.get_server(server_id))['OS-EXT-STS:task_state'] \
                != 'spawning':
            self.assertLess(time.monotonic(), deadline, view)
            time.sleep(0.01)
        self.assertEqual('BUILD', view['status'])
        resp = self.diagnostics(server_id, '2.48')
        self.assertEqual(409, resp.status_code, resp.get_data(True))
        self.assertEqual(f"Cannot 'get_diagnostics' instance {server_id} while it is in "
                         'power state pending', resp.json['conflictingRequest']['message'])
        self.cloud.wait_settled(server_id, 'ACTIVE')
        self.assertEqual(200, self.diagnostics(server_id, '2.48').status_code)

    def test_server_without_a_host_is_409(self):
        # More memory than the agent has (within quota): ERROR, never on a host, so
        # nobody to ask (Nova's InstanceNotReady).
        flavor = self.cloud.request('POST', '/v2.1/flavors', token=ADMIN, json={'flavor': {
            'name': f'huge-{uuid.uuid4().hex[:6]}', 'ram': 40960, 'vcpus': 1,
            'disk': 1}}).json['flavor']
        server_id = self.cloud.create_server(token=self.new_token(),
                                             flavorRef=flavor['id'])['id']
        view = self.cloud.wait_for_status(server_id, 'ERROR')
        self.assertIsNone(view['OS-EXT-SRV-ATTR:host'])
        resp = self.diagnostics(server_id, '2.48')
        self.assertEqual(409, resp.status_code)
        self.assertEqual(f'Instance {server_id} is not ready',
                         resp.json['conflictingRequest']['message'])

    def test_driver_that_cannot_tell_is_501(self):
        _token, server_id, _view = self.boot()
        driver = self.cloud.agents[0].driver
        # What a driver without diagnostics does: the interface's default.
        driver.get_instance_diagnostics = lambda uuid: ComputeDriver.get_instance_diagnostics(
            driver, uuid)
        self.addCleanup(delattr, driver, 'get_instance_diagnostics')
        resp = self.diagnostics(server_id, '2.48')
        self.assertEqual(501, resp.status_code)
        self.assertEqual('The requested functionality is not supported.',
                         resp.json['notImplemented']['message'])
