"""The agent's operations are keyed by instance and request: a cast delivered twice
runs once, a late one is refused, and the reaper's question gets the truth."""
from __future__ import annotations

import datetime
import threading
import time

import testtools

from kumo_common import context, objects
from kumo_common.states import power
from kumo_compute import ledger
from kumo_compute.manager import ComputeManager
from kumo_compute.virt.fake import FakeDriver
from tests.fixtures import cloud


class RecordingConductor:
    """The conductor the agent reports to: records what it was told."""

    def __init__(self):
        self.builds: list[objects.BuildResult] = []
        self.destroyed: list[str] = []
        self.actions: list[tuple] = []

    def build_finished(self, ctxt, result):
        self.builds.append(result)

    def instance_destroyed(self, ctxt, instance_uuid, host):
        self.destroyed.append(instance_uuid)

    def action_finished(self, ctxt, instance_uuid, host, action, success, power_state,
                        error=None, result=None, traceback=None):
        self.actions.append((ctxt.request_id, action, success, power_state))


class CountingDriver(FakeDriver):
    def __init__(self, host):
        super().__init__(host)
        self.spawns = 0
        self.gate = threading.Event()
        self.gate.set()

    def spawn(self, build):
        self.gate.wait(10)
        self.spawns += 1
        super().spawn(build)


def _build(uuid='u1', attempt=1, deadline=None) -> objects.InstanceBuild:
    return objects.InstanceBuild(
        uuid=uuid, name='vm', hostname='vm', project_id='p', user_id='u',
        flavor=objects.FlavorSpec(flavorid='1', name='m1.tiny', vcpus=1, memory_mb=512,
                                  root_gb=1),
        image=None, node_uuid='n1', attempt=attempt, deadline=deadline)


def _utc(seconds: float) -> str:
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return (now + datetime.timedelta(seconds=seconds)).isoformat()


