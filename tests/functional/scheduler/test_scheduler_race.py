"""Two schedulers racing for the last room: claims cannot overcommit a host nor break
a hard anti-affinity group.

One stack for the class (tests/fixtures/stack.py): kumo-api, two kumo-conductor and
two kumo-scheduler processes (both consuming the scheduler topic: RabbitMQ hands the
calls to one or the other) and three kumo-compute agents (fake driver), on a fresh
RabbitMQ vhost and a fresh PostgreSQL database. Each agent offers room for exactly
four m1.small servers (RAM: 512 MB reserved + 4 x 2048 MB). 50 creates are POSTed at
once from 50 client threads while both schedulers are frozen (SIGSTOP); once the 50
select_destinations calls wait in the scheduler queue, both are resumed together and
make their 50 decisions at the same time (each runs its calls in a thread pool),
from host states that lag behind each other's claims: only the database's
conditional claims (and the group lock) keep the hosts honest.

What must hold once every server is ACTIVE or ERROR:
* exactly as many ACTIVE as the cloud has room for (12 m1.small; 3 group members, one
  per host, under a hard anti-affinity group), every other one ERROR with a
  NoValidHost fault;
* no host over its capacity, and each node's usage in the database equals the sum of
  the flavors of the ACTIVE servers on it (no claim leaked by a lost race or a
  failed build, none missing);
* both schedulers took part (each logged decisions), and claims did collide (the
  scheduling reports record claims lost to a concurrent one).
"""
from __future__ import annotations

import collections
import concurrent.futures
import signal
import threading
import time

import sqlalchemy as sa
import testtools
from testtools import content

from tests.fixtures import database, rabbit, stack

