"""os-services end to end: views per microversion against the samples, filters,
enable/disable/force down (before and from 2.53), delete, policy, and a disabled
compute service receiving no new servers."""
from __future__ import annotations

import datetime
import uuid

import sqlalchemy as sa
from oslo_config import cfg

from kumo_common.db import models, session
from tests.fixtures import cloud
from tests.unit.api import api_samples, roles

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN
# Values that differ by nature from the samples' (ids, hosts, times, current state).
VOLATILE = ('id', 'host', 'updated_at', 'status', 'disabled_reason', 'state')


def _services(resp) -> dict:
    return {(s['host'], s['binary']): s for s in resp.json['services']}


def add_ghost_service(host: str, binary: str = 'kumo-compute', seen_ago: int = 3600,
                      **values) -> models.Service:
    """A service row with no process behind it (it never heartbeats again)."""
    seen = models.utcnow() - datetime.timedelta(seconds=seen_ago)
    with session.transaction() as s:
        service = models.Service(uuid=str(uuid.uuid4()), host=host, binary=binary,
                                 topic='compute', last_seen_up=seen, report_count=1,
                                 **values)
        s.add(service)
        s.flush()
        if binary == 'kumo-compute':
            s.add(models.ComputeNode(uuid=str(uuid.uuid4()), service_id=service.id,
                                     host=host, hypervisor_hostname=host, vcpus=4,
                                     memory_mb=4096, local_gb=40, availability_zone='nova'))
    return service


class TestServiceViews(cloud.CloudTestCase):

    def _list(self, version=None, query='', token=ADMIN):
        resp = self.cloud.request('GET', f'/v2.1/os-services{query}', token=token,
                                  version=version)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return resp

    def test_list_matches_samples(self):
        for version, path in (('2.1', 'os-services/services-list-get-resp.json'),
                              ('2.11', 'os-services/v2.11/services-list-get-resp.json'),
                              ('2.53', 'os-services/v2.53/services-list-get-resp.json')):
            sample = api_samples.load(path)['services']
            # Sample 0 is a scheduler (internal zone), sample 1 a compute service.
            by_binary = {'nova-scheduler': sample[0], 'nova-compute': sample[1],
                         'nova-conductor': sample[0]}
            services = self._list(version).json['services']
            self.assertEqual({'nova-compute', 'nova-scheduler', 'nova-conductor'},
                             {s['binary'] for s in services})
            for service in services:
                expected = dict(by_binary[service['binary']], binary=service['binary'])
                api_samples.assert_like(self, expected, service, skip=VOLATILE,
                                        where=f'{version} {service["binary"]}')
                if version == '2.53':
                    self.assertTrue(uuid.UUID(service['id']))
                else:
                    self.assertIsInstance(service['id'], int)
                self.assertEqual('up', service['state'])
                self.assertEqual('enabled', service['status'])

    def test_no_down_cells_so_2_69_and_later_are_full_records(self):
        full = {s['id']: s for s in self._list('2.53').json['services']}
        for version in ('2.69', '2.100'):
            self.assertEqual(full, {s['id']: s for s in self._list(version).json['services']})

    def test_zones(self):
        services = _services(self._list())
        self.assertEqual('nova', services[('compute1', 'nova-compute')]['zone'])
        self.assertEqual('internal', services[(CONF.host, 'nova-scheduler')]['zone'])
        self.assertEqual('internal', services[(CONF.host, 'nova-conductor')]['zone'])

    def test_filters(self):
        self.assertEqual({('compute1', 'nova-compute')},
                         set(_services(self._list(query='?host=compute1'))))
        for name in ('nova-compute', 'kumo-compute'):
            self.assertEqual({('compute1', 'nova-compute'), ('compute2', 'nova-compute')},
                             set(_services(self._list(query=f'?binary={name}'))))
        self.assertEqual({(CONF.host, 'nova-scheduler')},
                         set(_services(self._list(query='?binary=nova-scheduler'))))
        self.assertEqual({}, _services(self._list(query='?host=nowhere')))
        # Unknown parameters: ignored before 2.75, refused from 2.75.
        self.assertEqual(4, len(self._list('2.74', '?foo=1').json['services']))
        resp = self.cloud.request('GET', '/v2.1/os-services?foo=1', token=ADMIN,
                                  version='2.75')
        self.assertEqual(400, resp.status_code)

    def test_admin_only(self):
        for token in (self.new_token(), 'demo:demo'):
            resp = self.cloud.request('GET', '/v2.1/os-services', token=token)
            self.assertEqual(403, resp.status_code)
            self.assertEqual("Policy doesn't allow os_compute_api:os-services:list to be "
                             'performed.', resp.json['forbidden']['message'])


