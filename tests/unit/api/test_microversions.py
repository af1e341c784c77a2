"""Microversion negotiation, version documents and request ids, through the real app."""
from __future__ import annotations

import json
import os

from tests.fixtures import cloud

SAMPLES = '/work/shared/reference/api_samples'
_SAMPLES_DIR = os.environ.get('KUMO_API_SAMPLES', SAMPLES)


def _sample(path: str) -> dict:
    """An api_samples document as Kumo must serve it: our host and maximum (2.100)."""
    with open(os.path.join(_SAMPLES_DIR, path)) as f:
        text = f.read()
    text = text.replace('http://openstack.example.com', 'http://localhost')
    text = text.replace('"version": "2.104"', '"version": "2.100"')
    return json.loads(text)


class TestNegotiation(cloud.CloudTestCase):
    COMPUTES = 0

    def _get(self, headers=None, path='/v2.1/servers'):
        return self.cloud.request('GET', path, headers=headers or {})

    def assertVersion(self, version, resp):
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual(f'compute {version}', resp.headers['OpenStack-API-Version'])
        self.assertEqual(version, resp.headers['X-OpenStack-Nova-API-Version'])
        vary = {v.strip() for v in resp.headers['Vary'].split(',')}
        self.assertIn('OpenStack-API-Version', vary)
        self.assertIn('X-OpenStack-Nova-API-Version', vary)

    def test_no_header_is_2_1(self):
        self.assertVersion('2.1', self._get())

    def test_new_header(self):
        self.assertVersion('2.47', self._get({'OpenStack-API-Version': 'compute 2.47'}))

    def test_new_header_for_another_service_is_ignored(self):
        self.assertVersion('2.1', self._get({'OpenStack-API-Version': 'volume 3.50'}))

    def test_legacy_header_alone(self):
        self.assertVersion('2.47', self._get({'X-OpenStack-Nova-API-Version': '2.47'}))

    def test_new_header_wins_over_legacy(self):
        self.assertVersion('2.60', self._get({'OpenStack-API-Version': 'compute 2.60',
                                              'X-OpenStack-Nova-API-Version': '2.3'}))

    def test_latest(self):
        self.assertVersion('2.100', self._get({'OpenStack-API-Version': 'compute latest'}))
        self.assertVersion('2.100', self._get({'X-OpenStack-Nova-API-Version': 'latest'}))

    def test_extremes(self):
        self.assertVersion('2.1', self._get({'OpenStack-API-Version': 'compute 2.1'}))
        self.assertVersion('2.100', self._get({'OpenStack-API-Version': 'compute 2.100'}))

    def test_version_changes_behaviour(self):
        # The images proxy is gone from 2.36: the negotiated version is really used,
        # whichever header carried it.
        for headers, code in (({'OpenStack-API-Version': 'compute 2.35'}, 200),
                              ({'OpenStack-API-Version': 'compute 2.36'}, 404),
                              ({'X-OpenStack-Nova-API-Version': '2.35'}, 200),
                              ({'X-OpenStack-Nova-API-Version': '2.36'}, 404)):
            resp = self._get(headers, path='/v2.1/images')
            self.assertEqual(code, resp.status_code, headers)

    def test_unsupported_versions_406(self):
        for version in ('2.101', '3.0', '2.0', '1.1'):
            for headers in ({'OpenStack-API-Version': f'compute {version}'},
                            {'X-OpenStack-Nova-API-Version': version}):
                resp = self._get(headers)
                self.assertEqual(406, resp.status_code, headers)
                self.assertEqual(
                    {'computeFault': {
                        'code': 406,
                        'message': f'Version {version} is not supported by the API. '
                                   'Minimum is 2.1 and maximum is 2.100.'}},
                    resp.json)

    def test_malformed_versions_400(self):
        for version in ('2.01', 'abc', '2', '2.1.1', '2.x', '-2.1'):
            headers = {'OpenStack-API-Version': f'compute {version}'}
            resp = self._get(headers)
            self.assertEqual(400, resp.status_code, headers)
            self.assertEqual(['badRequest'], list(resp.json))
            self.assertEqual(400, resp.json['badRequest']['code'])
            self.assertIn(version, resp.json['badRequest']['message'])

    def test_unsupported_on_post_writes_nothing(self):
        resp = self.cloud.request('POST', '/v2.1/servers', version='2.101',
                                  json={'server': {'name': 'x', 'flavorRef': '1',
                                                   'imageRef': cloud.IMAGE_ID,
                                                   'networks': 'none'}})
        self.assertEqual(406, resp.status_code)
        resp = self._get()
        self.assertEqual([], resp.json['servers'])