COMPUTES = 3
SMALL = {'id': '2', 'vcpus': 1, 'memory_mb': 2048, 'disk_gb': 20}   # m1.small
TINY = {'id': '1', 'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1}      # m1.tiny
RESERVED_MB = 512
PER_HOST = 4                                          # m1.small per host, by RAM
HOST_MEMORY_MB = RESERVED_MB + PER_HOST * SMALL['memory_mb']
CREATES = 50
SETTLE_TIMEOUT = 180  # seconds for 50 builds to end, on a shared 2-core machine


class TestSchedulerRace(testtools.TestCase):

    stack: stack.ProcessStack | None = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack = None
        if database.backend_available('postgresql') and rabbit.unavailable_reason() is None:
            new = stack.ProcessStack(
                'postgresql', computes=COMPUTES, schedulers=2, conductors=2,
                extra_config={
                    'DEFAULT': {'reserved_host_memory_mb': RESERVED_MB,
                                'ram_allocation_ratio': 1.0},
                    'compute': {'fake_memory_mb': HOST_MEMORY_MB},
                    'api': {'threads': 64},
                    # Every build's select_destinations call in flight at once.
                    'conductor': {'executor_threads': 32},
                    'quota': {'instances': -1, 'cores': -1, 'ram': -1,
                              'server_groups': -1, 'server_group_members': -1},
                    # Every decision is a race: no random pick among the best hosts,
                    # so both schedulers aim at the same (emptiest) host.
                    'filter_scheduler': {'host_subset_size': 1},
                })
            new.start()
            cls.stack = new

    @classmethod
    def tearDownClass(cls):
        if cls.stack is not None:
            cls.stack.cleanUp()
            cls.stack = None
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        database.require_backend(self, 'postgresql')
        rabbit.require_rabbit(self)
        self.assertIsNotNone(self.stack, 'the stack did not start')
        self.client = self.stack.client
        self.addOnException(self._attach_logs)
        # Each test starts from an empty cloud (the other test deletes what it made).
        self.assertEqual({h: (0, 0, 0) for h in self.stack.compute_hosts}, self.usage())

    def _attach_logs(self, _exc_info) -> None:
        if self.stack is not None:
            self.addDetail('stack-logs', content.text_content(self.stack.diagnostics(60)))

    # --- helpers ---------------------------------------------------------------------
    def usage(self) -> dict[str, tuple[int, int, int]]:
        """host -> (vcpus_used, memory_mb_used, local_gb_used) of its compute node."""
        with self.stack._engine.connect() as conn:
            return {row.host: (row.vcpus_used, row.memory_mb_used, row.local_gb_used)
                    for row in conn.execute(sa.text(
                        'SELECT host, vcpus_used, memory_mb_used, local_gb_used '
                        'FROM compute_nodes WHERE NOT deleted'))}

    def capacity(self) -> dict[str, tuple[float, float, float]]:
        """host -> usable (vcpus, memory MB, disk GB), ratios and reservations applied
        (the claim's own arithmetic)."""
        with self.stack._engine.connect() as conn:
            return {row.host: ((row.vcpus - row.reserved_host_cpus) * row.cpu_allocation_ratio,
                               (row.memory_mb - row.reserved_host_memory_mb)
                               * row.ram_allocation_ratio,
                               (row.local_gb - row.reserved_host_disk_mb / 1024.0)
                               * row.disk_allocation_ratio)
                    for row in conn.execute(sa.text(
                        'SELECT * FROM compute_nodes WHERE NOT deleted'))}

    def allocations(self) -> dict[str, str]:
        """instance uuid -> host of every claim in the database."""
        with self.stack._engine.connect() as conn:
            return dict(conn.execute(sa.text(
                'SELECT a.instance_uuid, n.host FROM allocations a '
                'JOIN compute_nodes n ON n.id = a.compute_node_id')).all())

    def create_concurrently(self, flavor: dict, hints: dict | None = None) -> list[str]:
        """POST CREATES servers at once, one client (HTTP session) per thread."""
        body = {'server': {'name': 'race', 'flavorRef': flavor['id'],
                           'imageRef': stack.IMAGE_ID, 'networks': 'none'}}
        if hints:
            body['os:scheduler_hints'] = hints
        start = threading.Barrier(CREATES)

        def create(_n):
            client = stack.Client(self.stack.endpoint)
            try:
                start.wait(30)
                response = client.post('/v2.1/servers', json=body, timeout=60)
            finally:
                client.http.close()
            self.assertEqual(202, response.status_code, response.text)
            return response.json()['server']['id']

        resume = self.freeze_schedulers()
        with concurrent.futures.ThreadPoolExecutor(CREATES) as pool:
            ids = list(pool.map(create, range(CREATES)))
        self.addCleanup(self.delete_all, ids)
        self.assertEqual(CREATES, len(set(ids)))
        self.wait_for_queued_calls(CREATES)
        resume()
        return ids

    def freeze_schedulers(self):
        """SIGSTOP every scheduler; returns the function that resumes them all."""
        procs = [self.stack.processes[name] for name in self.stack.schedulers]

        def resume():
            for proc in procs:
                proc.send_signal(signal.SIGCONT)

        for proc in procs:
            proc.send_signal(signal.SIGSTOP)
        self.addCleanup(resume)  # whatever happens, never leave them stopped
        return resume

    def wait_for_queued_calls(self, count: int, timeout: float = 60) -> None:
        """Until `count` select_destinations calls wait in the scheduler queue."""
        deadline = time.monotonic() + timeout
        while True:
            queued = rabbit.queue_messages(self.stack.rabbit.vhost).get('scheduler', 0)
            if queued >= count:
                return
            if time.monotonic() > deadline:
                self.fail(f'only {queued} of {count} select_destinations calls reached '
                          f'the scheduler queue in {timeout}s')
            time.sleep(0.2)

    def settle(self, ids: list[str]) -> dict[str, dict]:
        """Wait until every server is ACTIVE or ERROR with no task; their details."""
        deadline = time.monotonic() + SETTLE_TIMEOUT
        wanted = set(ids)
        while True:
            servers = {s['id']: s for s in self.client.list_servers(detail=True)
                       if s['id'] in wanted}
            busy = [s for s in servers.values()
                    if s['status'] not in ('ACTIVE', 'ERROR')
                    or s['OS-EXT-STS:task_state'] is not None]
            if len(servers) == len(wanted) and not busy:
                return servers
            if time.monotonic() > deadline:
                self.fail(f'{len(busy)} of {len(ids)} servers not settled after '
                          f'{SETTLE_TIMEOUT}s: ' + ', '.join(
                              f'{s["id"]} {s["status"]}/{s["OS-EXT-STS:task_state"]}'
                              for s in busy[:10]))
            time.sleep(0.5)

    def delete_all(self, ids: list[str]) -> None:
        for server_id in ids:
            response = self.client.delete_path(f'/v2.1/servers/{server_id}')
            self.assertIn(response.status_code, (204, 404), response.text)
        for server_id in ids:
            self.client.wait_gone(server_id, timeout=60)
        # Everything claimed was given back.
        self.assertEqual({h: (0, 0, 0) for h in self.stack.compute_hosts}, self.usage())
        self.assertEqual({}, self.allocations())

    def assertOutcome(self, servers: dict[str, dict], flavor: dict, active: int) -> list:
        """`active` servers ACTIVE, the rest ERROR with NoValidHost; no host over its
        capacity; usage == sum of the ACTIVE servers' flavors, host by host."""
        by_status = collections.Counter(s['status'] for s in servers.values())
        self.addDetail('outcome', content.text_content(str(dict(by_status))))
        self.assertEqual({'ACTIVE': active, 'ERROR': CREATES - active}, dict(by_status))
        placed = [s for s in servers.values() if s['status'] == 'ACTIVE']
        for server in servers.values():
            if server['status'] == 'ERROR':
                fault = server.get('fault') or {}
                # Nova's words, then the scheduling report's summary.
                self.assertTrue(fault.get('message', '').startswith(
                    'No valid host was found. There are not enough hosts available. '),
                    (server['id'], fault))
                self.assertIsNone(server['OS-EXT-SRV-ATTR:host'], server['id'])
        expected = {h: [0, 0, 0] for h in self.stack.compute_hosts}
        for server in placed:
            totals = expected[server['OS-EXT-SRV-ATTR:host']]
            for i, key in enumerate(('vcpus', 'memory_mb', 'disk_gb')):
                totals[i] += flavor[key]
        usage = self.usage()
        self.assertEqual({h: tuple(v) for h, v in expected.items()}, usage)
        for host, room in self.capacity().items():
            for used, limit in zip(usage[host], room, strict=True):
                self.assertLessEqual(used, limit, f'{host} overcommitted: {usage[host]} '
                                                  f'of {room}')
        # The claims are the ACTIVE servers' and on their hosts; none leaked.
        self.assertEqual({s['id']: s['OS-EXT-SRV-ATTR:host'] for s in placed},
                         self.allocations())
        return placed

    def assertBothSchedulersDecided(self, ids: list[str]) -> None:
        decided = {}
        for name in self.stack.schedulers:
            log = self.stack.read_log(name)
            decided[name] = sum(1 for uuid in ids if uuid in log)
        self.addDetail('decisions-per-scheduler', content.text_content(str(decided)))
        self.assertEqual(2, len(decided))
        for name, count in decided.items():
            self.assertGreater(count, 0, f'{name} decided nothing: {decided}')

    def verdict(self, server_id: str) -> str:
        """Why the scheduler placed it nowhere: its scheduling report's summary."""
        response = self.client.get(f'/v2.1/servers/{server_id}/scheduling-report')
        self.assertEqual(200, response.status_code, response.text)
        return response.json()['scheduling_report']['summary']

    def lost_claims(self, ids: list[str]) -> int:
        """Claims that lost a race (recorded in the scheduling reports): evidence that
        the schedulers did collide, reported, not asserted (timing decides)."""
        lost = 0
        for server_id in ids:
            response = self.client.get(f'/v2.1/servers/{server_id}/scheduling-report')
            if response.status_code == 200:
                report = response.json()['scheduling_report']
                lost += sum(1 for c in report['claims'] if c['result'] != 'claimed')
        return lost

    # --- the races -------------------------------------------------------------------
    def test_capacity_race(self):
        ids = self.create_concurrently(SMALL)
        servers = self.settle(ids)
        placed = self.assertOutcome(servers, SMALL, active=COMPUTES * PER_HOST)
        per_host = collections.Counter(s['OS-EXT-SRV-ATTR:host'] for s in placed)
        self.assertEqual({h: PER_HOST for h in self.stack.compute_hosts}, dict(per_host))
        errors = [s for s in servers.values() if s['status'] == 'ERROR']
        verdicts = [self.verdict(s['id']) for s in errors]
        self.assertTrue(any('RamFilter' in v for v in verdicts), verdicts[:5])
        self.assertBothSchedulersDecided(ids)
        lost = self.lost_claims(ids)
        self.addDetail('claims-lost-to-races', content.text_content(str(lost)))
        self.assertGreater(lost, 0, 'no claim collided: the race was not exercised')

    def test_anti_affinity_race(self):
        response = self.client.post('/v2.1/os-server-groups', json={
            'server_group': {'name': 'race', 'policy': 'anti-affinity'}})
        self.assertEqual(200, response.status_code, response.text)
        group = response.json()['server_group']['id']
        self.addCleanup(self.client.delete_path, f'/v2.1/os-server-groups/{group}')
        ids = self.create_concurrently(TINY, hints={'group': group})
        servers = self.settle(ids)
        placed = self.assertOutcome(servers, TINY, active=COMPUTES)
        self.assertEqual(sorted(self.stack.compute_hosts),
                         sorted(s['OS-EXT-SRV-ATTR:host'] for s in placed))
        # The group lists every member, placed or not (as Nova), and the placed ones
        # are each on their own host.
        members = self.client.get(f'/v2.1/os-server-groups/{group}').json()[
            'server_group']['members']
        self.assertEqual(set(ids), set(members))
        # Refused by the filter, or (a stale host state) by the claim's group check.
        for server in servers.values():
            if server['status'] == 'ERROR':
                verdict = self.verdict(server['id'])
                self.assertTrue('ServerGroupAntiAffinityFilter' in verdict
                                or 'lost to concurrent claims' in verdict, verdict)
        self.assertBothSchedulersDecided(ids)
        lost = self.lost_claims(ids)
        self.addDetail('claims-lost-to-races', content.text_content(str(lost)))
        self.assertGreater(lost, 0, 'no claim collided: the race was not exercised')
