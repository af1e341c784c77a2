"""/healthcheck answers without a token, and answers only there: every other path
still reaches auth and the API."""
from __future__ import annotations

from tests.fixtures import cloud


class TestHealthcheck(cloud.CloudTestCase):
    COMPUTES = 0

    def test_healthcheck_needs_no_token(self):
        resp = self.cloud.request('GET', '/healthcheck', token=None)
        self.assertEqual(200, resp.status_code)
        self.assertTrue(resp.headers['x-openstack-request-id'].startswith('req-'))

    def test_version_document_is_not_the_healthcheck(self):
        resp = self.cloud.request('GET', '/', token=None)
        self.assertEqual(200, resp.status_code)
        self.assertEqual(['v2.0', 'v2.1'], [v['id'] for v in resp.json['versions']])

    def test_api_still_needs_a_token(self):
        resp = self.cloud.request('GET', '/v2.1/servers', token=None)
        self.assertEqual(401, resp.status_code)
        resp = self.cloud.request('GET', '/v2.1/servers')
        self.assertEqual(200, resp.status_code)
        self.assertEqual({'servers': []}, resp.json)
