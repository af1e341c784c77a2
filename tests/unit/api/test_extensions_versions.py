"""GET /extensions, /extensions/{alias} and /versions/{id} against the real app:
Nova 34's fixed extension list and its version documents by id."""
from __future__ import annotations

from kumo_api import microversion
from tests.fixtures import cloud

ADMIN = cloud.ADMIN_TOKEN
# Nova's schema of one extension (schemas/extension_info.py): these keys, no others.
EXTENSION_KEYS = {'alias', 'description', 'links', 'name', 'namespace', 'updated'}
NOT_FOUND = {'itemNotFound': {'code': 404, 'message': 'The resource could not be found.'}}
BASE = 'http://localhost'   # Flask's test client's host


class TestExtensions(cloud.CloudTestCase):
    COMPUTES = 1

    def get(self, path: str, token: str | None = None, version: str | None = None):
        return self.cloud.request('GET', path, token=token or self.new_token(),
                                  version=version)

    def test_list_is_novas(self):
        resp = self.get('/v2.1/extensions')
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual(['extensions'], list(resp.json))
        extensions = resp.json['extensions']
        # Nova 34's v2.1 list: 99 entries, sorted by alias, one shape.
        self.assertEqual(99, len(extensions))
        aliases = [e['alias'] for e in extensions]
        self.assertEqual(sorted(aliases), aliases)
        self.assertEqual(len(aliases), len(set(aliases)))
        for extension in extensions:
            self.assertEqual(EXTENSION_KEYS, set(extension), extension)
            self.assertEqual([], extension['links'])
            self.assertEqual('http://docs.openstack.org/compute/ext/fake_xml',
                             extension['namespace'])
            self.assertEqual('2014-12-03T00:00:00Z', extension['updated'])
        self.assertEqual(('NMN', 'os-volumes'), (aliases[0], aliases[-1]))
        by_alias = {e['alias']: e for e in extensions}
        self.assertEqual({'alias': 'os-keypairs', 'description': 'Keypair Support.',
                          'links': [], 'name': 'Keypairs',
                          'namespace': 'http://docs.openstack.org/compute/ext/fake_xml',
                          'updated': '2014-12-03T00:00:00Z'}, by_alias['os-keypairs'])
        # Descriptions are kept as Nova answers them, docstring indentation included.
        self.assertEqual('Enable admin-only server actions\n\n    Actions include: '
                         'resetNetwork, injectNetworkInfo, os-resetState\n    ',
                         by_alias['os-admin-actions']['description'])
        # The legacy v2 compatible list's extra entry is not in v2.1's.
        self.assertNotIn('OS-EXT-VIF-NET', by_alias)
        # Not microversioned: the same at the maximum, and whatever the query says.
        self.assertEqual(resp.json, self.get('/v2.1/extensions', version='2.100').json)
        self.assertEqual(resp.json, self.get('/v2.1/extensions?foo=bar').json)

    def test_show_by_alias(self):
        listed = self.get('/v2.1/extensions').json['extensions']
        for extension in (listed[0], listed[50], listed[-1]):
            resp = self.get(f"/v2.1/extensions/{extension['alias']}")
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            self.assertEqual({'extension': extension}, resp.json)

    def test_unknown_alias_is_404(self):
        for alias in ('os-nothing', 'OS-EXT-VIF-NET', 'OS-KEYPAIRS'):
            resp = self.get(f'/v2.1/extensions/{alias}')
            self.assertEqual(404, resp.status_code, alias)
            self.assertEqual(NOT_FOUND, resp.json)

    def test_needs_a_token_as_any_api_call(self):
        resp = self.cloud.request('GET', '/v2.1/extensions', token=None)
        self.assertEqual(401, resp.status_code)
        # Anyone with one may read it (Nova's default '@'), with the project in the URL too.
        token = self.new_token()
        project = token.split(':')[1]
        resp = self.get(f'/v2.1/{project}/extensions/os-keypairs', token=token)
        self.assertEqual(200, resp.status_code, resp.get_data(True))


class TestVersionById(cloud.CloudTestCase):
    COMPUTES = 1

    def get(self, version_id: str, token: str | None = ADMIN):
        return self.cloud.request('GET', f'/v2.1/versions/{version_id}', token=token)

    def test_v2_1_is_the_version_document(self):
        resp = self.get('v2.1')
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual({'version': {
            'id': 'v2.1',
            'links': [{'href': f'{BASE}/v2.1/', 'rel': 'self'},
                      {'href': 'http://docs.openstack.org/', 'rel': 'describedby',
                       'type': 'text/html'}],
            'status': 'CURRENT',
            'version': str(microversion.MAX),
            'min_version': str(microversion.MIN),
            'updated': '2013-07-23T11:33:21Z',
            'media-types': [{'base': 'application/json',
                             'type': 'application/vnd.openstack.compute+json;version=2.1'}],
        }}, resp.json)
        # GET /v2.1/ answers the same document.
        self.assertEqual(resp.json, self.cloud.request('GET', '/v2.1/', token=None).json)

    def test_v2_0_is_deprecated_and_linked_through_v2_1(self):
        resp = self.get('v2.0')
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        # As Nova's view: the self link is the API asked (/v2.1/), not /v2/.
        self.assertEqual({'version': {
            'id': 'v2.0',
            'links': [{'href': f'{BASE}/v2.1/', 'rel': 'self'},
                      {'href': 'http://docs.openstack.org/', 'rel': 'describedby',
                       'type': 'text/html'}],
            'status': 'DEPRECATED',
            'version': '',
            'min_version': '',
            'updated': '2025-07-04T12:00:00Z',
            'media-types': [{'base': 'application/json',
                             'type': 'application/vnd.openstack.compute+json;version=2'}],
        }}, resp.json)

    def test_unknown_version_is_404(self):
        for version_id in ('v3', 'v2', '2.1', 'v2.1.0'):
            resp = self.get(version_id)
            self.assertEqual(404, resp.status_code, version_id)
            self.assertEqual(NOT_FOUND, resp.json)

    def test_inside_the_api_it_needs_a_token(self):
        # Nova serves /v2.1/versions/{id} from the API (auth), unlike /v2.1/ itself.
        self.assertEqual(401, self.get('v2.1', token=None).status_code)
        self.assertEqual(200, self.get('v2.1', token=self.new_token()).status_code)
