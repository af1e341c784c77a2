"""Remote consoles: POST /servers/{id}/remote-consoles, the pre-2.6 actions and
GET /os-console-auth-tokens/{token}, through the real app, database and agent (the
fake driver answers a fixed host and port)."""
from __future__ import annotations

import datetime
from urllib import parse

import sqlalchemy as sa
from oslo_config import cfg

from kumo_common import context
from kumo_common.db import console_tokens, models, session
from kumo_conductor.manager import ConductorManager
from tests.fixtures import cloud
from tests.unit.api import roles

CONF = cfg.CONF
SERIAL = {'remote_console': {'protocol': 'serial', 'type': 'serial'}}
VNC = {'remote_console': {'protocol': 'vnc', 'type': 'novnc'}}


class TestRemoteConsoles(cloud.CloudTestCase):
    COMPUTES = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        roles.allow_role_override(cls.cloud.app)

    def setUp(self):
        super().setUp()
        self.enable(serial=True, vnc=True)
        self.token = self.new_token()
        server = self.cloud.create_server('console', token=self.token)
        self.server_id = server['id']
        self.cloud.wait_for_status(self.server_id, 'ACTIVE')

    def enable(self, serial: bool, vnc: bool) -> None:
        CONF.set_override('enabled', serial, 'serial_console')
        CONF.set_override('enabled', vnc, 'vnc')
        self.addCleanup(CONF.clear_override, 'enabled', 'serial_console')
        self.addCleanup(CONF.clear_override, 'enabled', 'vnc')

    def create(self, body, version='2.6', token=None, server_id=None, headers=None):
        return self.cloud.request(
            'POST', f'/v2.1/servers/{server_id or self.server_id}/remote-consoles',
            token=token or self.token, version=version, json=body, headers=headers)

    def action(self, body, version='2.1', token=None):
        return self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                  token=token or self.token, version=version, json=body)

    def lookup(self, token, version='2.31', user=cloud.ADMIN_TOKEN, query=''):
        return self.cloud.request('GET', f'/v2.1/os-console-auth-tokens/{token}{query}',
                                  token=user, version=version)

    def fault(self, resp, code):
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        (body,) = resp.json.values()
        self.assertEqual(code, body['code'])
        return body['message']

    @staticmethod
    def token_of(url: str) -> str:
        query = parse.parse_qs(parse.urlsplit(url).query)
        if 'path' in query:   # noVNC: path=?token=...
            query = parse.parse_qs(parse.urlsplit(query['path'][0]).query)
        return query['token'][0]

    # --- URLs -----------------------------------------------------------------------
    def test_serial_console_url_and_its_token(self):
        resp = self.create(SERIAL)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        console = resp.json['remote_console']
        self.assertEqual({'protocol', 'type', 'url'}, set(console))
        self.assertEqual(('serial', 'serial'), (console['protocol'], console['type']))
        self.assertTrue(console['url'].startswith('ws://127.0.0.1:6083/?token='),
                        console['url'])
        token = self.token_of(console['url'])
        # Only the hash is stored.
        with session.reader() as s:
            rows = s.scalars(sa.select(models.ConsoleAuthToken).where(
                models.ConsoleAuthToken.instance_uuid == self.server_id)).all()
        self.assertEqual([console_tokens.hash_token(token)], [r.token_hash for r in rows])
        self.assertNotIn(token, [r.token_hash for r in rows])
        # The admin looks it up: the fake driver's console.
        resp = self.lookup(token)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual({'console': {'instance_uuid': self.server_id, 'host': '127.0.0.1',
                                      'port': 6999, 'internal_access_path': None}},
                         resp.json)

    def test_serial_console_does_not_look_at_the_type_as_nova_34(self):
        # Nova's serial console takes any type its schema lets through (the token then
        # says that type, which the serial proxy refuses).
        resp = self.create({'remote_console': {'protocol': 'serial', 'type': 'novnc'}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual(('serial', 'novnc'), (resp.json['remote_console']['protocol'],
                                               resp.json['remote_console']['type']))

    def test_novnc_url_puts_the_token_in_path_as_nova_34(self):
        resp = self.create(VNC)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        url = resp.json['remote_console']['url']
        self.assertTrue(url.startswith('http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D'),
                        url)
        resp = self.lookup(self.token_of(url))
        self.assertEqual(('fakevncconsole.com', 6969),
                         (resp.json['console']['host'], resp.json['console']['port']))

    def test_base_url_and_ttl_come_from_the_configuration(self):
        CONF.set_override('base_url', 'ws://consoles.example.org:7000/serial', 'serial_console')
        self.addCleanup(CONF.clear_override, 'base_url', 'serial_console')
        CONF.set_override('token_ttl', 60, 'consoleauth')
        self.addCleanup(CONF.clear_override, 'token_ttl', 'consoleauth')
        url = self.create(SERIAL).json['remote_console']['url']
        self.assertTrue(url.startswith('ws://consoles.example.org:7000/serial?token='), url)
        with session.reader() as s:
            row = console_tokens.validate(s, self.token_of(url))
            left = (row.expires_at - models.utcnow()).total_seconds()
        self.assertTrue(50 < left <= 60, left)

    def test_legacy_actions_before_2_6(self):
        resp = self.action({'os-getSerialConsole': {'type': 'serial'}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual('serial', resp.json['console']['type'])
        self.assertIn('?token=', resp.json['console']['url'])
        resp = self.action({'os-getVNCConsole': {'type': 'novnc'}}, version='2.5')
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual({'type', 'url'}, set(resp.json['console']))
        # From 2.6 the actions are gone, the route is there; before 2.6 the route is not.
        self.fault(self.action({'os-getSerialConsole': {'type': 'serial'}}, version='2.6'),
                   404)
        self.fault(self.create(SERIAL, version='2.5'), 404)

    # --- what Nova refuses ----------------------------------------------------------------
    def test_disabled_console_type_is_nova_400(self):
        self.enable(serial=False, vnc=False)
        self.assertEqual('Unavailable console type serial.', self.fault(self.create(SERIAL), 400))
        self.assertEqual('Unavailable console type novnc.', self.fault(self.create(VNC), 400))
        self.assertEqual('Unavailable console type serial.', self.fault(
            self.action({'os-getSerialConsole': {'type': 'serial'}}), 400))

    def test_types_kumo_has_not(self):
        cases = [
            ({'protocol': 'spice', 'type': 'spice-html5'}, '2.6',
             'Unavailable console type spice-html5.'),
            ({'protocol': 'mks', 'type': 'webmks'}, '2.8', 'Unavailable console type webmks.'),
            ({'protocol': 'rdp', 'type': 'rdp-html5'}, '2.6', 'Unavailable console type rdp.'),
            ({'protocol': 'spice', 'type': 'spice-direct'}, '2.99',
             'Unavailable console type spice-direct.'),
            ({'protocol': 'vnc', 'type': 'xvpvnc'}, '2.6', 'Invalid console type xvpvnc'),
        ]
        for console, version, message in cases:
            resp = self.create({'remote_console': console}, version=version)
            self.assertEqual(message, self.fault(resp, 400), console)
        self.assertEqual('Unavailable console type spice-html5.', self.fault(
            self.action({'os-getSPICEConsole': {'type': 'spice-html5'}}), 400))
        self.assertIn('could not comply', self.fault(
            self.action({'os-getRDPConsole': {'type': 'rdp-html5'}}), 400))

    def test_schema_per_microversion(self):
        for body, version in (
                ({'remote_console': {'protocol': 'mks', 'type': 'webmks'}}, '2.7'),
                ({'remote_console': {'protocol': 'spice', 'type': 'spice-direct'}}, '2.98'),
                ({'remote_console': {'protocol': 'serial'}}, '2.6'),
                ({'remote_console': {'protocol': 'serial', 'type': 'serial', 'x': 1}}, '2.6'),
                ({'remote_console': {'protocol': 'telnet', 'type': 'serial'}}, '2.6')):
            self.assertIn('Invalid input', self.fault(self.create(body, version=version), 400),
                          (body, version))
        self.assertEqual("'remote_console' is a required property",
                         self.fault(self.create({}), 400))
        self.fault(self.action({'os-getVNCConsole': {'type': 'serial'}}), 400)
        self.fault(self.action({'os-getVNCConsole': {}}), 400)
        self.fault(self.action({'os-getSerialConsole': {'type': 'novnc'}}), 400)

    def test_policy_and_isolation(self):
        self.assertEqual(403, self.create(SERIAL, headers=roles.READER).status_code)
        self.fault(self.create(SERIAL, token=self.new_token()), 404)
        self.fault(self.action({'os-getSerialConsole': {'type': 'serial'}},
                               token=self.new_token()), 404)
        self.fault(self.create(SERIAL, server_id='a1b2c3d4-0000-4000-8000-000000000000'), 404)
        # The admin may open another project's console.
        resp = self.create(SERIAL, token=cloud.ADMIN_TOKEN)
        self.assertEqual(200, resp.status_code, resp.get_data(True))

    def test_server_without_host_is_not_ready(self):
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == self.server_id).values(host=None))
        self.assertEqual(f'Instance {self.server_id} is not ready',
                         self.fault(self.create(SERIAL), 409))

    # --- tokens ------------------------------------------------------------------------
    def test_token_lookup_is_admin_only_and_from_2_31(self):
        token = self.token_of(self.create(SERIAL).json['remote_console']['url'])
        self.fault(self.lookup(token, user=self.token), 403)
        self.assertIn('could not comply', self.fault(self.lookup(token, version='2.30'), 400))
        self.fault(self.lookup(token, version='2.30', user=self.token), 400)
        self.assertEqual(200, self.lookup(token, query='?x=1').status_code)
        self.fault(self.lookup(token, version='2.99', query='?x=1'), 400)
        self.assertEqual('Token not found', self.fault(self.lookup('nonsense'), 404))

    def test_expired_token_is_not_found(self):
        token = self.token_of(self.create(SERIAL).json['remote_console']['url'])
        with session.transaction() as s:
            s.execute(sa.update(models.ConsoleAuthToken).where(
                models.ConsoleAuthToken.token_hash == console_tokens.hash_token(token)
            ).values(expires_at=models.utcnow() - datetime.timedelta(seconds=1)))
        self.assertEqual('Token not found', self.fault(self.lookup(token), 404))

    def test_conductor_sweeps_expired_tokens_only(self):
        expired = self.token_of(self.create(SERIAL).json['remote_console']['url'])
        live = self.token_of(self.create(SERIAL).json['remote_console']['url'])
        with session.transaction() as s:
            s.execute(sa.update(models.ConsoleAuthToken).where(
                models.ConsoleAuthToken.token_hash == console_tokens.hash_token(expired)
            ).values(expires_at=models.utcnow() - datetime.timedelta(seconds=1)))
        ctxt = context.get_admin_context()
        self.assertEqual(1, ConductorManager().clean_expired_console_tokens(ctxt))
        with session.reader() as s:
            left = s.scalars(sa.select(models.ConsoleAuthToken.token_hash).where(
                models.ConsoleAuthToken.instance_uuid == self.server_id)).all()
        self.assertEqual([console_tokens.hash_token(live)], left)
        self.assertEqual(200, self.lookup(live).status_code)
        self.assertEqual(0, ConductorManager().clean_expired_console_tokens(ctxt))

    def test_tokens_are_deleted_with_their_server(self):
        token = self.token_of(self.create(SERIAL).json['remote_console']['url'])
        self.assertEqual(200, self.lookup(token).status_code)
        resp = self.cloud.request('DELETE', f'/v2.1/servers/{self.server_id}',
                                  token=self.token)
        self.assertEqual(204, resp.status_code)
        self.cloud.wait_for_status(self.server_id, 'DELETED')
        self.fault(self.lookup(token), 404)
        with session.reader() as s:
            self.assertEqual(0, s.scalar(sa.select(sa.func.count()).select_from(
                models.ConsoleAuthToken).where(
                models.ConsoleAuthToken.instance_uuid == self.server_id)))


class TestAccessURL(cloud.testtools.TestCase):
    def test_novnc_keeps_the_base_path_parameter(self):
        self.assertEqual(
            'http://h:6080/vnc_lite.html?path=websockify%3Ftoken%3Dabc',
            console_tokens.access_url('novnc', 'http://h:6080/vnc_lite.html?path=websockify',
                                      'abc'))
        self.assertEqual('ws://h:6083/?token=abc',
                         console_tokens.access_url('serial', 'ws://h:6083/', 'abc'))
