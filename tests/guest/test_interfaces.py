"""os-interface on a real guest: a port attached is hot-plugged into the running
domain (one more <interface>, live and in its definition, with the port's MAC) and
unplugged again on detach (one less), the server's addresses following. One guest:
booting is slow here."""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET

from tests.guest import base


def _macs(server_id: str, inactive: bool = False) -> list[str]:
    args = ('dumpxml', '--inactive', server_id) if inactive else ('dumpxml', server_id)
    domain = ET.fromstring(base.virsh(*args))
    return [m.get('address') for m in domain.findall('./devices/interface/mac')]


class TestGuestInterfaces(base.GuestTestCase):

    def interfaces(self, server_id: str) -> list[dict]:
        resp = self.client.get(f'/v2.1/servers/{server_id}/os-interface')
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()['interfaceAttachments']

    def addresses(self, server_id: str) -> list[str]:
        server = self.client.show(server_id)
        return [a['OS-EXT-IPS-MAC:mac_addr'] for addrs in server['addresses'].values()
                for a in addrs]

    def test_attach_and_detach_on_a_running_guest(self):
        server_id = self.boot('guest-nics')
        self.wait_server(server_id, 'ACTIVE', power_state=1, timeout=base.BOOT_TIMEOUT)
        # The guest's kernel is up (it answers the ACPI unplug request below).
        self.wait_console(server_id, r'^KUMO-GUEST: ready')
        [first] = self.interfaces(server_id)
        self.assertEqual([first['mac_addr']], _macs(server_id))

        resp = self.client.post(f'/v2.1/servers/{server_id}/os-interface', json={
            'interfaceAttachment': {'net_id': first['net_id']}})
        self.assertEqual(200, resp.status_code, resp.text)
        added = resp.json()['interfaceAttachment']
        self.assertEqual('ACTIVE', added['port_state'])
        # One more <interface>, in the running guest and in its definition.
        self.assertEqual([first['mac_addr'], added['mac_addr']], _macs(server_id))
        self.assertEqual([first['mac_addr'], added['mac_addr']],
                         _macs(server_id, inactive=True))
        self.assertEqual(2, len(self.interfaces(server_id)))
        self.assertIn(added['mac_addr'], self.addresses(server_id))
        self.assertEqual('running', base.domstate(server_id))

        started = time.monotonic()
        resp = self.client.delete_path(
            f"/v2.1/servers/{server_id}/os-interface/{added['port_id']}")
        self.assertEqual(202, resp.status_code, resp.text)
        # The guest let the device go before the answer: one less, live and defined.
        self.assertEqual([first['mac_addr']], _macs(server_id))
        self.assertEqual([first['mac_addr']], _macs(server_id, inactive=True))
        self.assertEqual([first['port_id']],
                         [i['port_id'] for i in self.interfaces(server_id)])
        self.assertNotIn(added['mac_addr'], self.addresses(server_id))
        self.assertLess(time.monotonic() - started, 60)
        self.assertEqual('running', base.domstate(server_id))
