"""os-hosts end to end (deprecated; 2.1 to 2.42): the hosts of the services and their
zones, a compute host's resources, enabling and disabling a compute host (its
service, as os-services shows it), maintenance mode and power actions (501: no
driver does them), bad bodies, 404 from 2.43 and admin-only policy."""
from __future__ import annotations

import collections

from oslo_config import cfg

from tests.fixtures import cloud

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN
LAST = '2.42'
NOT_SUPPORTED = 'The requested functionality is not supported.'
POWER_ACTIONS = (('startup', 'start'), ('shutdown', 'shutdown'), ('reboot', 'reboot'))


class HostsTestCase(cloud.CloudTestCase):

    def req(self, method, path, token=ADMIN, version=LAST, json=None):
        return self.cloud.request(method, f'/v2.1/os-hosts{path}', token=token,
                                  version=version, json=json)

    def ok(self, resp):
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return resp.json

    def fault(self, resp, code, message=None):
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        (body,) = resp.json.values()
        self.assertEqual(code, body['code'])
        if message is not None:
            self.assertEqual(message, body['message'])

    def hosts(self, query='', version=LAST) -> set[tuple[str, str, str]]:
        hosts = self.ok(self.req('GET', query, version=version))['hosts']
        for host in hosts:
            self.assertEqual({'host_name', 'service', 'zone'}, set(host))
        return {(h['host_name'], h['service'], h['zone']) for h in hosts}

    def compute_service(self, host) -> dict:
        resp = self.cloud.request(
            'GET', f'/v2.1/os-services?host={host}&binary=nova-compute', token=ADMIN)
        (service,) = self.ok(resp)['services']
        return service

    def enable_again(self, host):
        self.addCleanup(self.cloud.request, 'PUT', '/v2.1/os-services/enable', token=ADMIN,
                        json={'host': host, 'binary': 'nova-compute'})


class TestHostList(HostsTestCase):
    ALL = {('compute1', 'compute', 'nova'), ('compute2', 'compute', 'nova')}

    def setUp(self):
        super().setUp()
        self.internal = {(CONF.host, 'conductor', 'internal'),
                         (CONF.host, 'scheduler', 'internal')}

    def test_every_service_but_the_api_with_its_zone(self):
        for version in ('2.1', LAST):
            self.assertEqual(self.ALL | self.internal, self.hosts(version=version))

    def test_zone_filter(self):
        self.assertEqual(self.ALL, self.hosts('?zone=nova'))
        self.assertEqual(self.internal, self.hosts('?zone=internal'))
        self.assertEqual(set(), self.hosts('?zone=xxx'))
        # An empty zone is no filter; of a repeated one the last counts (as Nova).
        self.assertEqual(self.ALL | self.internal, self.hosts('?zone='))
        self.assertEqual(self.internal, self.hosts('?zone=nova&zone=internal'))
        # Unknown parameters are ignored.
        self.assertEqual(self.ALL, self.hosts('?zone=nova&foo=1'))

    def test_zone_of_an_aggregate(self):
        resp = self.cloud.request('POST', '/v2.1/os-aggregates', token=ADMIN, json={
            'aggregate': {'name': 'hosts-rack', 'availability_zone': 'hosts-zone'}})
        agg_id = self.ok(resp)['aggregate']['id']
        self.addCleanup(self.cloud.request, 'DELETE', f'/v2.1/os-aggregates/{agg_id}',
                        token=ADMIN)
        self.ok(self.cloud.request('POST', f'/v2.1/os-aggregates/{agg_id}/action',
                                   token=ADMIN, json={'add_host': {'host': 'compute1'}}))
        self.addCleanup(self.cloud.request, 'POST', f'/v2.1/os-aggregates/{agg_id}/action',
                        token=ADMIN, json={'remove_host': {'host': 'compute1'}})
        self.assertEqual({('compute1', 'compute', 'hosts-zone')},
                         self.hosts('?zone=hosts-zone'))
        self.assertEqual({('compute2', 'compute', 'nova')}, self.hosts('?zone=nova'))

    def test_disabled_services_are_not_listed(self):
        self.enable_again('compute2')
        self.ok(self.cloud.request('PUT', '/v2.1/os-services/disable', token=ADMIN,
                                   json={'host': 'compute2', 'binary': 'nova-compute'}))
        self.assertEqual({('compute1', 'compute', 'nova')} | self.internal, self.hosts())


