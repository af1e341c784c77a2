"""The HTTP layer's limits (kumo_api.request_limits): body size, URL, JSON depth and
strings, through the app's WSGI stack and through waitress as kumo-api runs it."""
from __future__ import annotations

import io
import json
import socket
import threading

import testtools
import waitress
from oslo_config import cfg

from kumo_api import errors, request_limits
from kumo_api.app import create_app
from tests.fixtures import cloud, database

CONF = cfg.CONF
LIMIT = 114688


def _nested(depth: int) -> str:
    return '[' * depth + ']' * depth


class EndlessBody(io.RawIOBase):
    """A request body that never ends; counts what was read of it."""

    def __init__(self):
        self.served = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        buffer[:] = b' ' * len(buffer)
        self.served += len(buffer)
        return len(buffer)


class TestJSONLoading(testtools.TestCase):

    def assertBad(self, data: bytes, contains: str):
        error = self.assertRaises(errors.BadRequest, request_limits.load_json, data)
        self.assertIn(contains, error.message)

    def test_depth_limit_is_exact(self):
        self.assertEqual([[]], request_limits.load_json(b'[[]]'))
        request_limits.load_json(_nested(request_limits.MAX_JSON_DEPTH).encode())
        self.assertBad(_nested(request_limits.MAX_JSON_DEPTH + 1).encode(), 'nested deeper')

    def test_recursion_deep_nesting_is_a_bad_request(self):
        for text in (_nested(10000), '{"a":' * 10000 + '1' + '}' * 10000,
                     '[' * 100000):
            self.assertBad(text.encode(), 'Malformed request body')

    def test_nul_and_surrogates_name_the_field(self):
        self.assertBad(b'{"server": {"name": "a\\u0000b"}}',
                       'field/attribute server/name. Value: \'a\\x00b\'. NUL characters')
        self.assertBad(b'{"server": {"a\\u0000": 1}}', 'NUL characters')
        self.assertBad(b'{"tags": ["ok", "\\ud800"]}', 'tags/1')
        self.assertBad(b'"\\udfff"', 'Unpaired surrogates')
        # A surrogate pair is one real character.
        self.assertEqual('\U0001f600', request_limits.load_json(b'"\\ud83d\\ude00"'))

    def test_not_json(self):
        for data in (b'NaN', b'[Infinity]', b'{"a": -Infinity}', b'1e400', b'[-1e999]',
                     b'\xff\xfe{', b'{"a": "\xff"}', b'9' * 5000):
            self.assertBad(data, 'Malformed request body')


class TestURLProblems(testtools.TestCase):

    def problem(self, path='/v2.1/servers', query=''):
        return request_limits.url_problem({'PATH_INFO': path, 'QUERY_STRING': query})

    def test_good_urls(self):
        self.assertIsNone(self.problem('/v2.1/servers/é'.encode().decode('latin-1'),
                                       'name=%C3%A9&tags=a,b'))

    def test_bad_utf8(self):
        self.assertEqual(400, self.problem('/v2.1/servers/\xff')[0])
        self.assertEqual(400, self.problem(query='name=%ff%fe')[0])
        self.assertEqual(400, self.problem(query='name=\xff')[0])  # raw, not encoded
        self.assertEqual(400, self.problem(query='name=%ed%a0%80')[0])  # a surrogate

    def test_nul(self):
        self.assertIn('NUL', self.problem('/v2.1/servers/a\x00')[2])
        self.assertIn('NUL', self.problem(query='name=a%00')[2])

    def test_length(self):
        self.assertIsNone(self.problem(query='a' * (request_limits.MAX_URL_LENGTH - 20)))
        self.assertEqual(414, self.problem(query='a' * request_limits.MAX_URL_LENGTH)[0])


