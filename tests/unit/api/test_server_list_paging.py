"""How server lists read the database: paging with markers in the default order (pages
found by keyset, a WHERE on created_at and uuid, walk the same servers in the same
order as one big page, ties on created_at included; a marker outside the list is a
400), as many queries for a page of many servers as for a page of one, and the
batched reads behind the views (kumo_common.db.server_views: a page's related rows
in one statement, a show in one) alike on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import contextlib
import datetime
import io
import urllib.parse
import uuid as uuidlib

import sqlalchemy as sa
import testtools

from kumo_common.cmd import manage
from kumo_common.db import models, network_cache, server_views, session
from tests.fixtures import cloud, database


class TestMarkerPaging(cloud.CloudTestCase):
    COMPUTES = 1

    def walk(self, token: str, path: str, limit: int) -> list[str]:
        seen, url = [], f'{path}?limit={limit}'
        while url:
            resp = self.cloud.request('GET', url, token=token, version='2.100')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            seen += [s['id'] for s in resp.json['servers']]
            links = resp.json.get('servers_links')
            url = None
            if links:
                href = urllib.parse.urlsplit(links[0]['href'])
                url = f'{href.path}?{href.query}'
        return seen

    def test_pages_walk_the_whole_order(self):
        token = self.new_token()
        self.cloud.create_server(name='p', token=token, networks='none', min_count=7)
        project = token.split(':')[1]
        with session.transaction() as s:
            # Three servers created in the same instant: the uuid decides among them.
            ids = list(s.scalars(sa.select(models.Instance.id).where(
                models.Instance.project_id == project).order_by(models.Instance.id)))
            s.execute(sa.update(models.Instance).where(models.Instance.id.in_(ids[2:5]))
                      .values(created_at=sa.select(models.Instance.created_at)
                              .where(models.Instance.id == ids[2]).scalar_subquery()))
        for path in ('/v2.1/servers', '/v2.1/servers/detail'):
            everything = self.walk(token, path, 1000)
            self.assertEqual(7, len(everything))
            for limit in (1, 2, 3, 7):
                self.assertEqual(everything, self.walk(token, path, limit), (path, limit))

    def test_marker_outside_the_list(self):
        token = self.new_token()
        other = self.cloud.create_server(token=self.new_token(), networks='none')
        self.cloud.create_server(token=token, networks='none')
        resp = self.cloud.request('GET', f'/v2.1/servers?marker={other["id"]}', token=token)
        self.assertEqual(400, resp.status_code)
        self.assertEqual(f'marker [{other["id"]}] not found',
                         resp.json['badRequest']['message'])


class TestSortParameters(cloud.CloudTestCase):
    """sort_key/sort_dir as Nova's get_sort_params and process_sort_params take them."""
    COMPUTES = 1

    def names(self, token: str, query: str) -> list[str]:
        resp = self.cloud.request('GET', f'/v2.1/servers?{query}', token=token)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return [s['name'] for s in resp.json['servers']]

    def test_direction_alone_orders_by_created_at(self):
        token = self.new_token()
        for name in ('first', 'second', 'third'):
            self.cloud.create_server(name=name, token=token, networks='none')
        project = token.split(':')[1]
        with session.transaction() as s:
            for minute, name in enumerate(('first', 'second', 'third')):
                s.execute(sa.update(models.Instance).where(
                    models.Instance.project_id == project,
                    models.Instance.display_name == name).values(
                        created_at=datetime.datetime(2026, 1, 1, 0, minute)))
        self.assertEqual(['third', 'second', 'first'], self.names(token, ''))
        self.assertEqual(['third', 'second', 'first'], self.names(token, 'sort_dir=desc'))
        self.assertEqual(['first', 'second', 'third'], self.names(token, 'sort_dir=asc'))
        self.assertEqual(['first', 'second', 'third'],
                         self.names(token, 'sort_key=display_name&sort_dir=asc'))

    def test_bad_directions(self):
        token = self.new_token()
        unknown = ("Invalid input received: Unknown sort direction, must be 'desc' or "
                   "'asc'")
        too_many = 'Invalid input received: Sort direction size exceeds sort key size'
        for query, message in (('sort_dir=sideways', unknown),
                               ('sort_key=display_name&sort_dir=ASC', unknown),
                               ('sort_dir=asc&sort_dir=desc', too_many),
                               ('sort_key=display_name&sort_dir=asc&sort_dir=desc', too_many)):
            resp = self.cloud.request('GET', f'/v2.1/servers?{query}', token=token)
            self.assertEqual(400, resp.status_code, query)
            self.assertEqual(message, resp.json['badRequest']['message'], query)

    def test_bad_limits_as_nova_words_them(self):
        for query, message in (
                ('limit=', "Invalid input for query parameters limit. Value: . '' should "
                           'be non-empty'),
                ('limit=-1', "Invalid input for query parameters limit. Value: -1. '-1' "
                             "does not match '^[0-9]*$'")):
            for path in ('/v2.1/servers', '/v2.1/os-migrations'):
                resp = self.cloud.request('GET', f'{path}?{query}', token='admin:admin',
                                          version='2.59')
                self.assertEqual(400, resp.status_code, (path, query))
                self.assertEqual(message, resp.json['badRequest']['message'], (path, query))


