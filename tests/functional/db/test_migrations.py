"""The migrations build exactly the models' schema, on SQLite, PostgreSQL and MariaDB.

Each backend is a TestCase class of its own (stestr keeps a class in one worker);
every test gets a fresh database from tests.fixtures.database.Database.
"""
import datetime
import json
import pprint
import uuid

import sqlalchemy as sa
import testtools

from kumo_common.db import migration, models, session
from tests.fixtures import database


def _table_names(url: str) -> set[str]:
    engine = migration.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _schema(url: str) -> dict:
    """Tables with their columns, indexes and unique constraints, comparable with ==."""
    engine = migration.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            table: {
                'columns': sorted((c['name'], str(c['type']), c['nullable'])
                                  for c in inspector.get_columns(table)),
                'indexes': sorted((i['name'], tuple(i['column_names']))
                                  for i in inspector.get_indexes(table)),
                'uniques': sorted((u['name'] or '', tuple(u['column_names']))
                                  for u in inspector.get_unique_constraints(table)),
            }
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def _new_compute_node(**fields) -> int:
    """Insert a compute node through the session (so on [database] connection)."""
    node = models.ComputeNode(uuid=str(uuid.uuid4()), host='host1',
                              hypervisor_hostname='host1', **fields)
    with session.transaction() as s:
        s.add(node)
        s.flush()
        return node.id


_CLAIM_ONE_VCPU = sa.text(
    'UPDATE compute_nodes SET vcpus_used = vcpus_used + 1 '
    'WHERE id = :id AND vcpus_used + 1 <= vcpus')


