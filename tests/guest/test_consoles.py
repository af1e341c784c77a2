"""A real guest's serial console through kumo-consoleproxy.

The stack runs with [serial_console] enabled: the guest's serial port is a TCP server
on 127.0.0.1 (its output still logged to console.log), the API hands out a
ws://.../?token=... URL, and a kumo-consoleproxy process (its own, on free ports)
checks the token and relays. VNC is enabled too: QEMU's VNC server greets through
the noVNC listener. The test guest prints a line every second from its
user_data, which the websocket client must read; a wrong token is refused before
any byte of the guest is seen.
"""
from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from urllib import parse

from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.fixtures import stack
from tests.guest import base

TICKS = 120


class TestSerialConsole(base.GuestTestCase):

    @classmethod
    def setUpClass(cls):
        cls.proxy_port = stack.free_port()
        cls.novnc_port = stack.free_port()
        low = 20000 + os.getpid() % 20000
        cls.EXTRA_CONFIG = {
            'serial_console': {'enabled': True, 'port_range': f'{low}:{low + 50}',
                               'base_url': f'ws://127.0.0.1:{cls.proxy_port}/',
                               'serialproxy_port': cls.proxy_port},
            'vnc': {'enabled': True, 'novncproxy_port': cls.novnc_port,
                    'novncproxy_base_url': f'http://127.0.0.1:{cls.novnc_port}/'
                                           'vnc_auto.html'}}
        super().setUpClass()
        if cls.stack is not None:
            own = cls.stack._write('consoleproxy.conf', {'DEFAULT': {
                'log_file': cls.stack._log_file('kumo-consoleproxy')}})
            cls.stack._start_service('kumo-consoleproxy', own)

    def console_url(self, server_id: str) -> str:
        resp = self.client.post(
            f'/v2.1/servers/{server_id}/remote-consoles',
            json={'remote_console': {'protocol': 'serial', 'type': 'serial'}})
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()['remote_console']['url']

    def connect(self, url: str, timeout: float = 30):
        """The proxy may still be starting: retry a refused TCP connection."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return connect(url, open_timeout=10)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def test_read_the_guest_through_the_proxy(self):
        user_data = ''.join(f'echo console-tick-{i}\nsleep 1\n' for i in range(TICKS))
        server_id = self.boot('guest-console', user_data=user_data, config_drive=True)
        self.wait_server(server_id, 'ACTIVE', power_state=1, timeout=base.BOOT_TIMEOUT)
        self.wait_console(server_id, r'^KUMO-GUEST: ready')

        # The domain's serial port is a TCP server in the range, logging to the file
        # os-getConsoleOutput reads (its boot lines are there).
        domain = ET.fromstring(base.virsh('dumpxml', server_id))
        source = domain.find("./devices/serial[@type='tcp']/source")
        self.assertEqual('bind', source.get('mode'))
        low = int(self.EXTRA_CONFIG['serial_console']['port_range'].split(':')[0])
        self.assertTrue(low <= int(source.get('service')) <= low + 50, source.attrib)
        output = self.client.post(f'/v2.1/servers/{server_id}/action',
                                  json={'os-getConsoleOutput': {}}).json()['output']
        self.assertIn('KUMO-GUEST: ready', output)

        url = self.console_url(server_id)
        self.assertTrue(url.startswith(f'ws://127.0.0.1:{self.proxy_port}/?token='), url)
        # The admin's view of the token: the guest's serial port on its host.
        token = url.split('token=', 1)[1]
        info = self.client.get(f'/v2.1/os-console-auth-tokens/{token}').json()['console']
        self.assertEqual((server_id, '127.0.0.1', int(source.get('service'))),
                         (info['instance_uuid'], info['host'], info['port']))

        received = b''
        with self.connect(url) as ws:
            deadline = time.monotonic() + 30
            while b'console-tick-' not in received or not received.endswith(b'\n'):
                self.assertLess(time.monotonic(), deadline,
                                f'no tick from the guest; got {received[-500:]!r}')
                message = ws.recv(timeout=deadline - time.monotonic())
                received += message if isinstance(message, bytes) else message.encode()
        self.assertRegex(received.decode(errors='replace'), r'console-tick-\d+')
        # What went through the proxy went to the log too.
        tick = received.decode(errors='replace').split('console-tick-', 1)[1].split()[0]
        self.wait_console(server_id, rf'^console-tick-{tick}\s*$', timeout=10)

    def test_vnc_through_the_proxy(self):
        server_id = self.boot('guest-vnc')
        self.wait_server(server_id, 'ACTIVE', power_state=1, timeout=base.BOOT_TIMEOUT)
        resp = self.client.post(f'/v2.1/servers/{server_id}/remote-consoles', json={
            'remote_console': {'protocol': 'vnc', 'type': 'novnc'}})
        self.assertEqual(200, resp.status_code, resp.text)
        url = resp.json()['remote_console']['url']
        # noVNC opens its `path` on the page's host: "?token=..." there.
        query = parse.parse_qs(parse.urlsplit(url).query)
        ws_url = f'ws://127.0.0.1:{self.novnc_port}/{query["path"][0]}'
        # The serial proxy does not take a VNC token.
        wrong = ws_url.replace(str(self.novnc_port), str(self.proxy_port))
        self.assertEqual(403, self.assertRaises(InvalidStatus, self.connect,
                                                wrong).response.status_code)
        with self.connect(ws_url) as ws:
            greeting = ws.recv(timeout=20)
        # QEMU's VNC server says hello in RFB.
        self.assertTrue(greeting.startswith(b'RFB 003.'), greeting)

    def test_wrong_token_is_refused(self):
        # (No guest needed: the proxy refuses before it looks for one.)
        bad = f'ws://127.0.0.1:{self.proxy_port}/?token=not-a-token'
        error = self.assertRaises(InvalidStatus, self.connect, bad)
        self.assertEqual(403, error.response.status_code)
        error = self.assertRaises(InvalidStatus, self.connect,
                                  f'ws://127.0.0.1:{self.proxy_port}/')
        self.assertEqual(403, error.response.status_code)
        log = self.stack.read_log('kumo-consoleproxy')
        self.assertIn('refused: the token is unknown, expired or its server is gone', log)
