"""Evacuate after a compute agent really died, and the agent's return: a whole cloud
(API, conductor, scheduler, two agents, real database) where compute agent A stops
(its heartbeat too, its hypervisor keeps the guest), its service goes down after a
short service_down_time, the server is evacuated and runs on B; then A starts again
on the same hypervisor, destroys its copy of the server before its power sync runs,
the migration is `completed` and A's old claim is given back."""
from __future__ import annotations

import os
import time

import sqlalchemy as sa
import testtools

from kumo_common.db import models, session
from kumo_common.db import server_migrations as migration_db
from tests.fixtures import cloud

ADMIN = cloud.ADMIN_TOKEN


class TestEvacuateDeadAgent(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.cloud = self.useFixture(cloud.InProcessCloud(computes=2, overrides={
            (None, 'service_down_time'): 4, (None, 'report_interval'): 1,
            (None, 'sync_power_state_interval'): 1}))

    def wait(self, predicate, what, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            self.assertLess(time.monotonic(), deadline, f'never: {what}')
            time.sleep(0.1)

    def service_state(self, host):
        resp = self.cloud.request('GET', '/v2.1/os-services', token=ADMIN)
        return next(s['state'] for s in resp.json['services'] if s['host'] == host
                    and s['binary'] == 'nova-compute')

    def claims(self, server_id):
        a, cn, m = models.Allocation, models.ComputeNode, models.Migration
        with session.reader() as s:
            owners = [server_id] + list(s.scalars(
                sa.select(m.uuid).where(m.instance_uuid == server_id)))
            rows = s.execute(sa.select(a.instance_uuid, cn.host)
                             .join(cn, cn.id == a.compute_node_id)
                             .where(a.instance_uuid.in_(owners))).all()
        return sorted(('server' if owner == server_id else 'migration', host)
                      for owner, host in rows)

    def restart(self, dead):
        """The agent `dead` starts again on the same hypervisor (fake driver)."""
        from kumo_compute.cmd import ComputeAgent
        back = ComputeAgent(dead.host, '127.0.1.9', cloud.CONF.cell_name,
                            os.path.join(cloud.CONF.state_path, 'computes', dead.host))
        for part in (back, back.manager, back.reporter, back.power_sync):
            part.driver = dead.driver
        back.start()
        self.addCleanup(back.stop)
        return back

    def test_evacuated_then_the_old_agent_cleans_up(self):
        server_id = self.cloud.create_server(token=ADMIN)['id']
        server = self.cloud.wait_settled(server_id, 'ACTIVE')
        source = server['OS-EXT-SRV-ATTR:host']
        agents = {a.host: a for a in self.cloud.agents}
        dead = agents[source]
        dest = next(h for h in agents if h != source)
        self.assertIn(server_id, dead.driver.list_instances())

        # While the agent runs, its service is up: no evacuation.
        resp = self.cloud.request('POST', f'/v2.1/servers/{server_id}/action', token=ADMIN,
                                  version='2.94', json={'evacuate': {}})
        self.assertEqual(400, resp.status_code)
        self.assertEqual(f'Compute service of {source} is still in use.',
                         resp.json['badRequest']['message'])

        dead.stop()   # the agent dies; its hypervisor (the fake driver) keeps the guest
        self.wait(lambda: self.service_state(source) == 'down', f'{source} down')
        resp = self.cloud.request('POST', f'/v2.1/servers/{server_id}/action', token=ADMIN,
                                  version='2.94', json={'evacuate': {}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        server = self.cloud.wait_settled(server_id, 'ACTIVE', timeout=20)
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertIn(server_id, agents[dest].driver.list_instances())
        with session.reader() as s:
            migration = migration_db.for_instance(s, server_id)[-1]
        self.assertEqual(('evacuation', 'done'), (migration.migration_type,
                                                   migration.status))
        self.assertEqual([('migration', source), ('server', dest)],
                         self.claims(server_id))

        # The agent comes back on the same hypervisor, whose guest it must not keep.
        self.restart(dead)
        self.assertNotIn(server_id, dead.driver.list_instances())
        with session.reader() as s:
            self.assertEqual(migration_db.COMPLETED,
                             migration_db.get(s, migration.uuid).status)
        self.assertEqual([('server', dest)], self.claims(server_id))
        self.wait(lambda: self.service_state(source) == 'up', f'{source} up again')
        # Its power sync leaves the server (on the other host) alone.
        time.sleep(1.5)
        server = self.cloud.get_server(server_id)
        self.assertEqual(('ACTIVE', None, dest),
                         (server['status'], server['OS-EXT-STS:task_state'],
                          server['OS-EXT-SRV-ATTR:host']))
        self.assertIn(server_id, agents[dest].driver.list_instances())
        listed = self.cloud.request('GET', '/v2.1/os-migrations', token=ADMIN,
                                    version='2.23').json['migrations']
        self.assertEqual([('evacuation', 'completed', source, dest)],
                         [(m['migration_type'], m['status'], m['source_compute'],
                           m['dest_compute']) for m in listed
                          if m['instance_uuid'] == server_id])

    def test_agent_back_while_the_evacuation_runs(self):
        """The source returns before the new host has built the server: its copy goes
        at once, and the migration completes (its old claim given back) when the
        evacuation ends, without waiting for another restart."""
        server_id = self.cloud.create_server(token=ADMIN)['id']
        source = self.cloud.wait_settled(server_id, 'ACTIVE')['OS-EXT-SRV-ATTR:host']
        agents = {a.host: a for a in self.cloud.agents}
        dead = agents[source]
        dest = next(h for h in agents if h != source)
        dead.stop()
        self.wait(lambda: self.service_state(source) == 'down', f'{source} down')
        # The new host takes its time to build the server.
        cloud.CONF.set_override('fake_spawn_delay', 8.0, 'compute')
        self.addCleanup(cloud.CONF.clear_override, 'fake_spawn_delay', 'compute')
        resp = self.cloud.request('POST', f'/v2.1/servers/{server_id}/action', token=ADMIN,
                                  version='2.94', json={'evacuate': {}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.restart(dead)
        self.assertNotIn(server_id, dead.driver.list_instances())
        with session.reader() as s:
            migration = migration_db.for_instance(s, server_id)[-1]
        self.assertIn(migration.status, (migration_db.ACCEPTED, migration_db.PRE_MIGRATING))
        self.assertEqual('REBUILD', self.cloud.get_server(server_id)['status'])

        server = self.cloud.wait_settled(server_id, 'ACTIVE', timeout=20)
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])

        def completed():
            with session.reader() as s:
                return migration_db.get(s, migration.uuid).status == migration_db.COMPLETED
        self.wait(completed, 'the evacuation completed')
        self.assertEqual([('server', dest)], self.claims(server_id))
        self.assertIn(server_id, agents[dest].driver.list_instances())
        self.assertNotIn(server_id, dead.driver.list_instances())