class TestServiceUpdates(cloud.CloudTestCase):

    def _put(self, path, body, version=None, token=ADMIN):
        return self.cloud.request('PUT', f'/v2.1/os-services/{path}', token=token,
                                  version=version, json=body)

    def _compute(self, host='compute1', version='2.53'):
        resp = self.cloud.request('GET', f'/v2.1/os-services?host={host}&binary=nova-compute',
                                  token=ADMIN, version=version)
        return resp.json['services'][0]

    def _restore_service(self, host='compute1'):
        with session.transaction() as s:
            s.execute(sa.update(models.Service).where(models.Service.host == host).values(
                disabled=False, disabled_reason=None, forced_down=False,
                updated_at=models.utcnow()))

    def setUp(self):
        super().setUp()
        self.addCleanup(self._restore_service)

    def test_legacy_actions_match_samples(self):
        cases = [
            ('2.1', 'disable', 'os-services/service-disable-put-req.json',
             'os-services/service-disable-put-resp.json', ('disabled', None, False)),
            ('2.1', 'disable-log-reason', 'os-services/service-disable-log-put-req.json',
             'os-services/service-disable-log-put-resp.json', ('disabled', 'test2', False)),
            ('2.1', 'enable', 'os-services/service-enable-put-req.json',
             'os-services/service-enable-put-resp.json', ('enabled', None, False)),
            ('2.11', 'disable', 'os-services/v2.11/service-disable-put-req.json',
             'os-services/v2.11/service-disable-put-resp.json', ('disabled', None, False)),
            ('2.11', 'force-down', 'os-services/v2.11/service-force-down-put-req.json',
             'os-services/v2.11/service-force-down-put-resp.json',
             ('disabled', None, True)),
            ('2.11', 'enable', 'os-services/v2.11/service-enable-put-req.json',
             'os-services/v2.11/service-enable-put-resp.json', ('enabled', None, True)),
        ]
        for version, action, req_path, resp_path, (status, reason, forced) in cases:
            body = dict(api_samples.load(req_path), host='compute1')
            resp = self._put(action, body, version)
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            expected = api_samples.load(resp_path)
            expected['service']['host'] = 'compute1'
            self.assertEqual(expected, resp.json, f'{version} {action}')
            stored = self._compute()
            self.assertEqual((status, reason, forced),
                             (stored['status'], stored['disabled_reason'],
                              stored['forced_down']), f'{version} {action}')

    def test_legacy_errors(self):
        body = {'host': 'compute1', 'binary': 'nova-compute'}
        # force-down arrived in 2.11 (before, it is an unknown action, and forced_down
        # is not in the body schema).
        self.assertEqual(404, self._put('force-down', body, '2.10').status_code)
        self.assertEqual(400, self._put('force-down', dict(body, forced_down=True),
                                        '2.10').status_code)
        resp = self._put('reboot', body)
        self.assertEqual((404, 'Unknown action'),
                         (resp.status_code, resp.json['itemNotFound']['message']))
        resp = self._put('disable-log-reason', body)
        self.assertEqual((400, 'Missing disabled reason field'),
                         (resp.status_code, resp.json['badRequest']['message']))
        resp = self._put('force-down', body, '2.11')
        self.assertEqual((400, 'Missing forced_down field'),
                         (resp.status_code, resp.json['badRequest']['message']))
        resp = self._put('disable', {'host': 'compute1', 'binary': 'nova-scheduler'})
        self.assertEqual((400, 'Updating a nova-scheduler service is not supported. Only '
                               'nova-compute services can be updated.'),
                         (resp.status_code, resp.json['badRequest']['message']))
        # As Nova, whose host mappings know compute hosts only (CONF.host runs the
        # scheduler and the conductor).
        for host in ('nowhere', CONF.host):
            resp = self._put('disable', {'host': host, 'binary': 'nova-compute'})
            self.assertEqual((404, f"Host '{host}' is not mapped to any cell"),
                             (resp.status_code, resp.json['itemNotFound']['message']))
        self.assertEqual(400, self._put('disable', {'host': 'compute1'}).status_code)
        self.assertEqual(400, self._put('disable', dict(body, extra=1)).status_code)
        # Nothing above changed the service.
        self.assertEqual(('enabled', False), (self._compute()['status'],
                                              self._compute()['forced_down']))

    def test_update_by_uuid_matches_samples(self):
        service_id = self._compute()['id']
        for name, state, status, forced in (
                ('service-disable-put', 'up', 'disabled', False),
                ('service-disable-log-put', 'up', 'disabled', False),
                ('service-enable-put', 'up', 'enabled', False),
                ('service-force-down-put', 'down', 'enabled', True)):
            body = api_samples.load(f'os-services/v2.53/{name}-req.json')
            resp = self._put(service_id, body, '2.53')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            sample = api_samples.load(f'os-services/v2.53/{name}-resp.json')
            api_samples.assert_like(self, sample, resp.json,
                                    skip=('id', 'host', 'updated_at', 'disabled_reason',
                                          'status', 'state'), where=name)
            service = resp.json['service']
            self.assertEqual((service_id, 'compute1', state, status, forced),
                             (service['id'], service['host'], service['state'],
                              service['status'], service['forced_down']), name)
            self.assertEqual(body.get('disabled_reason'), service['disabled_reason'])
            self.assertIsNotNone(service['updated_at'])

    def test_update_by_uuid_errors(self):
        service_id = self._compute()['id']
        cases = [
            ({}, 400, "No updates were requested. Fields 'status' or 'forced_down' should "
                      'be specified.'),
            ({'disabled_reason': 'x'}, 400, None),
            ({'status': 'enabled', 'disabled_reason': 'x'}, 400,
             "Specifying 'disabled_reason' with status 'enabled' is invalid."),
            ({'status': 'off'}, 400, None),
            ({'forced_down': 'maybe'}, 400, None),
            ({'host': 'compute1'}, 400, None),
        ]
        for body, code, message in cases:
            resp = self._put(service_id, body, '2.53')
            self.assertEqual(code, resp.status_code, body)
            if message:
                self.assertEqual(message, resp.json['badRequest']['message'])
        resp = self._put('disable', {'status': 'disabled'}, '2.53')
        self.assertEqual((400, 'Invalid uuid disable'),
                         (resp.status_code, resp.json['badRequest']['message']))
        missing = str(uuid.uuid4())
        resp = self._put(missing, {'status': 'disabled'}, '2.53')
        self.assertEqual((404, f'Service {missing} could not be found.'),
                         (resp.status_code, resp.json['itemNotFound']['message']))
        scheduler = self.cloud.request(
            'GET', '/v2.1/os-services?binary=nova-scheduler', token=ADMIN,
            version='2.53').json['services'][0]['id']
        resp = self._put(scheduler, {'status': 'disabled'}, '2.53')
        self.assertEqual(400, resp.status_code)
        self.assertEqual('enabled', self._compute()['status'])

    def test_members_and_readers_cannot_update(self):
        service_id = self._compute()['id']
        token = self.new_token()
        self.assertEqual(403, self._put(service_id, {'status': 'disabled'}, '2.53',
                                        token=token).status_code)
        self.assertEqual(403, self._put('disable', {'host': 'compute1',
                                                    'binary': 'nova-compute'},
                                        token=token).status_code)
        roles.allow_role_override(self.cloud.app)
        resp = self.cloud.request('PUT', f'/v2.1/os-services/{service_id}', token=token,
                                  version='2.53', json={'status': 'disabled'},
                                  headers=roles.READER)
        self.assertEqual(403, resp.status_code)
        self.assertEqual('enabled', self._compute()['status'])