class TestQueryCount(cloud.CloudTestCase):
    COMPUTES = 1

    @contextlib.contextmanager
    def counting(self):
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)
        engine = session.get_engine()
        sa.event.listen(engine, 'before_cursor_execute', count)
        try:
            yield statements
        finally:
            sa.event.remove(engine, 'before_cursor_execute', count)

    def queries(self, token: str, path: str, version: str) -> int:
        with self.counting() as statements:
            resp = self.cloud.request('GET', path, token=token, version=version)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return len(statements)

    def test_no_query_per_server(self):
        one, many = self.new_token(), self.new_token()
        for token, count in ((one, 1), (many, 6)):
            self.cloud.create_server(token=token, min_count=count, metadata={'a': '1'},
                                     tags=['t'], version='2.52')
        self.cloud.create_server(token=many, version='2.52')
        # Every build over before counting: the count is of the engine's statements,
        # the in-process conductor's and agents' included.
        for token in (one, many):
            for server in self.cloud.request('GET', '/v2.1/servers',
                                             token=token).json['servers']:
                self.cloud.wait_for_status(server['id'], 'ACTIVE')
        for version in ('2.1', '2.100'):
            for path in ('/v2.1/servers/detail', '/v2.1/servers/detail?limit=3'):
                self.assertEqual(self.queries(one, path, version),
                                 self.queries(many, path, version), (path, version))
            admin = f'admin:{many.split(":")[1]}'
            self.assertEqual(self.queries(f'admin:{one.split(":")[1]}',
                                          '/v2.1/servers/detail', version),
                             self.queries(admin, '/v2.1/servers/detail', version))


class TestBatchedReads(testtools.TestCase):
    """The UNION ALL (addresses included) and the show's single statement on every
    backend (casts, NULLs, order)."""

    def _check(self, backend: str) -> None:
        database.require_backend(self, backend)
        cloud.ensure_conf_parsed()
        self.useFixture(database.Database(backend))
        self.addCleanup(session.dispose)
        with contextlib.redirect_stdout(io.StringIO()):
            manage.cmd_seed(None)
        a, b = str(uuidlib.uuid4()), str(uuidlib.uuid4())
        with session.transaction() as s:
            net = s.scalar(sa.select(models.Network).where(models.Network.name == 'private'))
            for uuid, hints in ((a, {'same_host': ['x']}), (b, None)):
                s.add(models.Instance(uuid=uuid, project_id='p', user_id='u',
                                      display_name=uuid, image_ref=manage.TEST_IMAGE_ID))
                s.add(models.RequestSpecRecord(instance_uuid=uuid, spec={},
                                               scheduler_hints=hints))
            s.flush()
            s.add_all([models.InstanceMetadata(instance_uuid=a, key='k2', value='v2'),
                       models.InstanceMetadata(instance_uuid=a, key='k1', value=None),
                       models.Tag(resource_id=a, tag='t'),
                       models.InstanceSystemMetadata(instance_uuid=a, key='security_groups',
                                                     value='["web", "db"]'),
                       models.InstanceSystemMetadata(instance_uuid=a, key='image_x',
                                                     value='not a group'),
                       models.ServerGroup(uuid='g1', name='g', project_id='p', user_id='u',
                                          policy='affinity', rules={}),
                       models.Port(id='port-1', network_id=net.id, device_id=a,
                                   mac_address='fa:16:3e:00:00:01'),
                       models.Port(id='port-2', network_id=net.id, device_id=a,
                                   mac_address='fa:16:3e:00:00:02')])
            s.flush()
            s.add(models.ServerGroupMember(group_id=s.scalar(sa.select(models.ServerGroup.id)),
                                           instance_uuid=a))
            s.add(models.IPAllocation(subnet_id=net.subnets[0].id, ip_address='10.0.0.9',
                                      port_id='port-1'))
        with session.transaction() as s:
            # As the conductor does once it gave the server its ports.
            network_cache.refresh_local(s, a)
        with session.reader() as s:
            batch = server_views.related(s, [a, b], images=True, hints=True,
                                         groups=True)
            self.assertEqual('u', server_views.instance(s, a).user_id)
            # The show's single statement reads the same, for one server.
            shown = {uuid: server_views.show(s, uuid, hints=True, groups=True,
                                             images=True) for uuid in (a, b)}
        self.assertEqual({a: {'k2': 'v2', 'k1': None}}, batch.metadata)
        self.assertEqual(['k2', 'k1'], list(batch.metadata[a]))
        self.assertEqual({a: ['t']}, batch.tags)
        self.assertEqual({a: ['web', 'db']}, batch.security_groups)
        self.assertEqual({a: {'same_host': ['x']}, b: {}}, batch.hints)
        self.assertEqual({a: ['g1']}, batch.groups)
        # The image properties the server was built with: its image_* system metadata.
        self.assertEqual({a: {'x': 'not a group'}}, batch.image_properties)
        # A port without a fixed IP still names its network.
        self.assertEqual({a: [('private', 'fa:16:3e:00:00:01', '10.0.0.9'),
                              ('private', 'fa:16:3e:00:00:02', None)]}, batch.addresses)
        for uuid, (row, one) in shown.items():
            self.assertEqual((uuid, 'u', {}), (row.uuid, row.user_id, row.flavor or {}))
            for part in ('metadata', 'tags', 'security_groups', 'hints', 'groups',
                         'addresses', 'image_properties'):
                self.assertEqual({k: v for k, v in getattr(batch, part).items()
                                  if k == uuid}, getattr(one, part), (uuid, part))
            self.assertEqual(list(batch.metadata.get(uuid, {})),
                             list(one.metadata.get(uuid, {})))

    def test_sqlite(self):
        self._check('sqlite')

    def test_postgresql(self):
        self._check('postgresql')

    def test_mysql(self):
        self._check('mysql')

