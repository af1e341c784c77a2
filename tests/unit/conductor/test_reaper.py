"""The deadline reaper ends overdue steps truthfully, and only once."""
import datetime
import time

import testtools

from kumo_common import context, states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_conductor.manager import ConductorManager
from kumo_conductor.reaper import Reaper
from tests.fixtures import cloud


def _past(seconds=5):
    return models.utcnow() - datetime.timedelta(seconds=seconds)


class TestReaper(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.cloud = self.useFixture(cloud.InProcessCloud(
            computes=1, overrides={('compute', 'fake_spawn_delay'): 1.5,
                                   ('conductor', 'spawn_timeout'): 1}))
        self.reaper = Reaper(ConductorManager())
        self.ctxt = context.get_admin_context()

    def test_spawn_past_its_deadline_ends_in_error_with_a_fault(self):
        server = self.cloud.create_server('slow')
        deadline = time.monotonic() + 5
        while True:
            view = self.cloud.get_server(server['id'])
            if view['OS-EXT-STS:task_state'] == 'spawning':
                break
            self.assertLess(time.monotonic(), deadline, 'never reached spawning')
            time.sleep(0.01)
        time.sleep(1.1)  # past the 1 s spawn deadline, before the 1.5 s spawn ends
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        view = self.cloud.get_server(server['id'])
        self.assertEqual('ERROR', view['status'])
        self.assertIn('Build timed out in step spawning on compute1', view['fault']['message'])
        # A second reaper (another conductor) finds nothing left to do.
        self.assertEqual(0, self.reaper.run_once(self.ctxt))
        # The late success report from the agent does not resurrect the server.
        time.sleep(1.0)
        self.assertEqual('ERROR', self.cloud.get_server(server['id'])['status'])

    def test_overdue_delete_on_a_dead_host_is_completed(self):
        server = self.cloud.create_server('orphan')
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        with session.transaction() as s:
            # As if the delete was sent to a host that has since died.
            self.assertTrue(instance_db.update_if(
                s, server['id'], {'task_state': states.task.DELETING, 'host': 'ghost',
                                  'task_deadline': _past()}))
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.cloud.wait_for_status(server['id'], 'DELETED', timeout=5)

    def test_idle_servers_are_left_alone(self):
        server = self.cloud.create_server('fine')
        self.cloud.wait_for_status(server['id'], 'ACTIVE', timeout=5)
        self.assertEqual(0, self.reaper.run_once(self.ctxt))
        with session.reader() as s:
            self.assertIsNone(instance_db.get_instance(s, server['id']).task_deadline)