class TestHostShow(HostsTestCase):

    def _hypervisor(self, host) -> dict:
        hypervisors = self.ok(self.cloud.request('GET', '/v2.1/os-hypervisors/detail',
                                                 token=ADMIN, version='2.1'))['hypervisors']
        (hypervisor,) = [h for h in hypervisors if h['service']['host'] == host]
        return hypervisor

    def _show(self, host) -> list[dict]:
        rows = self.ok(self.req('GET', f'/{host}'))['host']
        for row in rows:
            self.assertEqual(['resource'], list(row))
            self.assertEqual({'host', 'project', 'cpu', 'memory_mb', 'disk_gb'},
                             set(row['resource']))
            self.assertEqual(host, row['resource']['host'])
        return [row['resource'] for row in rows]

    @staticmethod
    def _figures(row) -> tuple[int, int, int]:
        return row['cpu'], row['memory_mb'], row['disk_gb']

    def _expected_per_project(self, host) -> dict[str, tuple[int, int, int]]:
        """What each project's servers on the host ask for, from their flavors."""
        servers = self.ok(self.cloud.request(
            'GET', f'/v2.1/servers/detail?all_tenants=1&host={host}', token=ADMIN,
            version='2.47'))['servers']
        totals: dict = collections.defaultdict(lambda: (0, 0, 0))
        for server in servers:
            flavor = server['flavor']
            cpu, mem, disk = totals[server['tenant_id']]
            totals[server['tenant_id']] = (cpu + flavor['vcpus'], mem + flavor['ram'],
                                           disk + flavor['disk'] + flavor['ephemeral'])
        return dict(totals)

    def test_resources_and_one_line_per_project(self):
        first, second = self.new_token('one'), self.new_token('two')
        for token in (first, first, second):
            server = self.cloud.create_server(token=token)
            self.addCleanup(self.cloud.request, 'DELETE', f"/v2.1/servers/{server['id']}",
                            token=ADMIN)
            self.cloud.wait_for_status(server['id'], 'ACTIVE')
        projects = {first.split(':')[1], second.split(':')[1]}
        seen = set()
        for host in ('compute1', 'compute2'):
            rows = self._show(host)
            hypervisor = self._hypervisor(host)
            self.assertEqual(['(total)', '(used_now)', '(used_max)'],
                             [row['project'] for row in rows[:3]])
            self.assertEqual((hypervisor['vcpus'], hypervisor['memory_mb'],
                              hypervisor['local_gb']), self._figures(rows[0]))
            self.assertEqual((hypervisor['vcpus_used'], hypervisor['memory_mb_used'],
                              hypervisor['local_gb_used']), self._figures(rows[1]))
            expected = self._expected_per_project(host)
            self.assertEqual(expected, {row['project']: self._figures(row)
                                        for row in rows[3:]})
            used_max = tuple(sum(figures[i] for figures in expected.values())
                             for i in range(3))
            self.assertEqual(used_max, self._figures(rows[2]))
            seen |= projects & set(expected)
        self.assertEqual(projects, seen)

    def test_unknown_host(self):
        for host in ('nonexistent_hostname', CONF.host):  # CONF.host: no compute there
            self.fault(self.req('GET', f'/{host}'), 404,
                       f"Host '{host}' is not mapped to any cell")


