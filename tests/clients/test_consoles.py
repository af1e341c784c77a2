"""Remote consoles through Nova's clients, against kumo-all with the serial console
enabled (so kumo-all runs kumo-consoleproxy in-process): `openstack console url show
--serial`, novaclient's get_serial_console, and the URL's token at the proxy (the
fake driver's console is nowhere, so a good token passes the handshake and is then
closed; a bad one is refused)."""
from __future__ import annotations

import json
import os
import subprocess

from novaclient import client as nova_client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.clients import base
from tests.fixtures import stack

PROXY_PORT = stack.free_port()


class TestConsoleClients(base.KumoClientTestCase):
    extra_config = {'serial_console': {
        'enabled': True, 'serialproxy_port': PROXY_PORT,
        'base_url': f'ws://127.0.0.1:{PROXY_PORT}/'}}

    def setUp(self):
        super().setUp()
        api = stack.Client(self.endpoint, token=self.token)
        self.addCleanup(api.http.close)
        self.server_id = api.boot('vm1').id
        api.wait_status(self.server_id, 'ACTIVE')

    def openstack(self, *args: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env.update({'OS_AUTH_TYPE': 'admin_token', 'OS_ENDPOINT': self.compute_url,
                    'OS_TOKEN': self.token, 'OS_COMPUTE_API_VERSION': base.MAX_MICROVERSION,
                    'OS_IDENTITY_API_VERSION': '3',
                    'OS_IDENTITY_ENDPOINT_OVERRIDE': f'{self.endpoint}/'})
        proc = subprocess.run([stack.executable('openstack'), *args, '-f', 'json'],
                              env=env, capture_output=True, text=True, timeout=60,
                              check=False)
        self.assertEqual(0, proc.returncode, proc.stderr)
        return json.loads(proc.stdout)

    def test_openstack_console_url_show_serial(self):
        shown = self.openstack('console', 'url', 'show', '--serial', self.server_id)
        self.assertEqual('serial', shown['type'])
        self.assertTrue(shown['url'].startswith(f'ws://127.0.0.1:{PROXY_PORT}/?token='),
                        shown)
        # The proxy kumo-all started takes the token (then finds no console behind
        # the fake driver's answer, and closes).
        with connect(shown['url'], open_timeout=10) as ws:
            self.assertRaises(ConnectionClosed, ws.recv, timeout=10)
        self.assertEqual(1011, ws.close_code)
        error = self.assertRaises(InvalidStatus, connect,
                                  f'ws://127.0.0.1:{PROXY_PORT}/?token=guessed')
        self.assertEqual(403, error.response.status_code)

    def test_novaclient_before_and_after_2_6(self):
        for version, key in (('2.1', 'console'), ('2.6', 'remote_console')):
            nova = nova_client.Client(version, session=self.session(),
                                      endpoint_override=self.compute_url)
            console = nova.servers.get_serial_console(self.server_id, 'serial')[key]
            self.assertEqual('serial', console['type'], version)
            self.assertIn('?token=', console['url'])
