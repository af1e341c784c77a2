"""kumo_api.app.ComputeRequestId answers exactly as oslo.middleware's RequestId (with
Nova's x-compute-request-id) did before it replaced it: same environ keys, same
headers in the same order, same bodies."""
from __future__ import annotations

import io
from unittest import mock

import testtools
from oslo_middleware import request_id

from kumo_api import app as api_app

FIXED_ID = 'req-00000000-0000-0000-0000-000000000000'


class _OsloRequestId(request_id.RequestId):
    compat_headers = ['x-compute-request-id']


def _inner(status: str, headers: list, body: bytes):
    seen = {}

    def app(environ, start_response):
        seen['request_id'] = environ.get('openstack.request_id')
        seen['global_request_id'] = environ.get('openstack.global_request_id')
        start_response(status, list(headers))
        return [body]
    return app, seen


def _call(middleware, method='GET', path='/v2.1/servers', extra=None):
    environ = {'REQUEST_METHOD': method, 'PATH_INFO': path, 'QUERY_STRING': '',
               'SERVER_NAME': 'api.example.org', 'SERVER_PORT': '8774',
               'HTTP_HOST': 'api.example.org:8774', 'SERVER_PROTOCOL': 'HTTP/1.1',
               'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(b'')}
    environ.update(extra or {})
    started = []
    with mock.patch('oslo_context.context.generate_request_id', return_value=FIXED_ID):
        body = b''.join(middleware(environ, lambda s, h, e=None: started.append((s, h))))
    return started, body


class TestComputeRequestId(testtools.TestCase):

    def assertSameAsOslo(self, status, headers, body=b'{"x": 1}', **kwargs):
        answers = []
        for wrapper in (_OsloRequestId, api_app.ComputeRequestId):
            app, seen = _inner(status, headers, body)
            answers.append((_call(wrapper(app), **kwargs), seen))
        self.assertEqual(answers[0], answers[1])
        return answers[1]

    def test_ids_appended_after_the_apps_headers(self):
        (started, body), seen = self.assertSameAsOslo(
            '200 OK', [('Content-Type', 'application/json'), ('Content-Length', '8')])
        self.assertEqual([('Content-Type', 'application/json'), ('Content-Length', '8'),
                          ('x-openstack-request-id', FIXED_ID),
                          ('x-compute-request-id', FIXED_ID)], started[0][1])
        self.assertEqual(b'{"x": 1}', body)
        self.assertEqual(FIXED_ID, seen['request_id'])

    def test_header_the_app_set_is_kept(self):
        (started, _body), _seen = self.assertSameAsOslo(
            '200 OK', [('X-Compute-Request-Id', 'req-mine')])
        self.assertEqual([('X-Compute-Request-Id', 'req-mine'),
                          ('x-openstack-request-id', FIXED_ID)], started[0][1])

    def test_relative_location_made_absolute(self):
        (started, _body), _seen = self.assertSameAsOslo(
            '201 Created', [('Location', '/v2.1/servers/x/tags/t'),
                            ('Content-Length', '0')], body=b'')
        self.assertEqual(('Location', 'http://api.example.org:8774/v2.1/servers/x/tags/t'),
                         started[0][1][0])

    def test_absolute_location_kept(self):
        self.assertSameAsOslo('202 Accepted',
                              [('Location', 'https://elsewhere.example.org/x')])

    def test_head_has_no_body(self):
        (_started, body), _seen = self.assertSameAsOslo(
            '401 Unauthorized', [('Content-Length', '8')], method='HEAD')
        self.assertEqual(b'', body)

    def test_inbound_global_request_id(self):
        good = 'req-11111111-2222-3333-4444-555555555555'
        _answer, seen = self.assertSameAsOslo(
            '200 OK', [], extra={'HTTP_X_OPENSTACK_REQUEST_ID': good})
        self.assertEqual(good, seen['global_request_id'])
        _answer, seen = self.assertSameAsOslo(
            '200 OK', [], extra={'HTTP_X_OPENSTACK_REQUEST_ID': 'req-not-a-uuid'})
        self.assertIsNone(seen['global_request_id'])
