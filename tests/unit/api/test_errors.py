"""Bad requests get Nova-format errors, and a rejected create writes nothing."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from kumo_common.db import models, session
from tests.fixtures import cloud


def _row_counts() -> dict[str, int]:
    """Rows of every table a create writes to."""
    tables = (models.Instance, models.InstanceMetadata, models.RequestSpecRecord,
              models.InstanceAction, models.Port, models.Tag)
    with session.reader() as s:
        return {t.__tablename__: s.scalar(sa.select(sa.func.count()).select_from(t))
                for t in tables}


class TestErrors(cloud.CloudTestCase):
    COMPUTES = 1

    def _server(self, **kw) -> dict:
        server = {'name': 'vm', 'flavorRef': cloud.FLAVOR_TINY, 'imageRef': cloud.IMAGE_ID,
                  'networks': 'auto'}
        server.update(kw)
        return {k: v for k, v in server.items() if v is not None}

    def assertFault(self, resp, code, name, message=None, contains=None):
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        self.assertEqual('application/json', resp.mimetype)
        body = resp.json
        self.assertEqual([name], list(body), body)
        self.assertEqual(code, body[name]['code'])
        if message is not None:
            self.assertEqual(message, body[name]['message'])
        if contains is not None:
            self.assertIn(contains, body[name]['message'])

    def assertRejectedCreate(self, code, name, message=None, contains=None,
                             version='2.37', **request):
        before = _row_counts()
        resp = self.cloud.request('POST', '/v2.1/servers', version=version, **request)
        self.assertFault(resp, code, name, message, contains)
        self.assertEqual(before, _row_counts(), 'a rejected create wrote rows')
        return resp

    # --- bodies ------------------------------------------------------------------
    def test_malformed_json(self):
        for data in ('{"server": ', 'not json', '', '[1, 2'):
            self.assertRejectedCreate(
                400, 'badRequest', 'Malformed request body', data=data,
                headers={'Content-Type': 'application/json'})

    def test_missing_server_key(self):
        self.assertRejectedCreate(400, 'badRequest', "'server' is a required property",
                                  json={})

    def test_unknown_property_in_server(self):
        self.assertRejectedCreate(400, 'badRequest', contains='bogus_key',
                                  json={'server': self._server(bogus_key='x')})

    def test_unknown_top_level_property(self):
        self.assertRejectedCreate(400, 'badRequest', contains='bogus_top',
                                  json={'server': self._server(), 'bogus_top': 1})

    def test_missing_name(self):
        self.assertRejectedCreate(400, 'badRequest', contains="'name' is a required",
                                  json={'server': self._server(name=None)})

    def test_unknown_flavor(self):
        for ref in ('no-such-flavor', '999', 'http://localhost/flavors/999'):
            self.assertRejectedCreate(400, 'badRequest', 'Invalid flavorRef provided.',
                                      json={'server': self._server(flavorRef=ref)})

    def test_unknown_image(self):
        self.assertRejectedCreate(
            400, 'badRequest', 'Can not find requested image',
            json={'server': self._server(imageRef=str(uuid.uuid4()))})

    def test_image_ref_not_a_uuid(self):
        self.assertRejectedCreate(400, 'badRequest', contains='imageRef',
                                  json={'server': self._server(imageRef='not-a-uuid')})

    def test_networks_required_from_2_37(self):
        self.assertRejectedCreate(400, 'badRequest', contains="'networks' is a required",
                                  json={'server': self._server(networks=None)})
        self.assertRejectedCreate(400, 'badRequest', contains='networks',
                                  json={'server': self._server(networks='some')})

    def test_networks_optional_before_2_37(self):
        resp = self.cloud.request('POST', '/v2.1/servers', version='2.36',
                                  json={'server': self._server(networks=None)})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        # Let the build finish, so that it writes no rows while another test counts.
        self.cloud.wait_for_status(resp.json['server']['id'], 'ACTIVE')

    def test_text_xml_is_unsupported(self):
        self.assertRejectedCreate(
            415, 'badMediaType', data='<server name="vm"/>',
            headers={'Content-Type': 'text/xml'})

    def test_min_count_above_max_count(self):
        self.assertRejectedCreate(
            400, 'badRequest', 'min_count must be <= max_count',
            json={'server': self._server(min_count=3, max_count=2)})

    def test_invalid_user_data(self):
        self.assertRejectedCreate(400, 'badRequest', contains='user_data',
                                  json={'server': self._server(user_data='@@not base64')})

    # --- not found, methods, auth --------------------------------------------------
    def test_unknown_server(self):
        server_id = str(uuid.uuid4())
        for method in ('GET', 'DELETE'):
            resp = self.cloud.request(method, f'/v2.1/servers/{server_id}')
            self.assertFault(resp, 404, 'itemNotFound',
                             f'Instance {server_id} could not be found.')

    def test_unknown_url(self):
        for path in ('/v2.1/no-such-thing', '/v2.1/servers/x/y/z', '/v3/servers'):
            self.assertRouterNotFound('GET', path)

    def test_wrong_method_and_trailing_slash_are_not_found_as_in_nova(self):
        # Nova's router matches the path and the method together: a method the path
        # does not have, or a trailing slash, is no route (404), never 405.
        for method, path in (('PUT', '/v2.1/servers'), ('PATCH', '/v2.1/servers'),
                             ('DELETE', '/v2.1/servers'), ('POST', '/v2.1/servers/detail'),
                             ('GET', '/v2.1/servers/'), ('DELETE', '/v2.1/images/')):
            self.assertRouterNotFound(method, path)
        # ... and no microversion is looked at for it.
        self.assertRouterNotFound('GET', '/v2.1/servers/',
                                  **{'OpenStack-API-Version': 'compute 9.0'})
        self.assertEqual(200, self.cloud.request('GET', '/v2.1/').status_code)

    def test_removed_apis_are_gone(self):
        # Nova keeps the routes of the APIs it removed, answering 410 at every
        # microversion: a client learns the API is gone, not that its path is wrong.
        server = self.cloud.create_server(networks='none')
        for method, path in (('GET', '/v2.1/os-cells'), ('POST', '/v2.1/os-networks'),
                             ('GET', '/v2.1/os-fping/1'), ('PUT', '/v2.1/os-agents/3'),
                             ('GET', f'/v2.1/servers/{server["id"]}/os-virtual-interfaces'),
                             ('DELETE', f'/v2.1/servers/{server["id"]}/consoles/1'),
                             ('POST', f'/v2.1/servers/{server["id"]}/action')):
            resp = self.cloud.request(method, path, version='2.100',
                                      json={'resetNetwork': None})
            self.assertFault(resp, 410, 'computeFault', 'This resource is no longer '
                             'available. No forwarding address is given.')
        # Only the methods Nova removed: the others are no route.
        self.assertRouterNotFound('DELETE', '/v2.1/os-cells')

    def test_no_route_answer_follows_accept(self):
        resp = self.cloud.request('DELETE', '/v2.1/servers',
                                  headers={'Accept': 'text/html'})
        self.assertEqual(404, resp.status_code)
        self.assertTrue(resp.headers['Content-Type'].startswith('text/html'), resp.headers)
        self.assertIn('<title>404 Not Found</title>', resp.text)
        self.assertIn('X-OpenStack-Request-Id', resp.headers)

    def assertRouterNotFound(self, method, path, **headers):
        """webob's 404 in JSON, as Nova's router answers with Accept: application/json
        (what Nova's clients send)."""
        resp = self.cloud.request(method, path,
                                  headers={'Accept': 'application/json', **headers})
        self.assertEqual(404, resp.status_code, resp.text)
        self.assertEqual({'message': 'The resource could not be found.<br /><br />\n\n\n',
                          'code': '404 Not Found', 'title': 'Not Found'}, resp.json)

    def test_no_token(self):
        before = _row_counts()
        for method, path in (('GET', '/v2.1/servers'), ('POST', '/v2.1/servers'),
                             ('GET', '/v2.1/images')):
            resp = self.cloud.request(method, path, token=None,
                                      json={'server': self._server()})
            self.assertFault(resp, 401, 'unauthorized')
        self.assertEqual(before, _row_counts())