class TestServiceRows(cloud.CloudTestCase):
    """Services without a process behind them: liveness and deletion."""

    def _delete(self, service_id, version=None, token=ADMIN):
        return self.cloud.request('DELETE', f'/v2.1/os-services/{service_id}', token=token,
                                  version=version)

    def test_state_follows_the_heartbeat(self):
        add_ghost_service('ghost-up', seen_ago=5)
        add_ghost_service('ghost-down', seen_ago=3600)
        add_ghost_service('ghost-forced', seen_ago=5, forced_down=True)
        services = _services(self.cloud.request('GET', '/v2.1/os-services', token=ADMIN,
                                               version='2.11'))
        self.assertEqual('up', services[('ghost-up', 'nova-compute')]['state'])
        self.assertEqual('down', services[('ghost-down', 'nova-compute')]['state'])
        forced = services[('ghost-forced', 'nova-compute')]
        self.assertEqual(('down', True), (forced['state'], forced['forced_down']))
        self.addCleanup(CONF.clear_override, 'service_down_time')
        CONF.set_override('service_down_time', 7200)
        services = _services(self.cloud.request('GET', '/v2.1/os-services', token=ADMIN))
        self.assertEqual('up', services[('ghost-down', 'nova-compute')]['state'])

    def test_delete_by_id_and_by_uuid(self):
        old = add_ghost_service('ghost-a', binary='kumo-scheduler')
        new = add_ghost_service('ghost-b')
        self.assertEqual(403, self._delete(old.id, token=self.new_token()).status_code)
        self.assertEqual(204, self._delete(old.id).status_code)
        self.assertEqual(404, self._delete(old.id).status_code)
        # From 2.53 the id is the UUID.
        self.assertEqual(400, self._delete(new.id, '2.53').status_code)
        self.assertEqual(204, self._delete(new.uuid, '2.53').status_code)
        hosts = {s['host'] for s in self.cloud.request(
            'GET', '/v2.1/os-services', token=ADMIN).json['services']}
        self.assertNotIn('ghost-a', hosts)
        self.assertNotIn('ghost-b', hosts)
        with session.reader() as s:
            node = s.scalars(sa.select(models.ComputeNode).where(
                models.ComputeNode.host == 'ghost-b')).one()
            self.assertTrue(node.deleted)
            self.assertIsNone(node.service_id)

    def test_bad_ids(self):
        resp = self._delete('abc')
        self.assertEqual((400, 'Invalid input received: id must be an integer'),
                         (resp.status_code, resp.json['badRequest']['message']))
        resp = self._delete('99999')
        self.assertEqual((404, 'Service 99999 not found.'),
                         (resp.status_code, resp.json['itemNotFound']['message']))
        self.assertEqual(404, self._delete('99999999999999999999').status_code)
        self.assertEqual(400, self._delete('abc', '2.53').status_code)
        self.assertEqual(404, self._delete(str(uuid.uuid4()), '2.53').status_code)

    def test_compute_service_leaves_its_aggregates(self):
        ghost = add_ghost_service('ghost-c')
        resp = self.cloud.request('POST', '/v2.1/os-aggregates', token=ADMIN,
                                  json={'aggregate': {'name': 'ghost-agg',
                                                      'availability_zone': 'ghost-az'}})
        agg_id = resp.json['aggregate']['id']
        resp = self.cloud.request('POST', f'/v2.1/os-aggregates/{agg_id}/action',
                                  token=ADMIN, json={'add_host': {'host': 'ghost-c'}})
        self.assertEqual(['ghost-c'], resp.json['aggregate']['hosts'])
        self.assertEqual(204, self._delete(ghost.uuid, '2.53').status_code)
        resp = self.cloud.request('GET', f'/v2.1/os-aggregates/{agg_id}', token=ADMIN)
        self.assertEqual([], resp.json['aggregate']['hosts'])

    def test_compute_service_with_servers_is_kept(self):
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        host = self.cloud.wait_for_status(server['id'], 'ACTIVE')['OS-EXT-SRV-ATTR:host']
        service = self.cloud.request(
            'GET', f'/v2.1/os-services?host={host}&binary=nova-compute', token=ADMIN,
            version='2.53').json['services'][0]
        resp = self._delete(service['id'], '2.53')
        self.assertEqual(409, resp.status_code)
        self.assertEqual('Unable to delete compute service that is hosting instances. '
                         'Migrate or delete the instances first.',
                         resp.json['conflictingRequest']['message'])
        self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=token)
        self.cloud.wait_for_status(server['id'], 'DELETED')


