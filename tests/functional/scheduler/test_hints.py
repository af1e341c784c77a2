"""Every scheduler hint changes a real placement: a whole in-process cloud (real API,
conductor, scheduler and three fake compute agents with distinct host IPs; AZs by
aggregate; one node moved to another cell), servers booted through the API."""
from __future__ import annotations

import uuid as uuidlib

import fixtures
import sqlalchemy as sa
import testtools
from oslo_config import cfg

from kumo_common.db import models, session
from tests.fixtures import cloud

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN
XLARGE = '5'  # 16384 MB: one per fake host (32768 MB - 512 reserved)
# A server's fault when no host passed: Nova's words (the why: its scheduling report).
NO_HOST = 'No valid host was found. There are not enough hosts available.'


class TestHintsPlaceServers(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # No heartbeats during a test: the cell label set below must stay put.
        self.cloud = self.useFixture(cloud.InProcessCloud(
            computes=3, overrides={(None, 'report_interval'): 3600,
                                   ('quota', 'cores'): -1, ('quota', 'ram'): -1,
                                   ('quota', 'instances'): -1}))
        with session.transaction() as s:
            s.execute(sa.update(models.ComputeNode)
                      .where(models.ComputeNode.host == 'compute3')
                      .values(cell_name='cell2'))
            agg = models.Aggregate(uuid=str(uuidlib.uuid4()), name='rack-a')
            s.add(agg)
            s.flush()
            s.add(models.AggregateHost(aggregate_id=agg.id, host='compute1'))
            s.add(models.AggregateMetadata(aggregate_id=agg.id, key='availability_zone',
                                           value='az-a'))

    # --- helpers ---------------------------------------------------------------------
    def boot(self, hints=None, status='ACTIVE', token=cloud.DEMO_TOKEN, **server) -> str:
        body = {'name': 'vm', 'flavorRef': server.pop('flavorRef', cloud.FLAVOR_TINY),
                'imageRef': cloud.IMAGE_ID, 'networks': 'none', **server}
        payload = {'server': body}
        if hints is not None:
            payload['os:scheduler_hints'] = hints
        resp = self.cloud.request('POST', '/v2.1/servers', token=token, version='2.74',
                                  json=payload)
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        server_id = resp.json['server']['id']
        self.cloud.wait_for_status(server_id, status)
        return server_id

    def host_of(self, server_id: str) -> str | None:
        with session.reader() as s:
            return s.scalar(sa.select(models.Instance.host)
                            .where(models.Instance.uuid == server_id))

    def group(self, policy: str, rules: dict | None = None) -> str:
        group_id = str(uuidlib.uuid4())
        with session.transaction() as s:
            s.add(models.ServerGroup(uuid=group_id, name='g', project_id='demo',
                                     user_id='demo', policy=policy, rules=rules or {}))
        return group_id

    def fault(self, server_id: str) -> str:
        return self.cloud.get_server(server_id)['fault']['message']

    def verdict(self, server_id: str) -> str:
        """Why no host passed: the scheduling report's summary (the fault says Nova's
        NO_HOST, then this)."""
        resp = self.cloud.request('GET', f'/v2.1/servers/{server_id}/scheduling-report',
                                  token=cloud.ADMIN_TOKEN)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return resp.json['scheduling_report']['summary']

    # --- hints -------------------------------------------------------------------------
    def test_same_host_and_different_host(self):
        first = self.boot()
        here = self.host_of(first)
        for _ in range(2):
            self.assertEqual(here, self.host_of(self.boot({'same_host': first})))
        # A string or a list, as Nova.
        self.assertNotEqual(here, self.host_of(self.boot({'different_host': [first]})))

    def test_build_near_host_ip_and_cidr(self):
        server = self.boot({'build_near_host_ip': '127.0.1.2', 'cidr': '/32'})
        self.assertEqual('compute2', self.host_of(server))
        # /24 holds every host: the hint no longer decides.
        server = self.boot({'build_near_host_ip': '127.0.2.9', 'cidr': '/24'},
                           status='ERROR')
        self.assertEqual(f'{NO_HOST} {self.verdict(server)}', self.fault(server))
        self.assertIn('3 removed by SimpleCIDRAffinityFilter', self.verdict(server))

    def test_query(self):
        server = self.boot({'query': '["=", "$host", "compute3"]'})
        self.assertEqual('compute3', self.host_of(server))
        server = self.boot({'query': '["and", [">=", "$free_ram_mb", 1024], '
                                     '["in", "$host", "compute1", "compute2"]]'})
        self.assertIn(self.host_of(server), ('compute1', 'compute2'))

    def test_cells(self):
        server = self.boot({'target_cell': 'cell2'})
        self.assertEqual('compute3', self.host_of(server))
        other = self.boot({'different_cell': [server]})
        self.assertIn(self.host_of(other), ('compute1', 'compute2'))
        other = self.boot({'different_cell': 'cell1'})
        self.assertEqual('compute3', self.host_of(other))

    def test_availability_zone_from_aggregate(self):
        for _ in range(2):
            self.assertEqual('compute1', self.host_of(self.boot(availability_zone='az-a')))
        self.assertIn(self.host_of(self.boot(availability_zone='nova')),
                      ('compute2', 'compute3'))

    def test_anti_affinity_multiple_create_spreads_then_refuses(self):
        group = self.group('anti-affinity')
        resp = self.cloud.request('POST', '/v2.1/servers', version='2.74', json={
            'server': {'name': 'aa', 'flavorRef': cloud.FLAVOR_TINY,
                       'imageRef': cloud.IMAGE_ID, 'networks': 'none', 'min_count': 3,
                       'max_count': 3, 'return_reservation_id': True},
            'os:scheduler_hints': {'group': group}})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        with session.reader() as s:
            uuids = list(s.scalars(sa.select(models.Instance.uuid).where(
                models.Instance.reservation_id == resp.json['reservation_id'])))
        for uuid in uuids:
            self.cloud.wait_for_status(uuid, 'ACTIVE')
        self.assertEqual({'compute1', 'compute2', 'compute3'},
                         {self.host_of(u) for u in uuids})
        fourth = self.boot({'group': group}, status='ERROR')
        self.assertEqual(f'{NO_HOST} {self.verdict(fourth)}', self.fault(fourth))
        self.assertEqual('0 of 3 hosts: 3 removed by ServerGroupAntiAffinityFilter',
                         self.verdict(fourth))

    def test_max_server_per_host(self):
        group = self.group('anti-affinity', {'max_server_per_host': 2})
        hosts = [self.host_of(self.boot({'group': group}, flavorRef='1')) for _ in range(6)]
        self.assertEqual({'compute1': 2, 'compute2': 2, 'compute3': 2},
                         {h: hosts.count(h) for h in set(hosts)})

    def test_affinity(self):
        group = self.group('affinity')
        first = self.host_of(self.boot({'group': group}))
        self.assertEqual(first, self.host_of(self.boot({'group': [group]})))

    def test_soft_anti_affinity_weighs(self):
        group = self.group('soft-anti-affinity')
        hosts = {self.host_of(self.boot({'group': group})) for _ in range(3)}
        self.assertEqual({'compute1', 'compute2', 'compute3'}, hosts)

    # --- API refusals ----------------------------------------------------------------
    def _create(self, hints, **server):
        body = {'name': 'vm', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID,
                'networks': 'none', **server}
        return self.cloud.request('POST', '/v2.1/servers', version='2.74',
                                  token=server.pop('token', cloud.DEMO_TOKEN),
                                  json={'server': body, 'os:scheduler_hints': hints})

    def test_bad_hints_are_400(self):
        for hints, words in (
                ({'same_host': 'not-a-uuid'}, 'os:scheduler_hints/same_host'),
                ({'different_host': ['x']}, 'os:scheduler_hints/different_host'),
                ({'cidr': '24'}, 'os:scheduler_hints/cidr'),
                ({'build_near_host_ip': '1.2.3'}, 'os:scheduler_hints/build_near_host_ip'),
                ({'query': '["~", 1]'}, "unknown operator '~'"),
                ({'query': '[">="'}, 'The query must be JSON'),
                ({'group': str(uuidlib.uuid4())}, 'could not be found')):
            resp = self._create(hints)
            self.assertEqual(400, resp.status_code, hints)
            self.assertIn(words, resp.json['badRequest']['message'])
        with session.reader() as s:
            self.assertEqual(0, s.scalar(sa.select(sa.func.count(models.Instance.id))))

    def test_hint_of_a_disabled_filter_is_400(self):
        cloud_filters = ['ComputeFilter', 'RamFilter']
        self.useFixture(_Override('enabled_filters', cloud_filters, 'filter_scheduler'))
        resp = self._create({'same_host': str(uuidlib.uuid4())})
        self.assertEqual(400, resp.status_code)
        self.assertEqual("Scheduler hint 'same_host' needs the SameHostFilter filter, "
                         'which is not enabled: add it to [filter_scheduler] '
                         'enabled_filters.', resp.json['badRequest']['message'])
        group = self.group('anti-affinity')
        resp = self._create({'group': group})
        self.assertIn('ServerGroupAntiAffinityFilter', resp.json['badRequest']['message'])
        # Unknown hints are still accepted (the object is open, as Nova).
        self.assertEqual(202, self._create({'my_hint': 'x'}).status_code)

    def test_forced_host_and_requested_destination_need_admin(self):
        resp = self._create({}, availability_zone='nova:compute2')
        self.assertEqual(403, resp.status_code)
        server = self.boot({}, token=ADMIN, availability_zone='nova:compute3')
        self.assertEqual('compute3', self.host_of(server))
        report = self.report(server)
        self.assertEqual(['ForcedHost'], [f['name'] for f in report['filters']])

    # --- explain -----------------------------------------------------------------------
    def report(self, server_id, token=ADMIN):
        resp = self.cloud.request('GET', f'/v2.1/servers/{server_id}/scheduling-report',
                                  token=token)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return resp.json['scheduling_report']

    def test_scheduling_report_is_kept_with_the_server(self):
        first = self.boot()
        server = self.boot({'different_host': first})
        report = self.report(server)
        self.assertEqual('placed', report['result'])
        self.assertEqual(1, report['attempt'])
        steps = {f['name']: f for f in report['filters']}
        step = steps['DifferentHostFilter']
        self.assertEqual((3, 2, 1), (step['hosts_in'], step['hosts_out'],
                                     step['removed_count']))
        [removed] = step['removed']
        self.assertEqual((self.host_of(first), 'different_host.colocated'),
                         (removed['host'], removed['code']))
        self.assertEqual(f'different_host: runs {first}', removed['reason'])
        self.assertEqual(self.host_of(server), report['selected']['host'])
        self.assertEqual(2, len(report['weights']))
        self.assertIn('RAMWeigher', report['weights'][0]['by_weigher'])
        resp = self.cloud.request('GET', f'/v2.1/servers/{server}/scheduling-report')
        self.assertEqual(403, resp.status_code)

    def test_no_valid_host_report(self):
        servers = [self.boot(flavorRef=XLARGE) for _ in range(3)]
        self.assertEqual(3, len({self.host_of(s) for s in servers}))
        server = self.boot(flavorRef=XLARGE, status='ERROR')
        # Nova's words in the fault, then the report's summary; the whole account in
        # the report.
        report = self.report(server)
        self.assertEqual(f"{NO_HOST} {report['summary']}",
                         self.cloud.get_server(server)['fault']['message'])
        self.assertEqual('0 of 3 hosts: 3 removed by RamFilter', report['summary'])
        self.assertEqual('no_valid_host', report['result'])
        ram = [f for f in report['filters'] if f['name'] == 'RamFilter'][0]
        self.assertEqual({'ram.insufficient': 3}, ram['removed_by_code'])
        self.assertIn('ram: needs 16384 MB, free 15872 MB', ram['removed'][0]['reason'])

    def test_dry_run_claims_nothing(self):
        body = {'server': {'name': 'x', 'flavorRef': XLARGE, 'imageRef': cloud.IMAGE_ID,
                           'networks': 'none', 'min_count': 3, 'max_count': 3},
                'os:scheduler_hints': {'group': self.group('anti-affinity')}}
        self.assertEqual(403, self.cloud.request('POST', '/v2.1/scheduler/dry-run',
                                                 version='2.74', json=body).status_code)
        for _ in range(2):  # twice: the first claimed nothing
            resp = self.cloud.request('POST', '/v2.1/scheduler/dry-run', token=ADMIN,
                                      version='2.74', json=body)
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            result = resp.json['dry_run']
            self.assertEqual('placed', result['result'])
            self.assertEqual(['compute1', 'compute2', 'compute3'],
                             sorted(h['host'] for h in result['hosts']))
            self.assertEqual(3, len(result['reports']))
        with session.reader() as s:
            self.assertEqual(0, s.scalar(sa.select(sa.func.count(models.Allocation.id))))
        # 2.74 requested destination: narrows, the filters still run.
        body = {'server': {'name': 'x', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID,
                           'networks': 'none', 'host': 'compute2'}}
        result = self.cloud.request('POST', '/v2.1/scheduler/dry-run', token=ADMIN,
                                    version='2.74', json=body).json['dry_run']
        self.assertEqual(['compute2'], [h['host'] for h in result['hosts']])
        names = [f['name'] for f in result['reports'][0]['filters']]
        self.assertEqual('RequestedDestination', names[0])
        self.assertIn('RamFilter', names)
        body['server']['host'] = 'nosuchhost'
        resp = self.cloud.request('POST', '/v2.1/scheduler/dry-run', token=ADMIN,
                                  version='2.74', json=body)
        self.assertEqual(400, resp.status_code)
        self.assertIn('Compute host nosuchhost could not be found',
                      resp.json['badRequest']['message'])
        # No room: the report says why.
        body = {'server': {'name': 'x', 'flavorRef': XLARGE, 'imageRef': cloud.IMAGE_ID,
                           'networks': 'none', 'min_count': 4, 'max_count': 4}}
        result = self.cloud.request('POST', '/v2.1/scheduler/dry-run', token=ADMIN,
                                    version='2.74', json=body).json['dry_run']
        self.assertEqual('no_valid_host', result['result'])
        self.assertEqual('0 of 3 hosts: 3 removed by RamFilter', result['summary'])

    def test_capabilities(self):
        resp = self.cloud.request('GET', '/v2.1/scheduler/capabilities', token=ADMIN)
        self.assertEqual(200, resp.status_code)
        caps = resp.json['capabilities']
        names = [f['name'] for f in caps['filters']]
        self.assertEqual(CONF.filter_scheduler.enabled_filters, names)
        same = [f for f in caps['filters'] if f['name'] == 'SameHostFilter'][0]
        self.assertEqual(['same_host'], same['hints'])
        self.assertTrue(caps['hints']['same_host']['enabled'])
        self.assertIn({'name': 'BuildFailureWeigher',
                       'option': '[filter_scheduler] build_failure_weight_multiplier',
                       'multiplier': 1000000.0, 'hints': []}, caps['weighers'])
        self.assertEqual(403, self.cloud.request(
            'GET', '/v2.1/scheduler/capabilities').status_code)


class _Override(fixtures.Fixture):
    """One config option set for the test (the API reads it per request)."""

    def __init__(self, name, value, group=None):
        super().__init__()
        self.name, self.value, self.group = name, value, group

    def _setUp(self):
        CONF.set_override(self.name, self.value, group=self.group)
        self.addCleanup(CONF.clear_override, self.name, group=self.group)
