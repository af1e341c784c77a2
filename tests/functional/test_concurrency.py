"""Concurrent requests through the real API: quota admission and racing actions.

* 50 creates at once, one server each, against a project quota of 10 instances:
  exactly 10 are accepted (202) and 40 refused (403), exactly 10 servers exist and
  the project's usage says 10, whatever the interleaving.
* 20 requests at once on one ACTIVE server (stop, start, reboot, pause, unpause,
  lock, unlock, and deletes among them): every answer is a 2xx, 404 or 409, never a
  5xx; afterwards the server is either gone with everything it held released
  (quota usage, host resources), or settled (no task_state) in a state whose power
  state agrees with it; and every accepted action was recorded.

Twice: on SQLite with the in-process cloud (tests/fixtures/cloud.py: the Flask app,
conductor, scheduler and fake agents in this process, one test client per thread),
and on PostgreSQL with every service its own process behind waitress
(tests/fixtures/stack.py ProcessStack, RabbitMQ), over HTTP.
"""
from __future__ import annotations

import collections
import concurrent.futures
import threading
import time
import uuid

import requests
import testtools

from tests.fixtures import cloud, database, rabbit, stack

VERSION = '2.100'
ADMIN = 'admin:admin'
QUOTA = 10
CREATES = 50
RACERS = 20
SETTLE_TIMEOUT = 60
# vm_state -> the power state (OS-EXT-STS:power_state) a settled server must show.
POWER_OF = {'active': 1, 'stopped': 4, 'paused': 3}
# The racing requests: (action body or 'DELETE') cycled over the threads.
RACE = [{'os-stop': None}, {'os-start': None}, {'reboot': {'type': 'SOFT'}},
        {'pause': None}, {'unpause': None}, {'lock': None}, {'unlock': None},
        {'reboot': {'type': 'HARD'}}, 'DELETE']