class TestVersionDocuments(cloud.CloudTestCase):
    COMPUTES = 0

    def test_root(self):
        resp = self.cloud.request('GET', '/', token=None)
        self.assertEqual(200, resp.status_code)
        self.assertEqual('application/json', resp.mimetype)
        self.assertEqual(_sample('versions/versions-get-resp.json'), resp.json)

    def test_v21(self):
        for path in ('/v2.1/', '/v2.1'):
            resp = self.cloud.request('GET', path, token=None)
            self.assertEqual(200, resp.status_code, path)
            self.assertEqual(_sample('versions/v21-version-get-resp.json'), resp.json)

    def test_documents_ignore_microversion_headers(self):
        # Discovery must work for any client, even one asking for a version we lack.
        resp = self.cloud.request('GET', '/', token=None, version='2.200')
        self.assertEqual(200, resp.status_code)
        self.assertEqual('2.100', resp.json['versions'][1]['version'])

    def test_v21_document_is_a_v21_response(self):
        # As Nova's: its microversion is negotiated and answered in the headers
        # (a version it lacks is a 406), where the root document ignores them.
        for path in ('/v2.1/', '/v2.1'):
            resp = self.cloud.request('GET', path, token=None, version='2.50')
            self.assertEqual(200, resp.status_code, path)
            self.assertEqual('compute 2.50', resp.headers['OpenStack-API-Version'])
            self.assertEqual('2.50', resp.headers['X-OpenStack-Nova-API-Version'])
            self.assertEqual(406, self.cloud.request('GET', path, token=None,
                                                     version='2.200').status_code)

    def test_documents_with_a_token(self):
        resp = self.cloud.request('GET', '/v2.1/', token=cloud.DEMO_TOKEN)
        self.assertEqual(200, resp.status_code)

    def test_api_needs_a_token(self):
        resp = self.cloud.request('GET', '/v2.1/servers', token=None)
        self.assertEqual(401, resp.status_code)


class TestRequestIds(cloud.CloudTestCase):
    COMPUTES = 0

    def _assert_ids(self, resp, what):
        rid = resp.headers.get('x-openstack-request-id')
        self.assertIsNotNone(rid, what)
        self.assertTrue(rid.startswith('req-'), (what, rid))
        self.assertEqual(rid, resp.headers.get('x-compute-request-id'), what)
        return rid

    def test_every_response_carries_the_request_id(self):
        server = {'name': 'x', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID}
        calls = [
            ('GET', '/', None, {}, 200),
            ('GET', '/v2.1/', None, {}, 200),
            ('GET', '/v2.1/servers', cloud.DEMO_TOKEN, {}, 200),
            ('GET', '/v2.1/servers', None, {}, 401),
            ('GET', '/v2.1/servers/no-such-server', cloud.DEMO_TOKEN, {}, 404),
            ('GET', '/v2.1/no-such-resource', cloud.DEMO_TOKEN, {}, 404),
            ('PUT', '/v2.1/servers', cloud.DEMO_TOKEN, {}, 404),
            ('GET', '/v2.1/servers', cloud.DEMO_TOKEN,
             {'OpenStack-API-Version': 'compute 3.0'}, 406),
            ('GET', '/v2.1/servers', cloud.DEMO_TOKEN,
             {'OpenStack-API-Version': 'compute 2.01'}, 400),
            # 2.37+ needs `networks`.
            ('POST', '/v2.1/servers', cloud.DEMO_TOKEN,
             {'json': {'server': server}, 'OpenStack-API-Version': 'compute 2.37'}, 400),
        ]
        seen = set()
        for method, path, token, extra, code in calls:
            kwargs = dict(extra)
            body = kwargs.pop('json', None)
            resp = self.cloud.request(method, path, token=token, headers=kwargs,
                                      json=body)
            self.assertEqual(code, resp.status_code, (method, path, resp.get_data(True)))
            seen.add(self._assert_ids(resp, (method, path)))
        self.assertEqual(len(calls), len(seen), 'request ids must differ per request')
