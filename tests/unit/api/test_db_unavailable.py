"""With the database unreachable the API answers 503 in Nova's format, never a
traceback; once it is reachable again, the same app answers as before.

(tests/faults restarts a real PostgreSQL under a running API; here the API's
connection points at a port nothing listens on, so SQLAlchemy's errors are real.)
"""
from __future__ import annotations

from oslo_config import cfg

from kumo_common.db import session
from tests.fixtures import cloud

CONF = cfg.CONF
UNREACHABLE = 'postgresql+psycopg2://kumo@127.0.0.1:1/kumo?connect_timeout=2'


class TestDatabaseUnavailable(cloud.CloudTestCase):
    COMPUTES = 0

    def _point_at(self, url: str) -> None:
        CONF.set_override('connection', url, group='database')
        session.dispose()

    def test_503_in_nova_format_then_recovery(self):
        reachable = CONF.database.connection
        self.assertEqual(200, self.cloud.request('GET', '/v2.1/flavors').status_code)
        self._point_at(UNREACHABLE)
        try:
            for method, path, body in (
                    ('GET', '/v2.1/servers', None), ('GET', '/v2.1/servers/detail', None),
                    ('GET', '/v2.1/flavors', None), ('GET', '/v2.1/os-keypairs', None),
                    ('POST', '/v2.1/servers', {'server': {
                        'name': 'vm', 'flavorRef': cloud.FLAVOR_TINY,
                        'imageRef': cloud.IMAGE_ID, 'networks': 'auto'}})):
                resp = self.cloud.request(method, path, json=body, version='2.37')
                self.assertEqual(503, resp.status_code, f'{method} {path}')
                self.assertEqual('application/json', resp.mimetype)
                self.assertEqual({'serviceUnavailable': {
                    'code': 503,
                    'message': 'The database is unavailable. Please try again later.'}},
                    resp.json)
                self.assertNotIn('Traceback', resp.get_data(True))
                self.assertEqual('5', resp.headers['Retry-After'])
                self.assertTrue(resp.headers['x-openstack-request-id'].startswith('req-'))
        finally:
            self._point_at(reachable)
        self.assertEqual(200, self.cloud.request('GET', '/v2.1/flavors').status_code)
        self.assertEqual(200, self.cloud.request('GET', '/v2.1/servers').status_code)