class _MigrationTests:
    backend: str

    def setUp(self):
        super().setUp()
        database.require_backend(self, self.backend)

    def test_db_sync_creates_every_table(self):
        db = self.useFixture(database.Database(self.backend, sync=False))
        self.assertEqual(set(), _table_names(db.url))
        self.assertIsNone(migration.db_version(db.url))

        migration.db_sync(db.url)

        expected = set(models.Base.metadata.tables) | {'alembic_version'}
        self.assertEqual(expected, _table_names(db.url))

    def test_db_sync_defaults_to_the_configured_database(self):
        db = self.useFixture(database.Database(self.backend, sync=False))
        migration.db_sync()  # [database] connection, set by the fixture
        self.assertEqual(migration.head_revision(), migration.db_version(db.url))

    def test_models_and_migrations_agree(self):
        db = self.useFixture(database.Database(self.backend))
        diff = migration.compare_models_to_migrations(db.url)
        self.assertEqual([], diff, f'The migrations and the models differ on '
                         f'{self.backend}:\n{pprint.pformat(diff, width=100)}')

    def test_db_sync_twice_is_a_noop(self):
        db = self.useFixture(database.Database(self.backend))
        node_id = _new_compute_node(vcpus=4)
        schema = _schema(db.url)

        migration.db_sync(db.url)

        self.assertEqual(schema, _schema(db.url))
        self.assertEqual(migration.head_revision(), migration.db_version(db.url))
        with session.reader() as s:
            self.assertEqual(4, s.get(models.ComputeNode, node_id).vcpus)

    def test_db_version_is_head(self):
        db = self.useFixture(database.Database(self.backend))
        head = migration.head_revision()
        self.assertIsNotNone(head)
        self.assertEqual(head, migration.db_version(db.url))
        self.assertEqual(head, migration.db_version())  # the configured database

    def test_0007_fills_the_network_info_caches(self):
        # Servers with ports before 0007 keep their addresses: their caches are
        # written from the local ports tables, in the order the views showed them.
        db = self.useFixture(database.Database(self.backend, sync=False))
        migration.db_sync(db.url, '0006')
        server, gone = str(uuid.uuid4()), str(uuid.uuid4())
        engine = migration.create_engine(db.url)
        self.addCleanup(engine.dispose)
        old, new = datetime.datetime(2026, 1, 1), datetime.datetime(2026, 1, 2)
        with engine.begin() as conn:
            for uuid_, deleted in ((server, 0), (gone, 1)):
                conn.execute(sa.text(
                    "INSERT INTO instances (uuid, project_id, user_id, vcpus, memory_mb, "
                    "root_gb, ephemeral_gb, auto_disk_config, locked, deleted) VALUES "
                    "(:u, 'p', 'u', 1, 64, 1, 0, :f, :f, :d)"),
                    {'u': uuid_, 'd': deleted, 'f': False})
            conn.execute(sa.text(
                "INSERT INTO networks (id, name, shared, is_default, mtu, status, "
                "description, admin_state_up, router_external) VALUES "
                "('n1', 'private', :f, :f, 1500, 'ACTIVE', '', :t, :f)"),
                {'f': False, 't': True})
            conn.execute(sa.text(
                "INSERT INTO subnets (id, network_id, cidr, ip_version, enable_dhcp, "
                "description) VALUES ('s1', 'n1', '10.0.0.0/24', 4, :t, '')"), {'t': True})
            for port, device, mac, when in (('p-new', server, 'fa:16:3e:00:00:02', new),
                                            ('p-old', server, 'fa:16:3e:00:00:01', old),
                                            ('p-gone', gone, 'fa:16:3e:00:00:03', old)):
                conn.execute(sa.text(
                    "INSERT INTO ports (id, network_id, device_id, mac_address, status, "
                    "name, description, admin_state_up, preserve_on_delete, created_at) "
                    "VALUES (:p, 'n1', :d, :m, 'ACTIVE', '', '', :t, :f, :w)"),
                    {'p': port, 'd': device, 'm': mac, 'w': when, 't': True, 'f': False})
            for address, port in (('10.0.0.9', 'p-old'), ('10.0.0.10', 'p-old'),
                                  ('10.0.0.5', 'p-gone')):
                conn.execute(sa.text(
                    "INSERT INTO ip_allocations (subnet_id, ip_address, port_id) VALUES "
                    "('s1', :a, :p)"), {'a': address, 'p': port})

        migration.db_sync(db.url)

        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                'SELECT instance_uuid, network_info FROM instance_info_caches')).all()
        self.assertEqual([server], [r[0] for r in rows])
        self.assertEqual([
            {'id': 'p-old', 'network_id': 'n1', 'network_name': 'private',
             'mac_address': 'fa:16:3e:00:00:01',
             'fixed_ips': [{'ip_address': '10.0.0.10', 'version': 4},
                           {'ip_address': '10.0.0.9', 'version': 4}]},
            {'id': 'p-new', 'network_id': 'n1', 'network_name': 'private',
             'mac_address': 'fa:16:3e:00:00:02', 'fixed_ips': []}],
            json.loads(rows[0][1]))

    def test_conditional_update_claims_exactly_once(self):
        # How Kumo claims resources atomically: the update only matches while there
        # is room, so of two claims on a 1-vCPU node exactly one wins.
        self.useFixture(database.Database(self.backend))
        node_id = _new_compute_node(vcpus=1, vcpus_used=0)

        with session.transaction() as s:
            first = s.execute(_CLAIM_ONE_VCPU, {'id': node_id}).rowcount
        with session.transaction() as s:
            second = s.execute(_CLAIM_ONE_VCPU, {'id': node_id}).rowcount

        self.assertEqual((1, 0), (first, second))
        with session.reader() as s:
            self.assertEqual(1, s.get(models.ComputeNode, node_id).vcpus_used)

    def test_times_and_ratios_round_trip(self):
        # Microseconds survive (MariaDB DATETIME(6)), and ratios are double precision
        # in SQL arithmetic (MariaDB FLOAT would give 10 * 0.9 = 8.99999976).
        self.useFixture(database.Database(self.backend))
        when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
        node_id = _new_compute_node(vcpus=10, cpu_allocation_ratio=0.9, created_at=when)

        with session.reader() as s:
            node = s.get(models.ComputeNode, node_id)
            self.assertEqual(when, node.created_at)
            self.assertEqual(0.9, node.cpu_allocation_ratio)
            capacity = s.execute(sa.text(
                'SELECT vcpus * cpu_allocation_ratio FROM compute_nodes WHERE id = :id'),
                {'id': node_id}).scalar_one()
        self.assertAlmostEqual(9.0, float(capacity), places=9)


class TestMigrationsSQLite(_MigrationTests, testtools.TestCase):
    backend = 'sqlite'


class TestMigrationsPostgreSQL(_MigrationTests, testtools.TestCase):
    backend = 'postgresql'


class TestMigrationsMySQL(_MigrationTests, testtools.TestCase):
    backend = 'mysql'