class _Concurrency:
    """The tests; a class below says how requests are sent (`call`)."""

    def call(self, method: str, path: str, token: str, json=None,
             version: str = VERSION) -> tuple[int, object]:
        raise NotImplementedError

    def new_project(self) -> tuple[str, str]:
        project = f'race-{uuid.uuid4().hex[:10]}'
        return f'user-{uuid.uuid4().hex[:6]}:{project}', project

    def expect(self, status: int, method: str, path: str, token: str, json=None,
               version: str = VERSION):
        code, body = self.call(method, path, token, json, version)
        self.assertEqual(status, code, f'{method} {path}: {body}')
        return body

    def server_body(self, name: str) -> dict:
        return {'server': {'name': name, 'flavorRef': '1', 'imageRef': stack.IMAGE_ID,
                           'networks': 'auto'}}

    def at_once(self, calls: list) -> list[tuple[int, object]]:
        """Run the calls (each (method, path, token, json)) from one thread each,
        released together by a barrier."""
        barrier = threading.Barrier(len(calls))

        def one(args):
            barrier.wait(30)
            return self.call(*args)

        with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(one, calls))

    def wait_for(self, what: str, predicate, timeout: float = SETTLE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                self.fail(f'timed out after {timeout}s waiting for {what}')
            time.sleep(0.05)

    def server(self, server_id: str) -> dict | None:
        code, body = self.call('GET', f'/v2.1/servers/{server_id}', ADMIN)
        if code == 404:
            return None
        self.assertEqual(200, code, body)
        return body['server']

    def usage(self, project: str) -> dict[str, int]:
        body = self.expect(200, 'GET', f'/v2.1/os-quota-sets/{project}/detail', ADMIN)
        return {r: body['quota_set'][r]['in_use'] for r in ('instances', 'cores', 'ram')}

    def vcpus_used(self) -> int:
        body = self.expect(200, 'GET', '/v2.1/os-hypervisors/detail', ADMIN,
                           version='2.87')
        return sum(h['vcpus_used'] for h in body['hypervisors'])  # until 2.87

    # --- quota -------------------------------------------------------------------------
    def test_quota_admits_exactly_the_limit(self):
        token, project = self.new_project()
        self.expect(200, 'PUT', f'/v2.1/os-quota-sets/{project}', ADMIN,
                    {'quota_set': {'instances': QUOTA}})
        results = self.at_once([('POST', '/v2.1/servers', token,
                                 self.server_body(f'q{n}')) for n in range(CREATES)])
        codes = collections.Counter(code for code, _ in results)
        self.assertEqual({202: QUOTA, 403: CREATES - QUOTA}, dict(codes),
                         [body for code, body in results if code not in (202, 403)])
        for code, body in results:
            if code == 403:
                self.assertIn('Quota exceeded for instances', body['forbidden']['message'])
        accepted = {body['server']['id'] for code, body in results if code == 202}
        listed = self.expect(200, 'GET', '/v2.1/servers', token)['servers']
        self.assertEqual(accepted, {s['id'] for s in listed})
        self.assertEqual(QUOTA, self.usage(project)['instances'])
        for server_id in accepted:  # they are real servers
            self.wait_for(f'{server_id} ACTIVE',
                          lambda sid=server_id: self.server(sid)['status'] == 'ACTIVE')
        for server_id in accepted:
            self.expect(204, 'DELETE', f'/v2.1/servers/{server_id}', token)
        for server_id in accepted:
            self.wait_for(f'{server_id} gone', lambda sid=server_id: self.server(sid) is None)
        self.assertEqual({'instances': 0, 'cores': 0, 'ram': 0}, self.usage(project))

    # --- racing actions ----------------------------------------------------------------------
    def _race(self, with_deletes: bool) -> tuple[str, str, str, list]:
        token, project = self.new_project()
        code, body = self.call('POST', '/v2.1/servers', token, self.server_body('racer'))
        self.assertEqual(202, code, body)
        server_id = body['server']['id']
        self.wait_for('ACTIVE', lambda: self.server(server_id)['status'] == 'ACTIVE')
        race = RACE if with_deletes else RACE[:-1]
        calls = []
        for n in range(RACERS):
            what = race[n % len(race)]
            if what == 'DELETE':
                calls.append(('DELETE', f'/v2.1/servers/{server_id}', token, None))
            else:
                calls.append(('POST', f'/v2.1/servers/{server_id}/action', token, what))
        results = self.at_once(calls)
        for (method, _path, _token, what), (code, body) in zip(calls, results, strict=True):
            self.assertIn(code, (202, 204, 404, 409), f'{method} {what}: {code} {body}')
            self.assertLess(code, 500)
        return token, project, server_id, list(zip(calls, results, strict=True))

    def test_racing_actions_leave_a_consistent_server(self):
        token, _project, server_id, results = self._race(with_deletes=False)

        def settled():
            server = self.server(server_id)
            return server if server['OS-EXT-STS:task_state'] is None else None

        server = self.wait_for('no task_state', settled)
        self.assertIn(server['OS-EXT-STS:vm_state'], POWER_OF, server)
        self.assertEqual(POWER_OF[server['OS-EXT-STS:vm_state']],
                         server['OS-EXT-STS:power_state'], server)
        self.assertNotEqual('ERROR', server['status'], server.get('fault'))
        # Every accepted action is recorded once (and the create); a lock of a locked
        # server is a silent no-op for its owner (Nova's), so at most once.
        actions = self.expect(200, 'GET', f'/v2.1/servers/{server_id}/os-instance-actions',
                              token)['instanceActions']
        recorded = collections.Counter(a['action'] for a in actions)
        accepted = collections.Counter(
            next(iter(call[3])).removeprefix('os-')
            for call, (code, _body) in results if code == 202)
        report = f'{[(c[3], r[0]) for c, r in results]}\nrecorded: {recorded}'
        self.assertEqual(1, recorded.pop('create'), report)
        self.assertLessEqual(recorded.pop('lock', 0), accepted.pop('lock', 0), report)
        self.assertEqual(accepted, recorded, report)
        # And the server still works: it can be deleted and is gone.
        if server['locked']:
            self.expect(202, 'POST', f'/v2.1/servers/{server_id}/action', token,
                        {'unlock': None})
        self.expect(204, 'DELETE', f'/v2.1/servers/{server_id}', token)
        self.wait_for('gone', lambda: self.server(server_id) is None)

    def test_racing_actions_and_deletes_release_everything(self):
        vcpus_before = self.vcpus_used()
        token, project, server_id, _results = self._race(with_deletes=True)

        def gone_or_settled():
            server = self.server(server_id)
            if server is None:
                return 'gone'
            return server if server['OS-EXT-STS:task_state'] is None else None

        server = self.wait_for('gone or settled', gone_or_settled)
        if server != 'gone':
            # Every delete lost the race (to a lock, say): the server must still be
            # whole, and delete as usual.
            self.assertNotEqual('ERROR', server['status'], server.get('fault'))
            if server['locked']:
                self.expect(202, 'POST', f'/v2.1/servers/{server_id}/action', token,
                            {'unlock': None})
            self.expect(204, 'DELETE', f'/v2.1/servers/{server_id}', token)
            self.wait_for('gone', lambda: self.server(server_id) is None)
        self.assertEqual({'instances': 0, 'cores': 0, 'ram': 0}, self.usage(project))
        self.wait_for('host resources released', lambda: self.vcpus_used() == vcpus_before,
                      timeout=10)


class TestConcurrencyInProcessSQLite(_Concurrency, testtools.TestCase):
    """The in-process cloud on SQLite; each thread its own Flask test client."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cloud = cloud.InProcessCloud(computes=2)
        cls.cloud.setUp()
        cls.addClassCleanup(cls.cloud.cleanUp)
        cls.local = threading.local()

    def call(self, method, path, token, json=None, version=VERSION):
        client = getattr(self.local, 'client', None)
        if client is None:
            client = self.local.client = self.cloud.app.test_client()
        headers = {'X-Auth-Token': token, 'OpenStack-API-Version': f'compute {version}'}
        resp = client.open(path, method=method, json=json, headers=headers)
        return resp.status_code, resp.get_json(silent=True)


class TestConcurrencyPostgreSQL(_Concurrency, testtools.TestCase):
    """Separate service processes on PostgreSQL and RabbitMQ, over HTTP."""

    stack: stack.ProcessStack | None = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack = None
        if database.backend_available('postgresql') and rabbit.unavailable_reason() is None:
            new = stack.ProcessStack('postgresql', computes=2,
                                     extra_config={'api': {'threads': 64}})
            new.start()
            cls.stack = new
        cls.local = threading.local()

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

    def call(self, method, path, token, json=None, version=VERSION):
        session = getattr(self.local, 'session', None)
        if session is None:
            session = self.local.session = requests.Session()
        headers = {'X-Auth-Token': token, 'OpenStack-API-Version': f'compute {version}'}
        resp = session.request(method, self.stack.endpoint + path, json=json,
                               headers=headers, timeout=60)
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, None
