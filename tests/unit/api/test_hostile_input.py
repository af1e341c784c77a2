"""Hostile input through the whole API: every one a 4xx in Nova's format, never a 5xx,
and a refused write writes nothing (DESIGN.md, "Bad input")."""
from __future__ import annotations

import json

import sqlalchemy as sa

from kumo_api import errors, server_filters
from kumo_common.db import models, session
from tests.fixtures import cloud

VERSION = '2.100'


def _rows() -> dict[str, int]:
    with session.reader() as s:
        return {t.__tablename__: s.scalar(sa.select(sa.func.count()).select_from(t))
                for t in (models.Instance, models.InstanceMetadata, models.Tag,
                          models.KeyPair, models.InstanceAction)}


class TestHostileInput(cloud.CloudTestCase):
    COMPUTES = 1

    def setUp(self):
        super().setUp()
        self.token = self.new_token()

    def req(self, method, path, **kwargs):
        kwargs.setdefault('token', self.token)
        kwargs.setdefault('version', VERSION)
        return self.cloud.request(method, path, **kwargs)

    def assertFault(self, resp, code, name, contains=''):
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        self.assertEqual([name], list(resp.json), resp.json)
        self.assertIn(contains, resp.json[name]['message'])

    def assertRefused(self, method, path, contains='', code=400, **kwargs):
        before = _rows()
        resp = self.req(method, path, **kwargs)
        self.assertFault(resp, code, 'badRequest' if code == 400 else 'overLimit', contains)
        self.assertEqual(before, _rows(), 'a refused request wrote rows')
        return resp

    def server(self, **fields) -> dict:
        return {'server': {'name': 'vm', 'flavorRef': cloud.FLAVOR_TINY,
                           'imageRef': cloud.IMAGE_ID, 'networks': 'auto', **fields}}

    # --- bodies ----------------------------------------------------------------------
    def test_deep_nesting(self):
        for data in ('[' * 10000 + ']' * 10000,
                     '{"server": ' + '{"a": ' * 10000 + '1' + '}' * 10001):
            self.assertRefused('POST', '/v2.1/servers', 'Malformed request body', data=data,
                               headers={'Content-Type': 'application/json'})
        hints = {'a': json.loads('[' * 200 + ']' * 200)}
        self.assertRefused('POST', '/v2.1/servers', 'nested deeper',
                           json={**self.server(), 'os:scheduler_hints': hints})

    def test_bad_utf8_body(self):
        self.assertRefused('POST', '/v2.1/servers', 'Malformed request body',
                           data=b'{"server": {"name": "\xff\xfe"}}',
                           headers={'Content-Type': 'application/json'})

    def test_nul_in_strings(self):
        self.assertRefused('POST', '/v2.1/servers', 'server/name',
                           json=self.server(name='a\x00b'))
        self.assertRefused('POST', '/v2.1/servers', 'server/metadata/k',
                           json=self.server(metadata={'k': 'a\x00'}))
        self.assertRefused('POST', '/v2.1/os-keypairs', 'NUL',
                           json={'keypair': {'name': 'k', 'public_key': 'ssh-rsa \x00'}})
        server = self.cloud.create_server(token=self.token, version=VERSION)
        self.assertRefused('PUT', f"/v2.1/servers/{server['id']}/metadata/k", 'meta/k',
                           json={'meta': {'k': 'x\x00'}})
        self.assertRefused('PUT', f"/v2.1/servers/{server['id']}/tags/a%00b", 'NUL')
        self.assertRefused('GET', '/v2.1/servers?name=a%00', 'NUL')
        self.assertRefused('GET', '/v2.1/servers?image=a%00', 'NUL')

    def test_four_byte_characters_in_names(self):
        # A name's 400 is Nova's own sentence (its 'name' format), with no field path.
        refused_name = "An invalid 'name' value was provided"
        for name in ('\U0001f600', 'vm-\U0001f680', '\U00020000'):
            self.assertRefused('POST', '/v2.1/servers', refused_name,
                               json=self.server(name=name))
            self.assertRefused('POST', '/v2.1/servers', 'server/description',
                               json=self.server(description=name))
        server = self.cloud.create_server(token=self.token, version=VERSION)
        self.assertRefused('PUT', f"/v2.1/servers/{server['id']}", refused_name,
                           json={'server': {'name': 'x\U0001f600'}})
        # The BMP is fine, as in Nova.
        resp = self.req('PUT', f"/v2.1/servers/{server['id']}",
                        json={'server': {'name': 'é-名前-\ufffd'}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))

    def test_numbers_json_cannot_carry(self):
        for data in ('{"server": {"name": "vm", "flavorRef": NaN}}',
                     '{"quota_set": {"instances": 1e400}}'):
            self.assertRefused('POST', '/v2.1/servers', 'Malformed', data=data,
                               headers={'Content-Type': 'application/json'})

    # --- query strings -----------------------------------------------------------------
    def test_huge_query_string(self):
        resp = self.req('GET', '/v2.1/servers?' + '&'.join(['name=a'] * 5000))
        self.assertFault(resp, 414, 'computeFault', 'longer than')

    def test_thousands_of_tags_and_sort_keys(self):
        tags = ','.join(f't{n}' for n in range(2500))
        for name in ('tags', 'tags-any', 'not-tags', 'not-tags-any'):
            resp = self.req('GET', f'/v2.1/servers?{name}={tags}')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
        resp = self.req('GET', '/v2.1/servers?' + '&'.join(['sort_key=uuid'] * 1100),
                        version='2.1')
        self.assertEqual(200, resp.status_code, resp.get_data(True))

    def test_tag_filters_keep_their_meaning(self):
        ids = {}
        for name, tags in (('ab', ['a', 'b']), ('a', ['a']), ('c', ['c']), ('none', [])):
            ids[name] = self.cloud.create_server(name, token=self.token, version=VERSION,
                                                 tags=tags)['id']

        def listed(query):
            resp = self.req('GET', f'/v2.1/servers?{query}')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            return {name for name, sid in ids.items()
                    if sid in {s['id'] for s in resp.json['servers']}}

        self.assertEqual({'ab'}, listed('tags=a,b'))
        self.assertEqual({'ab'}, listed('tags=a,b,a'))
        self.assertEqual({'ab', 'a'}, listed('tags=a'))
        self.assertEqual({'ab', 'a', 'c'}, listed('tags-any=b,c,a'))
        self.assertEqual({'a', 'c', 'none'}, listed('not-tags=a,b'))
        self.assertEqual({'none'}, listed('not-tags-any=a,c'))
        self.assertEqual({'a'}, listed('tags=a&not-tags=b'))

    def test_patterns_the_regex_module_cannot_take(self):
        for query, contains in (('name={i', "is not a 'regex'"),
                                ('name=a{4000000}', 'Repeat counts'),
                                ('name=(?:a{1000}){1000}', 'Repeat counts'),
                                ('ip=' + '(' * 3000 + ')' * 3000, "is not a 'regex'"),
                                ('name=a{99999999999999999}', "is not a 'regex'")):
            resp = self.req('GET', f'/v2.1/servers?{query}')
            self.assertFault(resp, 400, 'badRequest', contains)
        # Admin-only regex filters have no schema: the same check applies.
        resp = self.req('GET', '/v2.1/servers?all_tenants=1&node={e<=1', token='admin:admin')
        self.assertFault(resp, 400, 'badRequest', "is not a 'regex'")

    def test_check_pattern_counts_escapes_and_nesting(self):
        limit = server_filters.MAX_REPEAT_PRODUCT
        for ok in ('a{3}', r'\d{1,3}\.\d{1,3}', 'x{%d}' % limit, r'\{99999999\}'):
            server_filters.check_pattern('name', ok)
        for bad in (r'\\{%d}' % (limit + 1), 'a{0}(?:b{400}){400}', 'a{0001000000}'):
            self.assertRaises(errors.BadRequest, server_filters.check_pattern, 'name', bad)

    def test_integer_ids_in_paths(self):
        for raw in ('%C2%B9', '--5', '9' * 5000, '-' + '9' * 30):
            resp = self.req('GET', f'/v2.1/os-aggregates/{raw}', token='admin:admin')
            self.assertIn(resp.status_code, (400, 404), resp.get_data(True))
        resp = self.req('GET', '/v2.1/os-hypervisors?marker=%C2%B9', token='admin:admin',
                        version='2.33')
        self.assertFault(resp, 400, 'badRequest')

    def test_paging_numbers_beyond_any_row(self):
        resp = self.req('GET', f"/v2.1/os-server-groups?limit={'9' * 30}&offset={'9' * 30}")
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual([], resp.json['server_groups'])
