"""os-hypervisors end to end: list/detail/show per microversion against the samples,
paging, hostname pattern and servers, statistics, uptime, ids and policy."""
from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from kumo_common.db import models, session
from tests.fixtures import cloud
from tests.unit.api import api_samples

ADMIN = cloud.ADMIN_TOKEN
# Values that differ by nature from the samples' (ids, names, capacities, addresses).
VOLATILE = ('id', 'hypervisor_hostname', 'host', 'host_ip', 'cpu_info', 'vcpus',
            'memory_mb', 'local_gb', 'free_ram_mb', 'free_disk_gb', 'disk_available_least',
            'memory_mb_used', 'local_gb_used', 'vcpus_used', 'running_vms',
            'current_workload', 'servers', 'hypervisor_version', 'name', 'uuid', 'count')


class HypervisorTestCase(cloud.CloudTestCase):

    def get(self, path, version=None, token=ADMIN, code=200):
        resp = self.cloud.request('GET', f'/v2.1/os-hypervisors{path}', token=token,
                                  version=version)
        self.assertEqual(code, resp.status_code, f'{path} {version}: {resp.get_data(True)}')
        return resp.json

    def node(self, host):
        with session.reader() as s:
            return s.scalars(sa.select(models.ComputeNode).where(
                models.ComputeNode.host == host)).one()

    def like(self, sample_path, actual, pick=None, skip=VOLATILE):
        sample = api_samples.load(f'os-hypervisors/{sample_path}')
        if pick:
            sample = pick(sample)
        api_samples.assert_like(self, sample, actual, skip=skip, where=sample_path)


class TestHypervisorViews(HypervisorTestCase):

    def test_list_per_version(self):
        for version, path, links in (('2.1', 'hypervisors-list-resp.json', False),
                                     ('2.28', 'v2.28/hypervisors-list-resp.json', False),
                                     ('2.33', 'v2.33/hypervisors-list-resp.json', True),
                                     ('2.53', 'v2.53/hypervisors-list-resp.json', True),
                                     ('2.88', 'v2.88/hypervisors-list-resp.json', True)):
            body = self.get('?limit=1' if links else '', version)
            self.assertEqual(links, 'hypervisors_links' in body, version)
            self.assertEqual(1 if links else 2, len(body['hypervisors']))
            self.like(path, {**body, 'hypervisors': body['hypervisors'][:1]},
                      skip=VOLATILE + ('hypervisors_links',))
            entry = body['hypervisors'][0]
            if version >= '2.53':
                self.assertEqual(self.node(entry['hypervisor_hostname']).uuid, entry['id'])
            else:
                self.assertEqual(self.node(entry['hypervisor_hostname']).id, entry['id'])

    def test_detail_per_version(self):
        for version, path in (('2.1', 'hypervisors-detail-resp.json'),
                              ('2.28', 'v2.28/hypervisors-detail-resp.json'),
                              ('2.53', 'v2.53/hypervisors-detail-resp.json'),
                              ('2.88', 'v2.88/hypervisors-detail-resp.json')):
            body = self.get('/detail', version)
            sample = api_samples.load(f'os-hypervisors/{path}')
            for entry in body['hypervisors']:
                api_samples.assert_like(self, sample['hypervisors'][0], entry, skip=VOLATILE,
                                        where=version)
                node = self.node(entry['hypervisor_hostname'])
                self.assertEqual(node.host_ip, entry['host_ip'])
                self.assertEqual(node.host, entry['service']['host'])
                if version < '2.28':
                    self.assertIsInstance(entry['cpu_info'], str)
                elif version < '2.88':
                    self.assertEqual(json.loads(node.cpu_info or '{}'), entry['cpu_info'])

    def test_show_per_version(self):
        node = self.node('compute1')
        for version, path, hyp_id in (('2.1', 'hypervisors-show-resp.json', node.id),
                                      ('2.28', 'v2.28/hypervisors-show-resp.json', node.id),
                                      ('2.53', 'v2.53/hypervisors-show-resp.json', node.uuid),
                                      ('2.88', 'v2.88/hypervisors-show-resp.json', node.uuid)):
            body = self.get(f'/{hyp_id}', version)
            self.like(path, body)
            self.assertEqual(hyp_id, body['hypervisor']['id'])
            self.assertEqual('compute1', body['hypervisor']['hypervisor_hostname'])
        self.assertIsNone(self.get(f'/{node.uuid}', '2.88')['hypervisor']['uptime'])

    def test_usage_values(self):
        node = self.node('compute2')
        shown = self.get(f'/{node.id}')['hypervisor']
        # Memory and disk reserved for the host count as used, as Nova reports them.
        self.assertEqual(node.memory_mb_used + node.reserved_host_memory_mb,
                         shown['memory_mb_used'])
        self.assertEqual(shown['memory_mb'] - shown['memory_mb_used'], shown['free_ram_mb'])
        self.assertEqual(shown['local_gb'] - shown['local_gb_used'], shown['free_disk_gb'])
        self.assertEqual(node.vcpus, shown['vcpus'])

    def test_ids_per_version(self):
        node = self.node('compute1')
        missing = self.get('/abc', code=404)
        self.assertEqual("Hypervisor with ID 'abc' could not be found.",
                         missing['itemNotFound']['message'])
        self.get('/999999', code=404)
        self.get('/99999999999999999999', code=404)
        self.get(f'/{node.uuid}', '2.52', code=404)
        bad = self.get(f'/{node.id}', '2.53', code=400)
        self.assertEqual(f'Invalid uuid {node.id}', bad['badRequest']['message'])
        self.get(f'/{uuid.uuid4()}', '2.53', code=404)

    def test_admin_only(self):
        node = self.node('compute1')
        for path, version in (('', None), ('/detail', None), (f'/{node.id}', None),
                              ('/statistics', None), (f'/{node.id}/uptime', None),
                              ('/compute/search', None), ('/compute/servers', None),
                              ('', '2.53')):
            for token in (self.new_token(), 'demo:demo'):
                self.get(path, version, token=token, code=403)