class TestHostUpdate(HostsTestCase):

    def test_status_disables_and_enables_the_compute_service(self):
        self.enable_again('compute2')
        body = self.ok(self.req('PUT', '/compute2', json={'status': 'disable'}))
        self.assertEqual({'host': 'compute2', 'status': 'disabled'}, body)
        service = self.compute_service('compute2')
        self.assertEqual(('disabled', None), (service['status'],
                                              service['disabled_reason']))
        self.assertEqual('enabled', self.compute_service('compute1')['status'])

        body = self.ok(self.req('PUT', '/compute2', json={'status': 'ENABLE'}))
        self.assertEqual({'host': 'compute2', 'status': 'enabled'}, body)
        self.assertEqual('enabled', self.compute_service('compute2')['status'])

    def test_maintenance_mode_is_not_implemented(self):
        for mode in ('enable', 'Disable'):
            self.fault(self.req('PUT', '/compute1', json={'maintenance_mode': mode}), 501,
                       NOT_SUPPORTED)
        self.assertEqual('enabled', self.compute_service('compute1')['status'])

    def test_status_is_applied_before_maintenance_mode_is_refused(self):
        # As Nova: the status change is made, then maintenance mode answers 501.
        self.enable_again('compute1')
        self.fault(self.req('PUT', '/compute1', json={
            'status': 'disable', 'maintenance_mode': 'enable'}), 501, NOT_SUPPORTED)
        self.assertEqual('disabled', self.compute_service('compute1')['status'])

    def test_unknown_host(self):
        for body in ({'status': 'enable'}, {'maintenance_mode': 'enable'},
                     {'status': 'enable', 'maintenance_mode': 'enable'}):
            self.fault(self.req('PUT', '/nonexistent_hostname', json=body), 404,
                       "Host 'nonexistent_hostname' is not mapped to any cell")

    def test_bad_bodies(self):
        for body in ({}, {'status': 'invalid'}, {'maintenance_mode': 'on'},
                     {'status': 'enable', 'maintenance_mode': 'invalid'},
                     {'status': 'enabled'}, {'status': True},
                     {'status': 'enable', 'extra': 1}, {'host': {'status': 'enable'}}, []):
            # Checked before the host is looked up, as Nova's schema is.
            for host in ('compute1', 'nonexistent_hostname'):
                self.fault(self.req('PUT', f'/{host}', json=body), 400)
        resp = self.cloud.request('PUT', '/v2.1/os-hosts/compute1', token=ADMIN,
                                  version=LAST, data='not json',
                                  headers={'Content-Type': 'application/json'})
        self.fault(resp, 400)
        self.assertEqual('enabled', self.compute_service('compute1')['status'])


class TestHostPowerActions(HostsTestCase):

    def test_not_implemented(self):
        for action, _rule in POWER_ACTIONS:
            self.fault(self.req('GET', f'/compute1/{action}'), 501, NOT_SUPPORTED)

    def test_unknown_host(self):
        for action, _rule in POWER_ACTIONS:
            self.fault(self.req('GET', f'/nonexistent_hostname/{action}'), 404,
                       "Host 'nonexistent_hostname' is not mapped to any cell")


class TestHostVersionsAndPolicy(HostsTestCase):
    CALLS = [('GET', '', None, 'list'), ('GET', '/compute1', None, 'show'),
             ('PUT', '/compute1', {'status': 'enable'}, 'update')] + [
        ('GET', f'/compute1/{action}', None, rule) for action, rule in POWER_ACTIONS]

    def test_gone_from_2_43(self):
        for version in ('2.43', '2.100'):
            for method, path, body, _rule in self.CALLS:
                self.fault(self.req(method, path, version=version, json=body), 404,
                           'The resource could not be found.')
            # Before the body is looked at, as Nova's version routing is.
            self.fault(self.req('PUT', '/compute1', version=version, json={}), 404)

    def test_admin_only(self):
        for token in (self.new_token(), cloud.DEMO_TOKEN):
            for method, path, body, rule in self.CALLS:
                self.fault(self.req(method, path, token=token, json=body), 403,
                           f"Policy doesn't allow os_compute_api:os-hosts:{rule} to be "
                           'performed.')
            # The policy is checked before the host is looked up.
            self.fault(self.req('GET', '/nonexistent_hostname', token=token), 403)
        self.assertEqual('enabled', self.compute_service('compute1')['status'])
