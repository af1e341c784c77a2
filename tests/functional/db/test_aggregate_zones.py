"""Aggregates, zones and the queries behind os-services/os-hypervisors/metadata, on
SQLite, PostgreSQL and MariaDB: the locking reads are valid on each, zones stay one
per host when two requests race, and compute_nodes.availability_zone follows."""
from __future__ import annotations

import threading
import uuid

import sqlalchemy as sa
import testtools
from oslo_config import cfg

import kumo_common.conf  # noqa: F401  (registers the options the modules read)
from kumo_common import exceptions
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import hypervisors as hypervisor_db
from kumo_common.db import instance_metadata as meta_db
from kumo_common.db import models, session
from kumo_common.db import services as service_db
from tests.fixtures import database

CONF = cfg.CONF


def _compute(host: str) -> None:
    with session.transaction() as s:
        service = models.Service(uuid=str(uuid.uuid4()), host=host, binary='kumo-compute',
                                 topic='compute', last_seen_up=models.utcnow())
        s.add(service)
        s.flush()
        s.add(models.ComputeNode(uuid=str(uuid.uuid4()), service_id=service.id, host=host,
                                 hypervisor_hostname=host, vcpus=4, memory_mb=4096,
                                 local_gb=40, availability_zone='nova'))


def _node_zone(host: str) -> str:
    with session.reader() as s:
        return s.scalar(sa.select(models.ComputeNode.availability_zone).where(
            models.ComputeNode.host == host))


def _aggregate(name: str, zone: str | None) -> int:
    with session.transaction() as s:
        return aggregate_db.create_aggregate(s, name, zone).id


class _ZoneTests:
    backend: str

    def setUp(self):
        super().setUp()
        database.require_backend(self, self.backend)
        self.useFixture(database.Database(self.backend))
        if getattr(CONF, '_namespace', None) is None:
            CONF([], project='kumo', default_config_files=[])
        _compute('host1')
        _compute('host2')

    def test_zone_follows_membership_and_metadata(self):
        agg = _aggregate('agg1', 'az1')
        with session.transaction() as s:
            aggregate_db.add_host(s, agg, 'host1')
        self.assertEqual(('az1', 'nova'), (_node_zone('host1'), _node_zone('host2')))
        with session.transaction() as s:
            aggregate_db.update_aggregate(s, agg, {'availability_zone': 'az2'})
        self.assertEqual('az2', _node_zone('host1'))
        with session.transaction() as s:
            aggregate_db.set_metadata(s, agg, {'availability_zone': 'az3', 'ssd': 'true'})
            self.assertEqual({'host1': 'az3'}, aggregate_db.host_zones(s))
        with session.transaction() as s:
            aggregate_db.remove_host(s, agg, 'host1')
        self.assertEqual('nova', _node_zone('host1'))

    def test_one_zone_per_host_when_requests_race(self):
        aggs = [_aggregate(f'race{i}', f'zone{i}') for i in range(2)]
        barrier = threading.Barrier(2)
        outcomes: list = []

        def add(agg_id):
            barrier.wait()
            try:
                with session.transaction() as s:
                    aggregate_db.add_host(s, agg_id, 'host2')
                outcomes.append('ok')
            except aggregate_db.InvalidAggregateAction:
                outcomes.append('refused')

        threads = [threading.Thread(target=add, args=(a,)) for a in aggs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(['ok', 'refused'], sorted(outcomes))
        with session.reader() as s:
            zones = aggregate_db.host_zones(s, ['host2'])
        self.assertEqual(1, len(zones['host2'].split(',')))
        self.assertEqual(zones['host2'], _node_zone('host2'))

    def test_refusals_change_nothing(self):
        first, second = _aggregate('a1', 'z1'), _aggregate('a2', None)
        with session.transaction() as s:
            aggregate_db.add_host(s, first, 'host1')
            aggregate_db.add_host(s, second, 'host1')
        with testtools.ExpectedException(aggregate_db.InvalidAggregateAction):
            with session.transaction() as s:
                aggregate_db.update_aggregate(s, second, {'name': 'renamed',
                                                          'availability_zone': 'z2'})
        with session.reader() as s:
            self.assertEqual('a2', aggregate_db.get_aggregate(s, second).name)
        with testtools.ExpectedException(exceptions.ComputeHostNotFound):
            with session.transaction() as s:
                aggregate_db.add_host(s, first, 'nowhere')
        with testtools.ExpectedException(aggregate_db.AggregateNameExists):
            _aggregate('a1', None)

    def test_service_delete_and_hypervisor_queries(self):
        agg = _aggregate('agg-del', 'azd')
        with session.transaction() as s:
            aggregate_db.add_host(s, agg, 'host2')
        with session.reader() as s:
            rows = hypervisor_db.list_nodes(s, limit=1)
            self.assertEqual(['host1'], [n.host for n, _ in rows])
            rest = hypervisor_db.list_nodes(s, marker=rows[0][0].uuid, marker_is_uuid=True)
            self.assertEqual(['host2'], [n.host for n, _ in rest])
            self.assertEqual(['host1'], [n.host for n, _ in
                                         hypervisor_db.search_nodes(s, 'st1')])
            self.assertEqual(2, hypervisor_db.statistics(s)['count'])
        with session.transaction() as s:
            service_db.delete(s, service_db.get_by_host_and_binary(s, 'host2',
                                                                   'kumo-compute'))
        with session.reader() as s:
            self.assertEqual([], aggregate_db.hosts_of(aggregate_db.get_aggregate(s, agg)))
            self.assertEqual(1, hypervisor_db.statistics(s)['count'])

    def test_metadata_and_tags_under_the_row_lock(self):
        with session.transaction() as s:
            s.add(models.Instance(uuid='11111111-1111-1111-1111-111111111111',
                                  project_id='p', user_id='u', vm_state='active'))
        with session.transaction() as s:
            instance = meta_db.lock_instance(s, '11111111-1111-1111-1111-111111111111')
            meta_db.replace_metadata(s, instance, {'a': '1', 'b': '2'})
            meta_db.replace_tags(s, instance, ['x', 'y'])
        with session.transaction() as s:
            instance = meta_db.lock_instance(s, '11111111-1111-1111-1111-111111111111')
            meta_db.replace_metadata(s, instance, {'b': '3'})
            meta_db.replace_tags(s, instance, ['y', 'z'])
            self.assertTrue(meta_db.delete_tag(s, instance, 'z'))
            self.assertFalse(meta_db.delete_tag(s, instance, 'z'))
        with session.reader() as s:
            instance = s.scalars(sa.select(models.Instance)).one()
            self.assertEqual(({'b': '3'}, ['y']),
                             (meta_db.metadata_of(instance), meta_db.tags_of(instance)))
        with testtools.ExpectedException(exceptions.InstanceNotFound):
            with session.transaction() as s:
                meta_db.lock_instance(s, str(uuid.uuid4()))


class TestZonesSQLite(_ZoneTests, testtools.TestCase):
    backend = 'sqlite'


class TestZonesPostgreSQL(_ZoneTests, testtools.TestCase):
    backend = 'postgresql'


class TestZonesMySQL(_ZoneTests, testtools.TestCase):
    backend = 'mysql'
