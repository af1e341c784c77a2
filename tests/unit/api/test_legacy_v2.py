"""Nova's v2.0-compatible API under /v2 (api-paste's /v2/+): the same resources at
microversion 2.1 whatever the headers ask, no version headers answered, links under
/v2, and unknown body keys dropped instead of refused; GET /v2/ is the deprecated
v2.0 document, without a token."""
from __future__ import annotations

from tests.fixtures import cloud

BASE = 'http://localhost'   # Flask's test client's host


class TestLegacyV2(cloud.CloudTestCase):
    COMPUTES = 1

    def test_version_document_needs_no_token(self):
        for path in ('/v2', '/v2/'):
            resp = self.cloud.request('GET', path, token=None)
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            doc = resp.json['version']
            self.assertEqual(('v2.0', 'DEPRECATED', '', ''),
                             (doc['id'], doc['status'], doc['version'], doc['min_version']))
            self.assertEqual({'href': f'{BASE}/v2/', 'rel': 'self'}, doc['links'][0])
        # What GET / links to is served (Tempest follows it).
        root = self.cloud.request('GET', '/', token=None).json['versions']
        v20 = next(v for v in root if v['id'] == 'v2.0')
        self.assertEqual(200, self.cloud.request(
            'GET', v20['links'][0]['href'].removeprefix(BASE)).status_code)

    def test_resources_at_2_1_without_version_headers(self):
        token = self.new_token()
        project = token.split(':')[1]
        server = self.cloud.create_server(token=token)
        self.cloud.wait_settled(server['id'], 'ACTIVE')
        for path in (f"/v2/servers/{server['id']}", f"/v2/{project}/servers/{server['id']}"):
            resp = self.cloud.request('GET', path, token=token, version='2.100')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            self.assertNotIn('OpenStack-API-Version', resp.headers)
            self.assertNotIn('X-OpenStack-Nova-API-Version', resp.headers)
            shown = resp.json['server']
            # 2.1's view: no 2.9 `locked`, no 2.47 embedded flavor.
            self.assertNotIn('locked', shown)
            self.assertEqual({'id', 'links'}, set(shown['flavor']))
            self.assertTrue(shown['links'][0]['href'].startswith(f'{BASE}/v2/'), shown['links'])
        # Under /v2.1 the same header is honoured.
        resp = self.cloud.request('GET', f"/v2.1/servers/{server['id']}", token=token,
                                  version='2.100')
        self.assertEqual('compute 2.100', resp.headers['OpenStack-API-Version'])
        self.assertIn('locked', resp.json['server'])

    def test_unknown_body_keys_are_dropped_not_refused(self):
        token = self.new_token()
        body = {'server': {'name': 'legacy', 'flavorRef': cloud.FLAVOR_TINY,
                           'imageRef': cloud.IMAGE_ID, 'no_such_key': 1}}
        resp = self.cloud.request('POST', '/v2.1/servers', token=token, json=body)
        self.assertEqual(400, resp.status_code, resp.get_data(True))
        self.assertIn("'no_such_key' was unexpected", resp.json['badRequest']['message'])
        resp = self.cloud.request('POST', '/v2/servers', token=token, json=body)
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        server_id = resp.json['server']['id']
        self.assertEqual('legacy', self.cloud.get_server(server_id)['name'])
        # A known key still gets its checks.
        body = {'server': {'name': '', 'flavorRef': cloud.FLAVOR_TINY,
                           'imageRef': cloud.IMAGE_ID}}
        resp = self.cloud.request('POST', '/v2/servers', token=token, json=body)
        self.assertEqual(400, resp.status_code, resp.get_data(True))
        # Metadata keeps its patternProperties: nothing is dropped from it silently.
        resp = self.cloud.request('POST', '/v2/servers', token=token, json={
            'server': {'name': 'md', 'flavorRef': cloud.FLAVOR_TINY,
                       'imageRef': cloud.IMAGE_ID, 'metadata': {'': 'x'}}})
        self.assertEqual(400, resp.status_code, resp.get_data(True))