class TestDisabledComputeGetsNoServers(cloud.CloudTestCase):
    """Disabling a compute service through the API keeps new servers off it (the
    scheduler's ComputeFilter), and enabling it brings it back."""

    def _set(self, host, body):
        service_id = self.cloud.request(
            'GET', f'/v2.1/os-services?host={host}&binary=nova-compute', token=ADMIN,
            version='2.53').json['services'][0]['id']
        resp = self.cloud.request('PUT', f'/v2.1/os-services/{service_id}', token=ADMIN,
                                  version='2.53', json=body)
        self.assertEqual(200, resp.status_code, resp.get_data(True))

    def _boot(self, token):
        server = self.cloud.create_server(token=token)
        return self.cloud.wait_for_status(server['id'], 'ACTIVE')['OS-EXT-SRV-ATTR:host']

    def test_disabled_and_forced_down_hosts_are_skipped(self):
        token = self.new_token()
        self.addCleanup(self._set, 'compute1', {'status': 'enabled', 'forced_down': False})
        self._set('compute1', {'status': 'disabled', 'disabled_reason': 'maintenance'})
        self.assertEqual(['compute2'] * 4, [self._boot(token) for _ in range(4)])

        self._set('compute1', {'status': 'enabled'})
        self.addCleanup(self._set, 'compute2', {'status': 'enabled', 'forced_down': False})
        self._set('compute2', {'forced_down': True})
        self.assertEqual(['compute1'] * 2, [self._boot(token) for _ in range(2)])

        # With every compute host disabled, a new server has nowhere to go.
        self._set('compute1', {'status': 'disabled', 'disabled_reason': 'maintenance'})
        server = self.cloud.create_server(token=token)
        failed = self.cloud.wait_for_status(server['id'], 'ERROR')
        self.assertIn('No valid host', failed['fault']['message'])

    def test_legacy_disable_works_the_same(self):
        token = self.new_token()
        self.addCleanup(self.cloud.request, 'PUT', '/v2.1/os-services/enable', token=ADMIN,
                        json={'host': 'compute2', 'binary': 'nova-compute'})
        resp = self.cloud.request('PUT', '/v2.1/os-services/disable', token=ADMIN,
                                  json={'host': 'compute2', 'binary': 'nova-compute'})
        self.assertEqual(200, resp.status_code)
        self.assertEqual(['compute1'] * 3, [self._boot(token) for _ in range(3)])
