"""Soft delete on the real test guest ([DEFAULT] reclaim_instance_interval > 0): the
delete powers the domain off and keeps it; restore starts the same guest again;
forceDelete removes the domain and every file. And os-getConsoleOutput reads the
guest's own serial log, `length` honoured."""
from __future__ import annotations

import os

from tests.guest import base


class TestSoftDeleteOnAGuest(base.GuestTestCase):
    EXTRA_CONFIG = {'DEFAULT': {'reclaim_instance_interval': 3600}}

    def test_soft_delete_restore_force_delete(self):
        server_id = self.boot('guest-soft', config_drive=True)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'^KUMO-GUEST: ready')
        instance_dir = self.stack.instance_dir(server_id)

        response = self.client.delete_path(f'/v2.1/servers/{server_id}')
        self.assertEqual(204, response.status_code, response.text)
        self.wait_server(server_id, 'SOFT_DELETED', power_state=4)
        self.assertEqual('shut off', base.domstate(server_id))
        self.assertTrue(os.path.isdir(instance_dir))

        # Refused from SOFT_DELETED, as Nova: only restore and forceDelete apply.
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'os-start': None})
        self.assertEqual(409, response.status_code, response.text)

        self.action(server_id, {'restore': None})
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertEqual('running', base.domstate(server_id))
        # The same guest, booted again from its own disk.
        self.wait_console(server_id, r'^KUMO-GUEST: ready', count=2)

        self.client.delete_path(f'/v2.1/servers/{server_id}')
        self.wait_server(server_id, 'SOFT_DELETED', power_state=4)
        self.action(server_id, {'forceDelete': None})
        self.client.wait_gone(server_id, timeout=base.STATE_TIMEOUT)
        self.assertNotIn(server_id, base.domain_uuids())
        self.assertFalse(os.path.exists(instance_dir))

    def test_console_output_is_the_guests_serial_log(self):
        server_id = self.boot('guest-console', user_data='echo console-marker-5521\n',
                              config_drive=True)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'console-marker-5521')
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'os-getConsoleOutput': {}})
        self.assertEqual(200, response.status_code, response.text)
        output = response.json()['output']
        self.assertIn('console-marker-5521', output)
        self.assertIn('KUMO-GUEST', output)
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'os-getConsoleOutput': {'length': 3}})
        self.assertEqual(200, response.status_code, response.text)
        tail = response.json()['output']
        self.assertLessEqual(len(tail.splitlines()), 3)
        self.assertTrue(output.rstrip('\n').endswith(tail.rstrip('\n')) or
                        tail.rstrip('\n') in self.console(server_id))
