"""os-availability-zone end to end: zones from aggregates, hosts and services in the
detail, availability, policy; and compute_nodes.availability_zone kept in step with
the aggregates (what server create and the scheduler read)."""
from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg

from kumo_common import objects
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import models, session
from tests.fixtures import cloud
from tests.unit.api import api_samples

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN


def node_zone(host: str) -> str:
    with session.reader() as s:
        return s.scalars(sa.select(models.ComputeNode.availability_zone).where(
            models.ComputeNode.host == host)).one()


class ZoneTestCase(cloud.CloudTestCase):

    def zones(self, detail=False, token=ADMIN):
        resp = self.cloud.request(
            'GET', '/v2.1/os-availability-zone' + ('/detail' if detail else ''),
            token=token)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return {z['zoneName']: z for z in resp.json['availabilityZoneInfo']}

    def aggregate(self, name, zone, *hosts):
        """An aggregate with a zone and hosts, gone again after the test."""
        resp = self.cloud.request('POST', '/v2.1/os-aggregates', token=ADMIN,
                                  json={'aggregate': {'name': name,
                                                      'availability_zone': zone}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        agg_id = resp.json['aggregate']['id']
        self.addCleanup(self.cloud.request, 'DELETE', f'/v2.1/os-aggregates/{agg_id}',
                        token=ADMIN)
        for host in hosts:
            self.host_action(agg_id, 'add_host', host)
            self.addCleanup(self.host_action, agg_id, 'remove_host', host)
        return agg_id

    def host_action(self, agg_id, action, host, code=200):
        resp = self.cloud.request('POST', f'/v2.1/os-aggregates/{agg_id}/action',
                                  token=ADMIN, json={action: {'host': host}})
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp


class TestZoneLists(ZoneTestCase):

    def test_default_zone_matches_sample(self):
        # No aggregates: every compute host is in the default zone ("nova"); the
        # internal zone of the other services is not listed.
        self.assertEqual(api_samples.load('os-availability-zone/availability-zone-list-resp'
                                          '.json'),
                         self.cloud.request('GET', '/v2.1/os-availability-zone',
                                            token=self.new_token()).json)

    def test_detail_matches_sample(self):
        sample = {z['zoneName']: z for z in api_samples.load(
            'os-availability-zone/availability-zone-detail-resp.json')['availabilityZoneInfo']}
        zones = self.zones(detail=True)
        self.assertEqual(['internal', 'nova'], sorted(zones))
        internal = zones['internal']
        self.assertEqual({CONF.host}, set(internal['hosts']))
        self.assertEqual({'nova-conductor', 'nova-scheduler'}, set(internal['hosts'][CONF.host]))
        api_samples.assert_like(
            self, sample['internal'],
            {**internal, 'hosts': {'conductor': {'nova-conductor': internal['hosts'][
                CONF.host]['nova-conductor']},
                'scheduler': {'nova-scheduler': internal['hosts'][CONF.host][
                    'nova-scheduler']}}},
            skip=('updated_at',))
        nova = zones['nova']
        self.assertEqual({'compute1', 'compute2'}, set(nova['hosts']))
        for host in ('compute1', 'compute2'):
            api_samples.assert_like(self, sample['nova'],
                                    {**nova, 'hosts': {'compute': nova['hosts'][host]}},
                                    skip=('updated_at',))

    def test_detail_is_admin_only(self):
        for token in (self.new_token(), 'demo:demo'):
            resp = self.cloud.request('GET', '/v2.1/os-availability-zone/detail',
                                      token=token)
            self.assertEqual(403, resp.status_code)

    def test_zones_come_from_aggregates(self):
        self.aggregate('rack-a', 'zone-a', 'compute1')
        # A zone with no host is no zone yet.
        self.aggregate('rack-empty', 'zone-empty')
        zones = self.zones()
        self.assertEqual({'zone-a', 'nova'}, set(zones))
        self.assertEqual({'available': True}, zones['zone-a']['zoneState'])
        self.assertIsNone(zones['zone-a']['hosts'])
        detail = self.zones(detail=True)
        self.assertEqual({'compute1'}, set(detail['zone-a']['hosts']))
        self.assertEqual({'compute2'}, set(detail['nova']['hosts']))
        self.assertEqual({'available': True, 'active': True},
                         {k: v for k, v in detail['zone-a']['hosts']['compute1']
                          ['nova-compute'].items() if k != 'updated_at'})
        services = {s['host']: s['zone'] for s in self.cloud.request(
            'GET', '/v2.1/os-services?binary=nova-compute', token=ADMIN).json['services']}
        self.assertEqual({'compute1': 'zone-a', 'compute2': 'nova'}, services)

    def test_zone_of_disabled_hosts_only_is_unavailable(self):
        self.aggregate('rack-b', 'zone-b', 'compute2')
        with session.transaction() as s:
            s.execute(sa.update(models.Service).where(models.Service.host == 'compute2')
                      .values(disabled=True, updated_at=models.utcnow()))
        self.addCleanup(self._enable, 'compute2')
        zones = self.zones()
        self.assertEqual({'available': False}, zones['zone-b']['zoneState'])
        self.assertEqual({'available': True}, zones['nova']['zoneState'])
        detail = self.zones(detail=True)
        self.assertIsNone(detail['zone-b']['hosts'])
        self.assertEqual({'compute1'}, set(detail['nova']['hosts']))

    def _enable(self, host):
        with session.transaction() as s:
            s.execute(sa.update(models.Service).where(models.Service.host == host)
                      .values(disabled=False, updated_at=models.utcnow()))


class TestNodeZonesFollowAggregates(ZoneTestCase):

    def test_membership_and_metadata_rewrite_the_node_zone(self):
        self.assertEqual('nova', node_zone('compute1'))
        agg_id = self.aggregate('rack-c', 'zone-c', 'compute1')
        self.assertEqual('zone-c', node_zone('compute1'))
        self.assertEqual('nova', node_zone('compute2'))
        resp = self.cloud.request('PUT', f'/v2.1/os-aggregates/{agg_id}', token=ADMIN,
                                  json={'aggregate': {'availability_zone': 'zone-c2'}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual('zone-c2', node_zone('compute1'))
        resp = self.cloud.request(
            'POST', f'/v2.1/os-aggregates/{agg_id}/action', token=ADMIN,
            json={'set_metadata': {'metadata': {'availability_zone': 'zone-c3'}}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual('zone-c3', node_zone('compute1'))
        self.host_action(agg_id, 'remove_host', 'compute1')
        self.assertEqual('nova', node_zone('compute1'))
        self.host_action(agg_id, 'add_host', 'compute1')

    def test_registration_keeps_the_aggregate_zone(self):
        self.aggregate('rack-d', 'zone-d', 'compute2')
        with session.reader() as s:
            node = s.scalars(sa.select(models.ComputeNode).where(
                models.ComputeNode.host == 'compute2')).one()
        # What the conductor does with an agent's report, e.g. after a restart.
        report = objects.NodeReport(
            host='compute2', node_uuid=node.uuid, hypervisor_hostname=node.hypervisor_hostname,
            hypervisor_type=node.hypervisor_type, hypervisor_version=node.hypervisor_version,
            host_ip=node.host_ip, cell_name=node.cell_name, vcpus=node.vcpus,
            memory_mb=node.memory_mb, local_gb=node.local_gb)
        with session.transaction() as s:
            node_db.upsert_node(s, report, CONF.default_availability_zone)
        self.assertEqual('zone-d', node_zone('compute2'))

    def test_create_in_a_zone_that_only_an_aggregate_defines(self):
        token = self.new_token()
        resp = self.cloud.request('POST', '/v2.1/servers', token=token, version='2.37',
                                  json={'server': {'name': 'z', 'flavorRef': '1',
                                                   'imageRef': cloud.IMAGE_ID,
                                                   'networks': 'auto',
                                                   'availability_zone': 'zone-e'}})
        self.assertEqual(400, resp.status_code)
        self.aggregate('rack-e', 'zone-e', 'compute2')
        for _ in range(3):
            server = self.cloud.create_server(token=token, availability_zone='zone-e')
            active = self.cloud.wait_for_status(server['id'], 'ACTIVE')
            self.assertEqual(('compute2', 'zone-e'),
                             (active['OS-EXT-SRV-ATTR:host'],
                              active['OS-EXT-AZ:availability_zone']))
            self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=token)
            self.cloud.wait_for_status(server['id'], 'DELETED')