class TestIdempotentAgent(testtools.TestCase):
    def setUp(self):
        super().setUp()
        cloud.ensure_conf_parsed()
        self.driver = CountingDriver('compute1')
        self.conductor = RecordingConductor()
        self.manager = ComputeManager('compute1', self.driver, self.conductor)
        self.ctxt = context.RequestContext(request_id='req-1', overwrite=False)

    def test_a_build_delivered_twice_is_built_once_and_reported_twice(self):
        self.manager.build_and_run_instance(self.ctxt, _build())
        self.manager.build_and_run_instance(self.ctxt, _build())
        self.assertEqual(1, self.driver.spawns)
        self.assertEqual([True, True], [r.success for r in self.conductor.builds])

    def test_a_build_delivered_twice_at_once_is_built_once(self):
        self.driver.gate.clear()
        first = threading.Thread(target=self.manager.build_and_run_instance,
                                 args=(self.ctxt, _build()))
        first.start()
        self.addCleanup(first.join, 10)
        deadline = time.monotonic() + 10
        while self.manager.check_instance(self.ctxt, 'u1').busy != 'build':
            self.assertLess(time.monotonic(), deadline, 'the first build never started')
            time.sleep(0.005)
        self.manager.build_and_run_instance(self.ctxt, _build())   # running: ignored
        self.driver.gate.set()
        first.join(10)
        self.assertEqual(1, self.driver.spawns)
        self.assertEqual(1, len(self.conductor.builds))

    def test_a_build_after_its_deadline_is_refused(self):
        self.manager.build_and_run_instance(self.ctxt, _build(deadline=_utc(-1)))
        self.assertEqual(0, self.driver.spawns)
        self.assertEqual([], self.conductor.builds)
        self.manager.build_and_run_instance(self.ctxt, _build(deadline=_utc(60)))
        self.assertEqual(1, self.driver.spawns)

    def test_a_fenced_build_is_refused_and_another_attempt_is_not(self):
        check = self.manager.check_instance(self.ctxt, 'u1', build_attempt=1, fence=True)
        self.assertTrue(check.fenced)
        self.assertFalse(check.exists)
        self.assertIsNone(check.busy)
        self.manager.build_and_run_instance(self.ctxt, _build(attempt=1))
        self.assertEqual(0, self.driver.spawns)
        self.manager.build_and_run_instance(self.ctxt, _build(attempt=2))
        self.assertEqual(1, self.driver.spawns)

    def test_a_finished_build_is_not_fenced_and_its_outcome_is_told(self):
        self.manager.build_and_run_instance(self.ctxt, _build())
        check = self.manager.check_instance(self.ctxt, 'u1', build_attempt=1, fence=True)
        self.assertFalse(check.fenced)
        self.assertTrue(check.exists)
        self.assertEqual(power.RUNNING, check.power_state)
        self.assertEqual({'attempt': 1, 'success': True, 'error': None,
                          'power_state': power.RUNNING}, check.build)

    def test_a_guest_that_exists_is_not_built_again(self):
        # As after an agent restart: the hypervisor has it, the ledger does not.
        self.driver.spawn(_build())
        self.manager.build_and_run_instance(self.ctxt, _build())
        self.assertEqual(1, self.driver.spawns)
        self.assertTrue(self.conductor.builds[0].success)

    def test_an_action_delivered_twice_runs_once(self):
        self.manager.build_and_run_instance(self.ctxt, _build())
        stop = context.RequestContext(request_id='req-stop', overwrite=False)
        self.manager.perform_action(stop, 'u1', 'stop')
        self.driver.power_on('u1')   # so that running it again would show
        self.manager.perform_action(stop, 'u1', 'stop')
        self.assertEqual(power.RUNNING, self.driver.power_state('u1'))
        self.assertEqual([('req-stop', 'stop', True, power.SHUTDOWN)] * 2,
                         self.conductor.actions)
        check = self.manager.check_instance(self.ctxt, 'u1', request_id='req-stop')
        self.assertEqual({'action': 'stop', 'success': True, 'error': None,
                          'power_state': power.SHUTDOWN}, check.actions['req-stop'])

    def test_a_fenced_action_is_refused(self):
        self.manager.build_and_run_instance(self.ctxt, _build())
        check = self.manager.check_instance(self.ctxt, 'u1', request_id='req-late',
                                            fence=True)
        self.assertTrue(check.fenced)
        self.manager.perform_action(context.RequestContext(request_id='req-late',
                                                           overwrite=False), 'u1', 'stop')
        self.assertEqual(power.RUNNING, self.driver.power_state('u1'))
        self.assertEqual([], self.conductor.actions)

    def test_terminate_is_idempotent_and_reported_each_time(self):
        self.manager.build_and_run_instance(self.ctxt, _build())
        self.manager.terminate_instance(self.ctxt, 'u1')
        self.manager.terminate_instance(self.ctxt, 'u1')
        self.assertEqual(['u1', 'u1'], self.conductor.destroyed)
        self.assertFalse(self.manager.check_instance(self.ctxt, 'u1').exists)
        # And a build arriving after the delete builds nothing.
        self.manager.build_and_run_instance(self.ctxt, _build(attempt=2))
        self.assertEqual([], self.driver.list_instances())


class TestLedger(testtools.TestCase):
    def test_verdicts(self):
        book = ledger.Ledger()
        key = ledger.build_key(1)
        self.assertEqual(ledger.GO, book.begin('u', key, 'build'))
        self.assertEqual(ledger.RUNNING, book.begin('u', key, 'build'))
        book.finish('u', key, {'attempt': 1, 'success': False, 'error': 'x',
                               'power_state': 0})
        self.assertEqual(ledger.DONE, book.begin('u', key, 'build'))
        self.assertEqual(ledger.GO, book.begin('u', ledger.build_key(2), 'build'))
        self.assertTrue(book.check('u', request_id='r', fence=True).fenced)
        self.assertEqual(ledger.FENCED, book.begin('u', ledger.action_key('r'), 'stop'))

    def test_expired(self):
        self.assertFalse(ledger.expired(None))
        self.assertTrue(ledger.expired(_utc(-0.5)))
        self.assertFalse(ledger.expired(_utc(30)))
