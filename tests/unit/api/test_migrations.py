"""GET /os-migrations and GET /servers/{id}/migrations[/{id}] by microversion.

The reference in /work/shared/reference has neither os-migrations.inc nor its
api_samples; the field sets below are those of Nova's api-ref (os-migrations.inc,
server-migrations.inc) and of its samples per microversion: the fields of 2.1, plus
migration_type (2.23), uuid (2.59), user_id and project_id (2.80). The `links` of an
item and the per-server list belong to in-progress live migrations: see
test_server_migrations_live.py.
"""
from __future__ import annotations

import urllib.parse

import sqlalchemy as sa

from kumo_common.db import models, session
from tests.unit.api import api_samples
from tests.unit.api.test_server_resize import ADMIN, MEDIUM, SMALL, ResizeCase

FIELDS_21 = ['created_at', 'dest_compute', 'dest_host', 'dest_node', 'id', 'instance_uuid',
             'new_instance_type_id', 'old_instance_type_id', 'source_compute',
             'source_node', 'status', 'updated_at']
FIELDS = {
    '2.1': FIELDS_21,
    '2.23': FIELDS_21 + ['migration_type'],
    '2.59': FIELDS_21 + ['migration_type', 'uuid'],
    '2.66': FIELDS_21 + ['migration_type', 'uuid'],
    '2.80': FIELDS_21 + ['migration_type', 'uuid', 'user_id', 'project_id'],
}


