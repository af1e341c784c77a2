"""trigger_crash_dump on the real test guest: libvirt's injectNMI reaches its kernel,
which says so on the serial console and keeps running; a guest whose domain is not
running fails the action's event with Nova's words, and nothing else changes."""
from __future__ import annotations

import re
import time

from tests.guest import base

# What Linux on x86 prints for an NMI no handler claims (arch/x86/kernel/nmi.c), the
# case of one injected from the hypervisor.
NMI_LINE = r'NMI received for unknown reason'
EVENT = 'compute_trigger_crash_dump'


class TestCrashDump(base.GuestTestCase):

    def crash_dump(self, server_id: str) -> str:
        """POST the action at 2.17; its request id."""
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'trigger_crash_dump': None},
                                    headers={'OpenStack-API-Version': 'compute 2.17'})
        self.assertEqual(202, response.status_code, response.text)
        return response.headers['x-openstack-request-id']

    def event(self, server_id: str, request_id: str,
              timeout: float = base.STATE_TIMEOUT) -> dict:
        """The action's host event once it has finished (2.84: with its details)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.client.get(
                f'/v2.1/servers/{server_id}/os-instance-actions/{request_id}',
                headers={'OpenStack-API-Version': 'compute 2.84'})
            self.assertEqual(200, response.status_code, response.text)
            action = response.json()['instanceAction']
            self.assertEqual('trigger_crash_dump', action['action'])
            events = [e for e in action['events'] if e['event'] == EVENT]
            if events and events[0]['finish_time']:
                return events[0]
            if time.monotonic() > deadline:
                self.fail(f'{EVENT} of {request_id} never finished: {action}')
            time.sleep(0.2)

    def test_guest_kernel_sees_the_nmi_and_keeps_running(self):
        server_id = self.boot('guest-nmi')
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        # (The test guest's init says when it is up.)
        before = self.wait_console(server_id, r'^KUMO-GUEST: ready')
        self.assertEqual([], re.findall(NMI_LINE, before))

        event = self.event(server_id, self.crash_dump(server_id))
        self.assertEqual('Success', event['result'])
        self.assertEqual(base.HOST, event['host'])
        self.wait_console(server_id, NMI_LINE)
        # The guest carries on: the domain runs, the server is as it was.
        self.assertEqual('running', base.domstate(server_id))
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertIsNone(server['OS-EXT-STS:task_state'])

        # A second one is a second NMI.
        self.assertEqual('Success', self.event(server_id, self.crash_dump(server_id))
                         ['result'])
        self.wait_console(server_id, NMI_LINE, count=2)

    def test_a_guest_not_running_fails_the_event_only(self):
        server_id = self.boot('guest-nmi-off')
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.action(server_id, {'os-stop': None})
        self.wait_server(server_id, 'SHUTOFF', power_state=4)
        # Stopped is not a state Nova allows it from.
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'trigger_crash_dump': None})
        self.assertEqual(409, response.status_code, response.text)
        self.assertIn('while it is in vm_state stopped', response.text)
        # ERROR is (here by an admin's reset), and the domain is still shut off:
        # libvirt refuses the NMI, as Nova's driver reports it.
        self.action(server_id, {'os-resetState': {'state': 'error'}})
        event = self.event(server_id, self.crash_dump(server_id))
        self.assertEqual('Error', event['result'])
        self.assertEqual(f'Instance {server_id} is not running.', event['details'])
        self.assertTrue(base.domstate(server_id).startswith('shut off'))
        server = self.client.show(server_id)
        self.assertEqual('ERROR', server['status'])
        self.assertEqual(4, server['OS-EXT-STS:power_state'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