class TestHypervisorServers(HypervisorTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        server = cls.cloud.create_server(token=cloud.ADMIN_TOKEN)
        cls.server = cls.cloud.wait_for_status(server['id'], 'ACTIVE')
        cls.host = cls.server['OS-EXT-SRV-ATTR:host']
        cls.idle = 'compute2' if cls.host == 'compute1' else 'compute1'

    def _entries(self, body):
        return {h['hypervisor_hostname']: h for h in body['hypervisors']}

    def test_with_servers_from_2_53(self):
        body = self.get('?with_servers=true', '2.53')
        self.like('v2.53/hypervisors-with-servers-resp.json',
                  {'hypervisors': [self._entries(body)[self.host]]})
        self.assertEqual([{'name': self.server['OS-EXT-SRV-ATTR:instance_name'],
                           'uuid': self.server['id']}],
                         self._entries(body)[self.host]['servers'])
        # Without servers: no key before 2.75, an empty list from 2.75.
        self.assertNotIn('servers', self._entries(body)[self.idle])
        body = self.get('?with_servers=1', '2.75')
        self.assertEqual([], self._entries(body)[self.idle]['servers'])
        body = self.get('?with_servers=false', '2.75')
        self.assertNotIn('servers', self._entries(body)[self.host])
        detail = self.get('/detail?with_servers=yes', '2.88')
        self.like('v2.88/hypervisors-detail-with-servers-resp.json',
                  {'hypervisors': [self._entries(detail)[self.host]]})
        node = self.node(self.host)
        for version, path in (('2.53', 'v2.53/hypervisors-show-with-servers-resp.json'),
                              ('2.88', 'v2.88/hypervisors-show-with-servers-resp.json')):
            shown = self.get(f'/{node.uuid}?with_servers=true', version)
            self.like(path, shown)
            self.assertEqual(self.server['id'], shown['hypervisor']['servers'][0]['uuid'])
        # Nova's boolean enum, JSON true and false included, is what the 400 lists.
        bad = self.get('?with_servers=maybe', '2.53', code=400)
        self.assertEqual(
            "Invalid input for query parameters with_servers. Value: maybe. 'maybe' is not "
            "one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', "
            "'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', "
            "'no']", bad['badRequest']['message'])

    def test_hostname_pattern_from_2_53(self):
        body = self.get(f'?hypervisor_hostname_pattern={self.host}', '2.53')
        self.like('v2.53/hypervisors-search-resp.json', body)
        self.assertEqual([self.host], list(self._entries(body)))
        self.assertEqual({'compute1', 'compute2'},
                         set(self._entries(self.get('/detail?hypervisor_hostname_pattern=comp',
                                                    '2.53'))))
        missing = self.get('?hypervisor_hostname_pattern=nowhere', '2.53', code=404)
        self.assertEqual("No hypervisor matching 'nowhere' could be found.",
                         missing['itemNotFound']['message'])
        # Paging over a pattern is refused in webob's default words, as Nova's 400.
        bad = self.get('?hypervisor_hostname_pattern=comp&limit=1', '2.53', code=400)
        self.assertEqual('The server could not comply with the request since it is either '
                         'malformed or otherwise incorrect.', bad['badRequest']['message'])
        self.get('?foo=1', '2.53', code=400)
        self.get('?hypervisor_hostname_pattern=a%25b', '2.53', code=400)

    def test_legacy_search_and_servers_routes(self):
        body = self.get('/compute/search')
        self.like('hypervisors-search-resp.json', {'hypervisors': body['hypervisors'][:1]})
        self.assertEqual({'compute1', 'compute2'}, set(self._entries(body)))
        body = self.get(f'/{self.host}/servers', '2.52')
        self.like('hypervisors-with-servers-resp.json', body)
        self.assertEqual(self.server['id'], body['hypervisors'][0]['servers'][0]['uuid'])
        self.assertNotIn('servers', self._entries(self.get(f'/{self.idle}/servers'))
                         [self.idle])
        self.get('/nowhere/search', code=404)
        self.get('/nowhere/servers', code=404)
        # Replaced by query parameters in 2.53.
        self.get('/compute/search', '2.53', code=404)
        self.get('/compute/servers', '2.53', code=404)

    def test_usage_follows_the_server(self):
        node = self.node(self.host)
        shown = self.get(f'/{node.id}')['hypervisor']
        idle = self.get(f'/{self.node(self.idle).id}')['hypervisor']
        self.assertEqual((1, 1, 0), (shown['vcpus_used'], shown['running_vms'],
                                     shown['current_workload']))
        self.assertEqual((0, 0), (idle['vcpus_used'], idle['running_vms']))
        self.assertEqual(idle['memory_mb_used'] + 512, shown['memory_mb_used'])

    def test_statistics(self):
        stats = self.get('/statistics')
        self.like('hypervisors-statistics-resp.json', stats)
        totals = stats['hypervisor_statistics']
        nodes = self.get('/detail')['hypervisors']
        self.assertEqual(2, totals['count'])
        for key in ('vcpus', 'vcpus_used', 'memory_mb', 'memory_mb_used', 'running_vms',
                    'free_ram_mb', 'local_gb'):
            self.assertEqual(sum(n[key] for n in nodes), totals[key], key)
        self.like('v2.53/hypervisors-statistics-resp.json', self.get('/statistics', '2.87'))
        self.get('/statistics', '2.88', code=404)

    def test_statistics_count_enabled_hosts_only(self):
        with session.transaction() as s:
            s.execute(sa.update(models.Service).where(models.Service.host == self.idle)
                      .values(disabled=True, updated_at=models.utcnow()))
        self.addCleanup(self._enable, self.idle)
        totals = self.get('/statistics')['hypervisor_statistics']
        self.assertEqual(1, totals['count'])
        self.assertEqual(1, totals['running_vms'])

    def _enable(self, host):
        with session.transaction() as s:
            s.execute(sa.update(models.Service).where(models.Service.host == host)
                      .values(disabled=False, forced_down=False, updated_at=models.utcnow()))

    def test_uptime(self):
        node = self.node(self.host)
        resp = self.get(f'/{node.id}/uptime', code=501)
        self.assertEqual('The requested functionality is not supported.',
                         resp['notImplemented']['message'])
        self.get(f'/{node.uuid}/uptime', '2.53', code=501)
        self.get(f'/{node.uuid}/uptime', '2.88', code=404)
        self.get('/abc/uptime', code=404)
        with session.transaction() as s:
            s.execute(sa.update(models.Service).where(models.Service.host == self.idle)
                      .values(forced_down=True, updated_at=models.utcnow()))
        self.addCleanup(self._enable, self.idle)
        down = self.get(f'/{self.node(self.idle).id}/uptime', code=400)
        self.assertEqual(f'Compute service of {self.idle} is unavailable at this time.',
                         down['badRequest']['message'])
        states = {h['hypervisor_hostname']: h['state'] for h in self.get('')['hypervisors']}
        self.assertEqual({self.idle: 'down', self.host: 'up'}, states)


class TestHypervisorPaging(HypervisorTestCase):
    COMPUTES = 3

    def test_paging_by_id_then_uuid(self):
        for version, key in (('2.33', 'id'), ('2.53', 'id')):
            first = self.get('?limit=2', version)
            self.assertEqual(2, len(first['hypervisors']))
            last = first['hypervisors'][-1][key]
            link = first['hypervisors_links'][0]
            self.assertEqual('next', link['rel'])
            self.assertEqual(f'http://localhost/v2.1/os-hypervisors?limit=2&marker={last}',
                             link['href'])
            rest = self.get(f'?limit=2&marker={last}', version)
            self.assertEqual(1, len(rest['hypervisors']))
            self.assertNotIn('hypervisors_links', rest)
            names = [h['hypervisor_hostname']
                     for h in first['hypervisors'] + rest['hypervisors']]
            self.assertEqual({'compute1', 'compute2', 'compute3'}, set(names))
            detail = self.get(f'/detail?limit=1&marker={last}', version)
            self.assertEqual(rest['hypervisors'][0]['id'], detail['hypervisors'][0]['id'])
            self.assertIn('/os-hypervisors/detail?', detail['hypervisors_links'][0]['href'])
        self.assertIn('marker [nope] not found',
                      self.get('?marker=nope', '2.33', code=400)['badRequest']['message'])
        self.get(f'?marker={uuid.uuid4()}', '2.53', code=400)
        self.get('?limit=-1', '2.33', code=400)
        # Before 2.33 there is no paging: every hypervisor, no links.
        everything = self.get('?limit=1', '2.32')
        self.assertEqual(3, len(everything['hypervisors']))
        self.assertNotIn('hypervisors_links', everything)