class TestOsMigrations(ResizeCase):

    def setUp(self):
        super().setUp()
        # Two resizes of one server: confirmed, then reverted.
        self.to_verify_resize(SMALL)
        self.act({'confirmResize': None}, 204)
        self.wait_idle('ACTIVE')
        self.to_verify_resize(MEDIUM)
        self.act({'revertResize': None})
        self.wait_idle('ACTIVE')

    def get(self, query: str = '', version: str = '2.80', token: str = ADMIN,
            code: int = 200, mine: bool = True):
        sep = '&' if query else ''
        if mine:
            query = f'instance_uuid={self.server_id}{sep}{query}'
        resp = self.cloud.request('GET', f'/v2.1/os-migrations?{query}', token=token,
                                  version=version)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json

    def test_fields_by_microversion_newest_first(self):
        for version, fields in FIELDS.items():
            body = self.get(version=version)
            self.assertEqual(['migrations'], list(body), version)
            newest, oldest = body['migrations']
            for item in (newest, oldest):
                self.assertEqual(sorted(fields), sorted(item), version)
            self.assertEqual(('reverted', 'confirmed'), (newest['status'],
                                                         oldest['status']), version)
            self.assertGreater(newest['id'], oldest['id'])
        newest, oldest = self.get()['migrations']
        self.assertEqual(('resize', self.server_id, self.project),
                         (newest['migration_type'], newest['instance_uuid'],
                          newest['project_id']))
        self.assertEqual(self.token.split(':')[0], newest['user_id'])
        self.assertEqual(oldest['new_instance_type_id'], newest['old_instance_type_id'])
        self.assertNotEqual(newest['old_instance_type_id'], newest['new_instance_type_id'])
        self.assertEqual(newest['source_compute'], oldest['dest_compute'])
        # dest_host: the destination's IP address, as Nova's (its my_ip).
        hypervisors = self.cloud.request('GET', '/v2.1/os-hypervisors/detail', token=ADMIN,
                                         version='2.53').json['hypervisors']
        ips = {h['service']['host']: h['host_ip'] for h in hypervisors}
        self.assertTrue(ips[newest['dest_compute']])
        self.assertEqual((ips[newest['dest_compute']], ips[oldest['dest_compute']]),
                         (newest['dest_host'], oldest['dest_host']))
        # Value types as the samples': ints for ids, naive ISO times, strings.
        self.assertIsInstance(newest['id'], int)
        self.assertIsInstance(newest['new_instance_type_id'], int)
        self.assertRegex(newest['created_at'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$')
        self.assertRegex(newest['updated_at'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$')

    def test_filters(self):
        newest, oldest = self.get()['migrations']
        self.assertEqual([oldest['uuid']], [m['uuid'] for m in self.get(
            'status=confirmed')['migrations']])
        self.assertEqual(2, len(self.get('migration_type=resize')['migrations']))
        self.assertEqual([], self.get('migration_type=live-migration')['migrations'])
        self.assertEqual([newest['uuid']], [m['uuid'] for m in self.get(
            f"source_compute={newest['source_compute']}")['migrations']])
        # host: source or destination.
        self.assertEqual(2, len(self.get(f"host={newest['source_compute']}")
                                ['migrations']))
        self.assertEqual(2, len(self.get(f'project_id={self.project}')['migrations']))
        self.assertEqual([], self.get('project_id=other')['migrations'])
        self.assertEqual([], self.get('user_id=other')['migrations'])
        self.assertEqual([], self.get('changes-since=2999-01-01T00:00:00Z')['migrations'])
        self.assertEqual(2, len(self.get('changes-before=2999-01-01T00:00:00Z')
                                ['migrations']))
        self.assertEqual(2, len(self.get('changes-since=2000-01-01T00:00:00Z')
                                ['migrations']))

    def test_hidden_migrations_are_never_shown(self):
        with session.transaction() as s:
            s.execute(sa.update(models.Migration).where(
                models.Migration.instance_uuid == self.server_id,
                models.Migration.status == 'confirmed').values(hidden=True))
        self.assertEqual(['reverted'], [m['status'] for m in self.get()['migrations']])
        # Nova's API drops hidden ones after its query, whatever `hidden` asked for.
        self.assertEqual(['reverted'], [m['status'] for m in self.get('hidden=1')
                                        ['migrations']])

    def test_paging_from_2_59(self):
        newest, oldest = self.get()['migrations']
        body = self.get('limit=1', version='2.59')
        self.assertEqual([newest['uuid']], [m['uuid'] for m in body['migrations']])
        [link] = body['migrations_links']
        self.assertEqual('next', link['rel'])
        self.assertEqual(
            (True, 'os-migrations', sorted([('instance_uuid', self.server_id),
                                            ('limit', '1'), ('marker', newest['uuid'])])),
            api_samples.link_target(link['href']))
        # Following the link gives the rest.
        query = urllib.parse.urlsplit(link['href']).query
        body = self.get(query, version='2.59', mine=False)
        self.assertEqual([oldest['uuid']], [m['uuid'] for m in body['migrations']])
        self.assertIn('migrations_links', body)     # a full page (1 of 1)
        body = self.get(f"limit=1&marker={oldest['uuid']}", version='2.59')
        self.assertEqual({'migrations': []}, body)
        # No full page: no link.
        self.assertNotIn('migrations_links', self.get('limit=5', version='2.59'))
        # Before 2.59 limit and marker mean nothing (and no link).
        body = self.get('limit=1', version='2.58')
        self.assertEqual(2, len(body['migrations']))
        self.assertNotIn('migrations_links', body)

    def test_query_errors(self):
        self.get('marker=no-such-migration', version='2.59', code=400)
        self.get('limit=-1', version='2.59', code=400)
        self.get('limit=x', version='2.59', code=400)
        self.get('changes-since=yesterday', version='2.59', code=400)
        body = self.get('changes-since=2020-01-02T00:00:00Z&'
                        'changes-before=2020-01-01T00:00:00Z', version='2.66', code=400)
        self.assertIn('changes-since must be less than or equal to changes-before',
                      body['badRequest']['message'])
        # Unknown parameters: ignored before 2.59, a 400 from then on; changes-before
        # from 2.66, user_id and project_id from 2.80.
        self.assertEqual(2, len(self.get('foo=bar', version='2.58')['migrations']))
        self.get('foo=bar', version='2.59', code=400)
        self.get('changes-before=2999-01-01T00:00:00Z', version='2.65', code=400)
        self.get('user_id=x', version='2.79', code=400)
        self.get('project_id=x', version='2.79', code=400)
        # A user may not list them.
        self.get(token=self.token, code=403)


class TestServerMigrations(ResizeCase):

    def request(self, path: str, version: str = '2.80', token: str = ADMIN):
        return self.cloud.request('GET', f'/v2.1/servers/{path}', token=token,
                                  version=version)

    def test_list_is_empty_even_during_a_resize(self):
        self.to_verify_resize(SMALL)
        resp = self.request(f'{self.server_id}/migrations')
        self.assertEqual((200, {'migrations': []}), (resp.status_code, resp.json))
        self.assertEqual(200, self.request(f'{self.server_id}/migrations',
                                           version='2.23').status_code)
        # Not there before 2.23.
        self.assertEqual(404, self.request(f'{self.server_id}/migrations',
                                           version='2.22').status_code)
        # Admins only (the server is looked up first, as Nova).
        self.assertEqual(403, self.request(f'{self.server_id}/migrations',
                                           token=self.token).status_code)
        resp = self.request('3f0b7b5c-0000-4000-8000-000000000000/migrations')
        self.assertEqual(404, resp.status_code)
        self.assertIn('could not be found', resp.json['itemNotFound']['message'])

    def test_show_is_a_404(self):
        self.to_verify_resize(SMALL)
        with session.reader() as s:
            migration_id = s.scalars(sa.select(models.Migration.id).where(
                models.Migration.instance_uuid == self.server_id)).one()
        resp = self.request(f'{self.server_id}/migrations/{migration_id}')
        self.assertEqual(404, resp.status_code)
        self.assertEqual(f'Migration {migration_id} for server {self.server_id} is not '
                         'live-migration.', resp.json['itemNotFound']['message'])
        for missing in (str(migration_id + 1000), 'abc'):
            resp = self.request(f'{self.server_id}/migrations/{missing}')
            self.assertEqual(404, resp.status_code)
            self.assertEqual(f'In-progress live migration {missing} is not found for '
                             f'server {self.server_id}.', resp.json['itemNotFound']['message'])
        self.assertEqual(403, self.request(f'{self.server_id}/migrations/{migration_id}',
                                           token=self.token).status_code)
        self.assertEqual(404, self.request(f'{self.server_id}/migrations/{migration_id}',
                                           version='2.22').status_code)
