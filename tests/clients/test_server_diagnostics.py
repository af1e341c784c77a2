"""Server diagnostics through Nova's clients: `nova diagnostics` (novaclient, old and
new shapes), openstacksdk's get_server_diagnostics and `openstack server show
--diagnostics`, against kumo-all with the fake driver."""
from __future__ import annotations

import json
import os
import subprocess

from novaclient import client as nova_client
from novaclient import exceptions as nova_exc

from tests.clients import base
from tests.fixtures import stack


class TestServerDiagnosticsClients(base.KumoClientTestCase):

    def setUp(self):
        super().setUp()
        api = stack.Client(self.endpoint, token=self.token)
        self.addCleanup(api.http.close)
        self.server_id = api.boot('diag').id
        api.wait_status(self.server_id, 'ACTIVE')
        # An admin in the server's project: the policy is admin only.
        self.admin = f'admin:{self.project}'

    def test_novaclient(self):
        _resp, body = nova_client.Client(
            '2.96', session=self.session(self.admin),
            endpoint_override=self.compute_url).servers.diagnostics(self.server_id)
        self.assertEqual('running', body['state'])
        self.assertEqual(1, body['num_cpus'])
        self.assertEqual(512, body['memory_details']['maximum'])
        # Before 2.48, the driver's own dict.
        _resp, body = nova_client.Client(
            '2.1', session=self.session(self.admin),
            endpoint_override=self.compute_url).servers.diagnostics(self.server_id)
        self.assertEqual(512 * 1024, body['memory'])
        self.assertIn('cpu0_time', body)
        # Not for the project's member.
        member = nova_client.Client('2.96', session=self.session(),
                                    endpoint_override=self.compute_url)
        self.assertRaises(nova_exc.Forbidden, member.servers.diagnostics, self.server_id)

    def test_openstacksdk(self):
        diags = self.connect(self.admin).compute.get_server_diagnostics(self.server_id)
        self.assertEqual('running', diags.state)
        self.assertEqual('libvirt', diags.driver)
        self.assertEqual(1, diags.num_cpus)
        self.assertEqual(1, diags.num_nics)
        self.assertEqual(512, diags.memory_details['maximum'])
        self.assertIs(False, diags.has_config_drive)

    def test_openstack_server_show_diagnostics(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env.update({'OS_AUTH_TYPE': 'admin_token', 'OS_ENDPOINT': self.compute_url,
                    'OS_TOKEN': self.admin, 'OS_COMPUTE_API_VERSION': base.MAX_MICROVERSION,
                    'OS_IDENTITY_API_VERSION': '3',
                    'OS_IDENTITY_ENDPOINT_OVERRIDE': f'{self.endpoint}/'})
        proc = subprocess.run([stack.executable('openstack'), 'server', 'show',
                               '--diagnostics', self.server_id, '-f', 'json'],
                              env=env, capture_output=True, text=True, timeout=60,
                              check=False)
        self.assertEqual(0, proc.returncode, proc.stderr)
        shown = json.loads(proc.stdout)
        self.assertEqual('running', shown['state'])
        self.assertEqual(1, shown['num_cpus'])
        self.assertEqual(512, shown['memory_details']['maximum'])
