"""Lost steps are re-driven once, or ended truthfully: the reaper against a real cloud.

Each test puts a server in the state a failure leaves behind (a conductor that died
after claiming, a report RabbitMQ dropped, a build that never reached its host) by
writing that state to the database and, where it matters, making the agent forget
(as an agent restart does); then runs the reaper and checks where the server ends,
where its guests are, and what it still claims.
"""
from __future__ import annotations

import datetime
import threading
import time

import sqlalchemy as sa
import testtools

from kumo_common import context, objects, states
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, recovery, session
from kumo_compute import ledger
from kumo_conductor.manager import ConductorManager
from kumo_conductor.reaper import Reaper
from tests.fixtures import cloud

task = states.task


def _past(seconds=5):
    return models.utcnow() - datetime.timedelta(seconds=seconds)


class _RedriveTest(testtools.TestCase):
    OVERRIDES: dict = {}

    def setUp(self):
        super().setUp()
        overrides = {('conductor', 'agent_rpc_timeout'): 2, **self.OVERRIDES}
        self.cloud = self.useFixture(cloud.InProcessCloud(computes=2, overrides=overrides))
        self.reaper = Reaper(ConductorManager())
        self.ctxt = context.get_admin_context()

    # --- helpers -------------------------------------------------------------------------
    def active_server(self, name='vm') -> tuple[str, str]:
        server = self.cloud.create_server(name)
        view = self.cloud.wait_for_status(server['id'], 'ACTIVE')
        return server['id'], view['OS-EXT-SRV-ATTR:host']

    def agent(self, host: str):
        return next(a for a in self.cloud.agents if a.host == host)

    def guests(self, uuid: str) -> list[str]:
        return [a.host for a in self.cloud.agents if uuid in a.driver.list_instances()]

    def forget(self, uuid: str, host: str) -> None:
        """As an agent restart that lost the guest: no guest, no memory of it."""
        agent = self.agent(host)
        agent.driver.destroy(uuid)
        agent.manager.ledger = ledger.Ledger()

    def set_row(self, uuid: str, **values) -> None:
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(models.Instance.uuid == uuid)
                      .values(**values))

    def row(self, uuid: str) -> models.Instance:
        with session.reader() as s:
            return instance_db.get_instance(s, uuid)

    def claims(self, uuid: str) -> int:
        with session.reader() as s:
            return s.scalar(sa.select(sa.func.count()).select_from(models.Allocation)
                            .where(models.Allocation.instance_uuid == uuid))

    def wait_for(self, predicate, what: str, timeout: float = 10):
        deadline = time.monotonic() + timeout
        while not predicate():
            self.assertLess(time.monotonic(), deadline, f'never: {what}')
            time.sleep(0.02)


class TestBuildRedrive(_RedriveTest):

    def test_a_lost_build_report_is_recovered_from_the_agent(self):
        uuid, host = self.active_server()
        # The report never arrived: the database still says spawning.
        self.set_row(uuid, vm_state=states.BUILDING, task_state=task.SPAWNING,
                     task_deadline=_past(), launched_at=None)
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        view = self.cloud.wait_for_status(uuid, 'ACTIVE')
        self.assertNotIn('fault', view)
        self.assertEqual([host], self.guests(uuid))
        self.assertEqual(1, self.claims(uuid))

    def test_a_build_that_never_arrived_is_fenced_and_rescheduled(self):
        uuid, host = self.active_server()
        self.forget(uuid, host)
        self.set_row(uuid, vm_state=states.BUILDING, task_state=task.SPAWNING,
                     task_deadline=_past(), launched_at=None)
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        view = self.cloud.wait_for_status(uuid, 'ACTIVE')
        other = view['OS-EXT-SRV-ATTR:host']
        self.assertNotEqual(host, other)
        self.assertEqual([other], self.guests(uuid))
        self.assertEqual(1, self.claims(uuid))
        # The build of attempt 1, should it reach the first host now, is refused.
        late = objects.InstanceBuild(
            uuid=uuid, name='vm', hostname='vm', project_id='p', user_id='u',
            flavor=objects.FlavorSpec(flavorid='1', name='m1.tiny', vcpus=1,
                                      memory_mb=512, root_gb=1),
            image=None, node_uuid='n', attempt=1)
        self.agent(host).manager.build_and_run_instance(self.ctxt, late)
        self.assertEqual([other], self.guests(uuid))

    def test_a_stray_guest_built_late_is_destroyed_and_the_server_kept(self):
        uuid, host = self.active_server()
        other = next(a.host for a in self.cloud.agents if a.host != host)
        # The server moved to `other` (rescheduled); `host` reports its build late.
        self.set_row(uuid, host=other)
        self.agent(other).driver.spawn(objects.InstanceBuild(
            uuid=uuid, name='vm', hostname='vm', project_id='p', user_id='u',
            flavor=objects.FlavorSpec(flavorid='1', name='m1.tiny', vcpus=1,
                                      memory_mb=512, root_gb=1),
            image=None, node_uuid='n'))
        self.reaper.conductor.build_finished(self.ctxt, objects.BuildResult(
            instance_uuid=uuid, host=host, success=True, power_state=1))
        self.wait_for(lambda: self.guests(uuid) == [other], 'the stray guest destroyed')
        time.sleep(0.2)   # the destroy report came back and changed nothing
        view = self.cloud.get_server(uuid)
        self.assertEqual('ACTIVE', view['status'])
        self.assertEqual(other, view['OS-EXT-SRV-ATTR:host'])


