"""Server diagnostics of a real guest: what the libvirt driver reads from the running
domain (vCPUs, memory, block and interface statistics, how long QEMU has run)
reaches the API in both of Nova's shapes. One guest: booting is slow here."""
from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

from tests.guest import base


class TestGuestDiagnostics(base.GuestTestCase):

    def diagnostics(self, server_id: str, version: str) -> dict:
        resp = self.client.get(f'/v2.1/servers/{server_id}/diagnostics',
                               headers={'OpenStack-API-Version': f'compute {version}'})
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()

    def test_diagnostics_of_a_running_guest(self):
        started = time.monotonic()
        server_id = self.boot('guest-diag', config_drive=True)
        server = self.wait_server(server_id, 'ACTIVE', power_state=1,
                                  timeout=base.BOOT_TIMEOUT)
        # Its init has mounted and read the config drive by now.
        self.wait_console(server_id, r'^KUMO-GUEST: ready')
        domain = ET.fromstring(base.virsh('dumpxml', server_id))
        body = self.diagnostics(server_id, '2.48')

        self.assertEqual('running', body['state'])
        self.assertEqual('libvirt', body['driver'])
        self.assertEqual('qemu', body['hypervisor'])
        self.assertIs(True, body['config_drive'])
        # The flavor's 1 vCPU, which has run; its 128 MiB.
        self.assertEqual(base.FLAVOR['vcpus'], body['num_cpus'])
        self.assertEqual(0, body['cpu_details'][0]['id'])
        self.assertGreater(body['cpu_details'][0]['time'], 0)
        self.assertEqual(base.FLAVOR['ram'], body['memory_details']['maximum'])
        self.assertGreater(body['memory_details']['used'], 0)
        # Every disk of the domain (root, ephemeral, swap, config drive), and the
        # guest's reads show.
        disks = domain.findall('./devices/disk')
        self.assertEqual(len(disks), body['num_disks'])
        self.assertGreaterEqual(body['num_disks'], 4)
        self.assertTrue(any(d['read_bytes'] > 0 for d in body['disk_details']),
                        body['disk_details'])
        # Its NIC, by its port's MAC (user networking: no host device to count with).
        macs = [a['OS-EXT-IPS-MAC:mac_addr'] for addrs in server['addresses'].values()
                for a in addrs]
        self.assertEqual(1, body['num_nics'])
        self.assertEqual(macs, [n['mac_address'] for n in body['nic_details']])
        # How long QEMU has run (from its process, not the server's launch): since the
        # boot request, no longer.
        self.assertIsInstance(body['uptime'], int)
        self.assertLessEqual(body['uptime'], time.monotonic() - started + 2)
        # (Imported here: it needs libvirt-python, whose absence only skips the test.)
        from kumo_compute.virt.libvirt import diagnostics
        qemu_uptime = diagnostics.seconds_since_start(domain.findtext('name'), base.URI)
        self.assertIsNotNone(qemu_uptime)
        self.assertLessEqual(abs(qemu_uptime - body['uptime']), 2)

        # Before 2.48: the libvirt driver's own keys.
        legacy = self.diagnostics(server_id, '2.47')
        self.assertEqual(base.FLAVOR['ram'] * 1024, legacy['memory'])
        # The hypervisor's memory counters, each as memory-<name> (QEMU's RSS at least).
        self.assertGreater(legacy['memory-rss'], 0)
        self.assertGreater(legacy['cpu0_time'], 0)
        for disk in disks:
            dev = disk.find('target').get('dev')
            for suffix in ('read', 'read_req', 'write', 'write_req', 'errors'):
                self.assertIsInstance(legacy[f'{dev}_{suffix}'], int)
        self.assertFalse([k for k in legacy if re.match(r'(tap|vnet)', k)], legacy)
