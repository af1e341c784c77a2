"""The trigger_crash_dump server action (2.17+) against the real app and a fake-driver
agent: Nova's schema per microversion, policy, lock and state 409s, the instance action
and its host event, and a guest that is not running (the event fails, nothing else
changes)."""
from __future__ import annotations

import time

from kumo_common import states
from kumo_common.db import instances as instance_db
from kumo_common.db import session
from kumo_common.states import power
from tests.fixtures import cloud
from tests.unit.api import roles

ADMIN = cloud.ADMIN_TOKEN
BODY = {'trigger_crash_dump': None}


class TestTriggerCrashDump(roles.OwnServerTestCase):
    def setUp(self):
        super().setUp()
        self.driver = self.cloud.agents[0].driver

    def act(self, body=None, version='2.17', token=None, headers=None):
        return self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                  token=token or self.token, version=version,
                                  json=BODY if body is None else body, headers=headers)

    def crash_dump_actions(self) -> list[dict]:
        resp = self.cloud.request('GET', f'/v2.1/servers/{self.server_id}/os-instance-actions',
                                  token=ADMIN)
        return [a for a in resp.json['instanceActions'] if a['action'] == 'trigger_crash_dump']

    def finished_event(self, timeout: float = 10) -> tuple[dict, dict]:
        """(the action, its one event) once the agent's outcome is recorded."""
        deadline = time.monotonic() + timeout
        while True:
            (action,) = self.crash_dump_actions()
            resp = self.cloud.request(
                'GET', f"/v2.1/servers/{self.server_id}/os-instance-actions/"
                f"{action['request_id']}", token=ADMIN, version='2.84')
            found = resp.json['instanceAction']
            if found['events'] and found['events'][0]['finish_time']:
                return found, found['events'][0]
            self.assertLess(time.monotonic(), deadline, found)
            time.sleep(0.02)

    def set_state(self, **values) -> None:
        with session.transaction() as s:
            self.assertTrue(instance_db.update_if(s, self.server_id, values))

    def assert_conflict(self, resp, message: str) -> None:
        self.assertEqual(409, resp.status_code, resp.get_data(True))
        self.assertEqual({'conflictingRequest': {'code': 409, 'message': message}}, resp.json)

    # --- what it does ------------------------------------------------------------------
    def test_sends_the_guest_an_nmi_and_records_novas_event(self):
        resp = self.act()
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        self.assertEqual(b'', resp.data)
        action, event = self.finished_event()
        self.assertEqual('trigger_crash_dump', action['action'])
        self.assertIsNone(action['message'])
        self.assertEqual('compute_trigger_crash_dump', event['event'])
        self.assertEqual('Success', event['result'])
        self.assertEqual('compute1', event['host'])
        self.assertEqual(1, self.driver.crash_dumps[self.server_id])
        # No task, no state change: the guest decides what an NMI means.
        server = self.cloud.get_server(self.server_id)
        self.assertEqual('ACTIVE', server['status'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        self.assertEqual(power.RUNNING, server['OS-EXT-STS:power_state'])

    def test_a_paused_server_takes_it_too(self):
        self.assertEqual(202, self.act({'pause': None}).status_code)
        self.cloud.wait_settled(self.server_id, 'PAUSED')
        self.assertEqual(202, self.act().status_code)
        _action, event = self.finished_event()
        self.assertEqual('Success', event['result'])
        self.assertEqual(1, self.driver.crash_dumps[self.server_id])

    def test_guest_not_running_fails_the_event_only(self):
        # An ERROR server (allowed) whose guest is off: Nova's InstanceNotRunning.
        self.driver.power_off(self.server_id)
        self.set_state(vm_state=states.ERROR)
        self.assertEqual(202, self.act().status_code)
        action, event = self.finished_event()
        self.assertEqual('Error', action['message'])
        self.assertEqual('Error', event['result'])
        self.assertEqual(f'Instance {self.server_id} is not running.', event['details'])
        self.assertNotIn(self.server_id, self.driver.crash_dumps)
        server = self.cloud.get_server(self.server_id)
        self.assertEqual('ERROR', server['status'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        self.assertIsNone(server.get('fault'))

    # --- microversions and schema --------------------------------------------------------
    def test_before_2_17_there_is_no_such_method(self):
        # Nova's versioned action method: a bare 404 below its minimum.
        for version in (None, '2.16'):
            resp = self.act(version=version)
            self.assertEqual(404, resp.status_code, version)
            self.assertEqual({'itemNotFound': {
                'code': 404, 'message': 'The resource could not be found.'}}, resp.json)
        self.assertEqual([], self.crash_dump_actions())

    def test_the_value_must_be_null(self):
        for value in ({}, 'x', True, {'a': 1}):
            resp = self.act({'trigger_crash_dump': value})
            self.assertEqual(400, resp.status_code, value)
            self.assertIn('Invalid input for field/attribute trigger_crash_dump',
                          resp.json['badRequest']['message'])
        resp = self.act({'trigger_crash_dump': None}, version='2.100')
        self.assertEqual(202, resp.status_code, resp.get_data(True))

    # --- policy ------------------------------------------------------------------------
    def test_reader_and_other_projects_are_refused(self):
        resp = self.act(headers=roles.READER)
        self.assertEqual(403, resp.status_code)
        self.assertEqual("Policy doesn't allow os_compute_api:servers:trigger_crash_dump "
                         "to be performed.", resp.json['forbidden']['message'])
        resp = self.act(token=self.new_token())
        self.assertEqual(404, resp.status_code)
        self.assertEqual([], self.crash_dump_actions())
        self.assertEqual(202, self.act(token=ADMIN).status_code)

    # --- lock and states ---------------------------------------------------------------
    def test_locked_server_refuses_all_but_admins(self):
        self.assertEqual(202, self.act({'lock': None}).status_code)
        self.assert_conflict(self.act(), f'Instance {self.server_id} is locked')
        self.assertEqual([], self.crash_dump_actions())
        self.assertEqual(202, self.act(token=ADMIN).status_code)
        self.finished_event()

    def test_states_nova_refuses(self):
        self.assertEqual(202, self.act({'os-stop': None}).status_code)
        self.cloud.wait_settled(self.server_id, 'SHUTOFF')
        self.assert_conflict(self.act(), f"Cannot 'trigger_crash_dump' instance "
                             f'{self.server_id} while it is in vm_state stopped')
        self.set_state(vm_state=states.ACTIVE, task_state='rebooting')
        self.assert_conflict(self.act(), f"Cannot 'trigger_crash_dump' instance "
                             f'{self.server_id} while it is in task_state rebooting')
        self.set_state(task_state=None, host=None)
        self.assert_conflict(self.act(), f'Instance {self.server_id} is not ready')
        self.assertEqual([], self.crash_dump_actions())