class TestSchedulingRedrive(_RedriveTest):

    def lost_scheduling(self, deadline=None) -> str:
        """A server whose conductor died after the scheduler claimed for it."""
        uuid, host = self.active_server()
        self.forget(uuid, host)
        self.set_row(uuid, vm_state=states.BUILDING, task_state=task.SCHEDULING,
                     task_deadline=deadline or _past(), host=None, node=None,
                     task_request_id='req-of-a-dead-conductor', launched_at=None)
        self.assertEqual(1, self.claims(uuid))
        return uuid

    def redrive_events(self, uuid: str) -> int:
        with session.reader() as s:
            return recovery.redrives(s, uuid, task.SCHEDULING)

    def test_two_reapers_redrive_it_once(self):
        uuid = self.lost_scheduling()
        results = []
        second = Reaper(ConductorManager())
        threads = [threading.Thread(target=lambda r=r: results.append(r.run_once(self.ctxt)))
                   for r in (self.reaper, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(1, sum(results))
        self.cloud.wait_for_status(uuid, 'ACTIVE')
        self.assertEqual(1, len(self.guests(uuid)))
        self.assertEqual(1, self.claims(uuid))   # the dead pass's claim was given back
        self.assertEqual(1, self.redrive_events(uuid))

    def test_a_build_delivered_twice_is_scheduled_once(self):
        uuid = self.lost_scheduling(deadline=models.utcnow()
                                    + datetime.timedelta(seconds=60))
        self.set_row(uuid, task_request_id=None)
        with session.transaction() as s:
            node_db.free_allocations(s, uuid)
        with session.reader() as s:
            record = s.query(models.RequestSpecRecord).filter_by(instance_uuid=uuid).one()
            spec = record.spec
        conductor = ConductorManager()
        threads = [threading.Thread(target=conductor.build_instances,
                                    args=(self.ctxt, objects.Payload.from_primitive(spec)))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.cloud.wait_for_status(uuid, 'ACTIVE')
        self.assertEqual(1, len(self.guests(uuid)))
        self.assertEqual(1, self.claims(uuid))


class TestSchedulingRedrivesBounded(_RedriveTest):
    OVERRIDES = {('conductor', 'max_step_redrives'): 0}

    def test_it_fails_with_a_fault_and_gives_everything_back(self):
        uuid, host = self.active_server()
        self.forget(uuid, host)
        self.set_row(uuid, vm_state=states.BUILDING, task_state=task.NETWORKING,
                     task_deadline=_past(), launched_at=None)
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        view = self.cloud.get_server(uuid)
        self.assertEqual('ERROR', view['status'])
        self.assertIn(f'Build timed out in step networking on {host} after',
                      view['fault']['message'])
        self.assertEqual(0, self.claims(uuid))
        with session.reader() as s:
            self.assertEqual(0, s.scalar(sa.select(sa.func.count()).select_from(
                models.Port).where(models.Port.device_id == uuid)))


class TestDeleteAndActionRedrive(_RedriveTest):

    def test_a_lost_destroy_report_completes_the_delete(self):
        uuid, host = self.active_server()
        self.agent(host).driver.destroy(uuid)
        self.set_row(uuid, task_state=task.DELETING, task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.cloud.wait_for_status(uuid, 'DELETED')
        self.assertEqual(0, self.claims(uuid))

    def test_an_overdue_delete_with_the_guest_there_is_sent_again(self):
        uuid, host = self.active_server()
        self.set_row(uuid, task_state=task.DELETING, task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        self.cloud.wait_for_status(uuid, 'DELETED')
        self.assertEqual([], self.guests(uuid))

    def test_a_lost_action_report_is_recovered(self):
        uuid, host = self.active_server()
        resp = self.cloud.request('POST', f'/v2.1/servers/{uuid}/action',
                                  token=cloud.ADMIN_TOKEN, json={'os-stop': None})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        self.cloud.wait_for_status(uuid, 'SHUTOFF')
        # The agent stopped it; the report of it was lost.
        self.set_row(uuid, vm_state=states.ACTIVE, task_state=task.POWERING_OFF,
                     task_deadline=_past(), power_state=states.power.RUNNING)
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        view = self.cloud.wait_for_status(uuid, 'SHUTOFF')
        self.assertNotIn('fault', view)

    def test_an_action_that_never_arrived_ends_with_a_fault_and_is_fenced(self):
        uuid, host = self.active_server()
        asked = context.RequestContext(request_id='req-lost-stop', user_id='admin',
                                       project_id='admin', overwrite=False)
        with session.transaction() as s:
            instance_db.start_action(s, uuid, 'stop', asked)
        self.set_row(uuid, task_state=task.POWERING_OFF, task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        view = self.cloud.get_server(uuid)
        self.assertEqual('ACTIVE', view['status'])
        self.assertIsNone(view['OS-EXT-STS:task_state'])
        # Nova shows no fault while the server is ACTIVE: the action's event says why.
        resp = self.cloud.request('GET', f'/v2.1/servers/{uuid}/os-instance-actions/'
                                  'req-lost-stop', token=cloud.ADMIN_TOKEN, version='2.84')
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        action = resp.json['instanceAction']
        self.assertEqual('Error', action['message'])
        [event] = action['events']
        self.assertEqual(('compute_stop_instance', 'Error', host),
                         (event['event'], event['result'], event['host']))
        self.assertIn(f'Task powering-off timed out on {host}', event['details'])
        self.assertIn('never reached the host', event['details'])
        # The stop, arriving now, is refused: the server stays as the database says.
        self.agent(host).manager.perform_action(asked, uuid, 'stop')
        self.assertEqual(states.power.RUNNING, self.agent(host).driver.power_state(uuid))

    def test_claims_nobody_owns_are_given_back(self):
        uuid, host = self.active_server()
        other = next(a.host for a in self.cloud.agents if a.host != host)
        with session.transaction() as s:
            node = s.scalars(sa.select(models.ComputeNode)
                             .where(models.ComputeNode.host == other)).one()
            used = node.vcpus_used
            # A claim a timed-out scheduling call made after the conductor gave up.
            self.assertTrue(node_db.claim(s, node.id, uuid, 1, 512, 1))
        self.assertEqual(2, self.claims(uuid))
        self.reaper.run_once(self.ctxt)
        self.assertEqual(1, self.claims(uuid))
        with session.reader() as s:
            self.assertEqual(used, s.scalars(sa.select(models.ComputeNode.vcpus_used)
                                             .where(models.ComputeNode.host == other)).one())


class TestDeletesWaitForDeadHosts(_RedriveTest):
    OVERRIDES = {('conductor', 'complete_deletes_on_dead_hosts'): False}

    def test_the_delete_waits_for_the_host(self):
        uuid, _host = self.active_server()
        self.set_row(uuid, task_state=task.DELETING, host='ghost', task_deadline=_past())
        self.assertEqual(1, self.reaper.run_once(self.ctxt))
        row = self.row(uuid)
        self.assertEqual(task.DELETING, row.task_state)
        self.assertGreater(row.task_deadline, models.utcnow())
        self.assertEqual(0, row.deleted)