class TestMiddleware(testtools.TestCase):
    """The app's whole WSGI stack (no database needed: refusals come first)."""

    def setUp(self):
        super().setUp()
        cloud.ensure_conf_parsed()
        self.useFixture(database.Database('sqlite'))
        self.client = create_app().test_client()

    def assertFault(self, resp, code, name, contains=''):
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        self.assertEqual([name], list(resp.json))
        self.assertEqual(code, resp.json[name]['code'])
        self.assertIn(contains, resp.json[name]['message'])
        self.assertTrue(resp.headers['x-openstack-request-id'].startswith('req-'))

    def test_large_body_refused_before_auth(self):
        body = json.dumps({'keypair': {'name': 'k', 'public_key': 'x' * LIMIT}})
        for token in (None, 'demo:demo'):
            headers = {'X-Auth-Token': token} if token else {}
            resp = self.client.post('/v2.1/os-keypairs', data=body, headers=headers,
                                    content_type='application/json')
            self.assertFault(resp, 413, 'overLimit',
                             f'Larger than max_request_body_size ({LIMIT})')

    def test_limit_is_inclusive_and_configurable(self):
        at_limit = b'{}' + b' ' * (LIMIT - 2)
        resp = self.client.post('/v2.1/os-keypairs', data=at_limit,
                                headers={'X-Auth-Token': 'demo:demo'},
                                content_type='application/json')
        self.assertFault(resp, 400, 'badRequest', "'keypair' is a required property")
        CONF.set_override('max_request_body_size', 100, 'api')
        self.addCleanup(CONF.clear_override, 'max_request_body_size', 'api')
        resp = self.client.post('/v2.1/os-keypairs', data=b'{}' + b' ' * 99,
                                content_type='application/json')
        self.assertFault(resp, 413, 'overLimit', '(100)')

    def test_body_of_unknown_length_is_cut_at_the_limit(self):
        body = EndlessBody()
        resp = self.client.post(
            '/v2.1/os-keypairs', headers={'X-Auth-Token': 'demo:demo'},
            environ_overrides={'wsgi.input': body, 'wsgi.input_terminated': True,
                               'CONTENT_LENGTH': ''},
            content_type='application/json')
        self.assertFault(resp, 413, 'overLimit', 'Larger than max_request_body_size')
        self.assertLess(body.served, 2 * LIMIT)

    def test_invalid_content_length(self):
        for value in ('abc', '-1', '\xb2'):  # '²'.isdigit() but int() refuses it
            resp = self.client.post('/v2.1/os-keypairs', data=b'{}',
                                    environ_overrides={'CONTENT_LENGTH': value})
            self.assertFault(resp, 400, 'badRequest', 'Content-Length')

    def test_bad_urls(self):
        resp = self.client.get('/v2.1/servers', headers={'X-Auth-Token': 'demo:demo'},
                               environ_overrides={'PATH_INFO': '/v2.1/servers/\xff\xfe'})
        self.assertFault(resp, 400, 'badRequest', 'path is not valid UTF-8')
        resp = self.client.get('/v2.1/servers?name=%ff')
        self.assertFault(resp, 400, 'badRequest', 'query string is not valid UTF-8')
        resp = self.client.get('/v2.1/servers/a%00b')
        self.assertFault(resp, 400, 'badRequest', 'NUL')
        resp = self.client.get('/v2.1/servers?' + '&'.join(['name=x'] * 4000))
        self.assertFault(resp, 414, 'computeFault', 'longer than 16384')


class TestWaitress(testtools.TestCase):
    """kumo-api's waitress: its own refusals are Nova faults, and it stops reading a
    body at the limit (it buffers whole bodies before the app sees them)."""

    def setUp(self):
        super().setUp()
        cloud.ensure_conf_parsed()
        self.useFixture(database.Database('sqlite'))
        server = waitress.create_server(create_app(), host='127.0.0.1', port=0,
                                        threads=2, **request_limits.waitress_options())
        request_limits.use_nova_faults(server)
        self.port = server.effective_port
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        self.addCleanup(server.close)

    def exchange(self, head: bytes, body_chunks=()) -> tuple[int, dict]:
        with socket.create_connection(('127.0.0.1', self.port), timeout=10) as sock:
            sock.sendall(head)
            try:
                for chunk in body_chunks:
                    sock.sendall(chunk)
            except OSError:
                pass  # the server answered and closed before taking it all: the point
            data = b''
            while b'\r\n\r\n' not in data or not data.endswith(b'}'):
                more = sock.recv(65536)
                if not more:
                    break
                data += more
        status = int(data.split(b' ', 2)[1])
        return status, json.loads(data.split(b'\r\n\r\n', 1)[1])

    def test_content_length_over_the_limit_is_refused_unread(self):
        # Nothing of the announced 10 MB is sent: the answer comes anyway.
        status, body = self.exchange(
            b'POST /v2.1/os-keypairs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json'
            b'\r\nContent-Length: 10000000\r\n\r\n')
        self.assertEqual(413, status)
        self.assertEqual(413, body['overLimit']['code'])
        self.assertIn(f'({LIMIT})', body['overLimit']['message'])

    def test_chunked_body_over_the_limit(self):
        chunk = b'%x\r\n%s\r\n' % (8192, b' ' * 8192)
        status, body = self.exchange(
            b'POST /v2.1/os-keypairs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json'
            b'\r\nTransfer-Encoding: chunked\r\n\r\n', [chunk] * 40)
        self.assertEqual(413, status)
        self.assertIn('overLimit', body)

    def test_bad_requests_are_nova_faults(self):
        status, body = self.exchange(b'GET /v2.1/servers HTTP/1.1\r\nHost: x\r\n'
                                     b'X-Big: ' + b'a' * 300000 + b'\r\n\r\n')
        self.assertEqual(431, status)
        self.assertEqual(['computeFault'], list(body))
        status, body = self.exchange(b'GET /v2.1/servers/%ff HTTP/1.1\r\nHost: x\r\n'
                                     b'X-Auth-Token: demo:demo\r\n\r\n')
        self.assertEqual((400, 'badRequest'), (status, next(iter(body))))
