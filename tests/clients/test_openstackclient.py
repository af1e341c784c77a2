"""The `openstack` CLI (python-openstackclient) against a running Kumo, as subprocesses.

Without Keystone the CLI authenticates with ``--os-auth-type admin_token``: one
endpoint and one token for every service. Two more settings are needed, and neither
is about Kumo: `server list` insists on an identity v3 proxy even when it never calls
Keystone (openstackclient/compute/v2/server.py ListServer.take_action), and the SDK
trusts a configured identity version only with an identity endpoint override
(openstack/service_description.py _make_proxy); without both it fails with
"Service requires API version '3' but the configured version is '2'".

Image look-ups (`server list`/`show` name the image, `server create` resolves
--image) go to the same admin_token endpoint, i.e. Nova's image proxy
GET /v2.1/images/{id} and /v2.1/images?id=in:..., which Kumo serves at 2.1. Flavor
look-ups go to GET /v2.1/flavors/{name-or-id} and then /v2.1/flavors/detail.
"""
from __future__ import annotations

import json
import os
import subprocess
import uuid

from tests.clients import base
from tests.fixtures import stack


class TestOpenStackClient(base.KumoClientTestCase):

    def setUp(self):
        super().setUp()
        self.api = stack.Client(self.endpoint, token=self.token)
        self.addCleanup(self.api.http.close)

    def env(self, token: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env.update({
            'OS_AUTH_TYPE': 'admin_token',
            'OS_ENDPOINT': self.compute_url,
            'OS_TOKEN': token or self.token,
            'OS_COMPUTE_API_VERSION': base.MAX_MICROVERSION,
            'OS_IDENTITY_API_VERSION': '3',
            'OS_IDENTITY_ENDPOINT_OVERRIDE': f'{self.endpoint}/',
        })
        return env

    def openstack(self, *args: str, expect_rc: int = 0, token: str | None = None):
        """Run `openstack ARGS`; JSON output (-f json) is parsed."""
        argv = [stack.executable('openstack'), *args]
        proc = subprocess.run(argv, env=self.env(token), capture_output=True, text=True,
                              timeout=60, check=False)
        self.assertEqual(expect_rc, proc.returncode,
                         f'{" ".join(args)}:\nstdout: {proc.stdout}\nstderr: {proc.stderr}')
        if expect_rc == 0 and '-f' in args and args[args.index('-f') + 1] == 'json':
            return json.loads(proc.stdout)
        return proc

    def boot(self, name: str) -> str:
        server_id = self.api.boot(name).id
        self.api.wait_status(server_id, 'ACTIVE')
        return server_id

    def test_server_list_and_show(self):
        ids = {name: self.boot(name) for name in ('cli-a', 'cli-b', 'other')}
        listed = self.openstack('server', 'list', '-f', 'json')
        self.assertEqual(set(ids.values()), {s['ID'] for s in listed})
        row = next(s for s in listed if s['Name'] == 'cli-a')
        self.assertEqual('ACTIVE', row['Status'])
        self.assertEqual(['private'], list(row['Networks']))
        self.assertEqual(base.FLAVOR_NAME, row['Flavor'])
        self.assertEqual('cirros-0.6.2-x86_64-disk', row['Image'])

        self.assertEqual(['cli-a', 'cli-b'], sorted(s['Name'] for s in self.openstack(
            'server', 'list', '--name', '^cli-', '-f', 'json')))
        (first,) = self.openstack('server', 'list', '--limit', '1', '-f', 'json')
        rest = self.openstack('server', 'list', '--limit', '5', '--marker', first['ID'],
                              '-f', 'json')
        self.assertEqual(set(ids.values()), {first['ID']} | {s['ID'] for s in rest})

        shown = self.openstack('server', 'show', 'cli-b', '-f', 'json')
        self.assertEqual(ids['cli-b'], shown['id'])
        self.assertEqual('ACTIVE', shown['status'])
        self.assertEqual(self.project, shown['project_id'])
        self.assertEqual(base.FLAVOR_NAME, shown['flavor']['original_name'])
        self.assertIn(base.IMAGE_ID, shown['image'])
        self.assertEqual({}, shown['scheduler_hints'])
        self.assertEqual(ids['cli-b'], self.openstack(
            'server', 'show', ids['cli-b'], '-f', 'json')['id'])

        proc = self.openstack('server', 'show', str(uuid.uuid4()), expect_rc=1)
        self.assertIn('No Server found', proc.stderr)

    def test_actions_update_and_delete(self):
        server_id = self.boot('cli-actions')
        self.openstack('server', 'stop', 'cli-actions')
        self.api.wait_status(server_id, 'SHUTOFF')
        self.assertEqual(['cli-actions'], [s['Name'] for s in self.openstack(
            'server', 'list', '--status', 'SHUTOFF', '-f', 'json')])
        self.openstack('server', 'start', server_id)
        self.api.wait_status(server_id, 'ACTIVE')
        self.openstack('server', 'pause', server_id)
        self.api.wait_status(server_id, 'PAUSED')
        self.openstack('server', 'unpause', server_id)
        self.api.wait_status(server_id, 'ACTIVE')

        self.openstack('server', 'set', '--name', 'cli-renamed', '--description', 'via CLI',
                       server_id)
        shown = self.api.show(server_id)
        self.assertEqual(('cli-renamed', 'via CLI'), (shown['name'], shown['description']))

        self.openstack('server', 'lock', '--reason', 'hands off', server_id)
        self.assertEqual('hands off', self.api.show(server_id)['locked_reason'])
        proc = self.openstack('server', 'delete', server_id, expect_rc=1)
        self.assertIn('is locked', proc.stderr)
        self.openstack('server', 'unlock', server_id)

        self.openstack('server', 'delete', '--wait', server_id)
        self.assertEqual(404, self.api.get(f'/v2.1/servers/{server_id}').status_code)
        self.assertEqual([], self.openstack('server', 'list', '-f', 'json'))

    def test_server_create(self):
        # --nic none is the CLI's spelling of "networks": "none"; --network NAME would
        # look the network up in the network service first.
        created = self.openstack('server', 'create', '--image', base.IMAGE_ID,
                                 '--flavor', base.FLAVOR_NAME, '--nic', 'none',
                                 '--property', 'made-by=cli', 'cli-made', '-f', 'json')
        self.assertTrue(created['adminPass'])
        server = self.api.wait_status(created['id'], 'ACTIVE')
        self.assertEqual('cli-made', server['name'])
        self.assertEqual({}, server['addresses'])
        self.assertEqual({'made-by': 'cli'}, server['metadata'])
        self.assertEqual(base.FLAVOR_NAME, server['flavor']['original_name'])

        proc = self.openstack('server', 'create', '--image', base.IMAGE_ID, '--flavor',
                              'no-such-flavor', '--nic', 'none', 'x', expect_rc=1)
        self.assertIn('No Flavor found for no-such-flavor', proc.stderr)

    def test_usage_list(self):
        # The CLI's default period (4 weeks ago .. tomorrow) holds a server booted now.
        # (`usage show` needs Keystone: it looks the project up in the identity API.)
        self.boot('cli-used')

        def listed():
            return [u for u in self.openstack('usage', 'list', '-f', 'json',
                                              token='admin:admin')
                    if u['Project'] == self.project]
        # As in Nova, a server counts once a whole second has passed since its launch
        # (the period is compared at whole seconds).
        (usage,) = self.wait_for('the server in the usage list', listed)
        # No server list: the SDK asks for detailed=True, which Nova reads as not
        # detailed (only "1" is).
        self.assertIsNone(usage['Servers'])
        self.assertGreater(usage['RAM MB-Hours'], 0)
        self.assertGreater(usage['CPU Hours'], 0)
        proc = self.openstack('usage', 'list', expect_rc=1)
        self.assertIn('os-simple-tenant-usage:list', proc.stderr)
