"""Kumo behind a real Keystone: the lab install (devstack/kumo-lab.sh) driven with the
`openstack` CLI and openstacksdk through Keystone's service catalog.

The lab installs Keystone from PyPI into a virtualenv of its own (kept between runs in
.kumo/lab-keystone-venv), runs it on a free port with SQLite and fernet tokens, and
starts kumo-all with [api] auth_strategy = keystone; every port is a free one.
KUMO_TEST_SKIP_KEYSTONE=1 skips this module (e.g. offline).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid

import openstack
import openstack.config
import requests
import testtools

from tests.fixtures import stack

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_SCRIPT = os.path.join(REPO, 'devstack', 'kumo-lab.sh')
KEYSTONE_VENV = os.path.join(REPO, '.kumo', 'lab-keystone-venv')
IMAGE = 'cirros-0.6.2-x86_64-disk'


class TestKeystoneLab(testtools.TestCase):

    lab_dir: str | None = None
    env: dict[str, str] = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if os.environ.get('KUMO_TEST_SKIP_KEYSTONE'):
            raise testtools.TestCase.skipException('KUMO_TEST_SKIP_KEYSTONE is set')
        cls.lab_dir = tempfile.mkdtemp(prefix='kumo_lab_')
        ports = {name: str(stack.free_port()) for name in
                 ('KEYSTONE_PORT', 'COMPUTE_PORT', 'IMAGE_PORT', 'NETWORK_PORT')}
        cls.env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        cls.env.update(ports, LAB_DIR=cls.lab_dir, KEYSTONE_VENV=KEYSTONE_VENV,
                       KUMO_VENV=os.path.dirname(os.path.dirname(
                           stack.executable('kumo-all'))), COMPUTES='1')
        cls.ports = ports
        proc = subprocess.run(['bash', LAB_SCRIPT, 'start'], env=cls.env,
                              capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0:
            cls._stop()
            raise AssertionError(f'kumo-lab.sh start failed ({proc.returncode}):\n'
                                 f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')

    @classmethod
    def tearDownClass(cls):
        cls._stop()
        super().tearDownClass()

    @classmethod
    def _stop(cls):
        if cls.lab_dir:
            subprocess.run(['bash', LAB_SCRIPT, 'stop'], env=cls.env, capture_output=True,
                           timeout=120, check=False)
            shutil.rmtree(cls.lab_dir, ignore_errors=True)
            cls.lab_dir = None

    def openstack(self, *args: str, cloud: str = 'kumo-demo', expect_rc: int = 0):
        env = dict(self.env, OS_CLIENT_CONFIG_FILE=os.path.join(self.lab_dir, 'clouds.yaml'),
                   OS_CLOUD=cloud)
        proc = subprocess.run([stack.executable('openstack'), *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(expect_rc, proc.returncode,
                         f'{" ".join(args)}:\nstdout: {proc.stdout}\nstderr: {proc.stderr}')
        if '-f' in args and args[args.index('-f') + 1] == 'json':
            return json.loads(proc.stdout)
        return proc

    def test_server_lifecycle_with_the_cli(self):
        name = f'lab-{uuid.uuid4().hex[:6]}'
        server = self.openstack('server', 'create', '--flavor', 'm1.tiny', '--image', IMAGE,
                                '--network', 'private', name, '--wait', '-f', 'json')
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual(['private'], list(server['addresses']))
        self.assertIn(name, [s['Name'] for s in self.openstack('server', 'list', '-f',
                                                                'json')])
        self.assertEqual(server['id'], self.openstack('server', 'show', name, '-f',
                                                      'json')['id'])
        self.openstack('server', 'set', '--name', f'{name}-renamed', server['id'])
        self.assertEqual(f'{name}-renamed', self.openstack(
            'server', 'show', server['id'], '-f', 'json')['name'])
        (port,) = self.openstack('port', 'list', '--server', server['id'], '-f', 'json')
        self.assertEqual('ACTIVE', port['Status'])
        self.openstack('server', 'delete', '--wait', server['id'])
        self.assertEqual([], self.openstack('port', 'list', '--device-id', server['id'],
                                            '-f', 'json'))

    def test_other_resources_with_the_cli(self):
        self.assertIn('m1.tiny', [f['Name'] for f in self.openstack('flavor', 'list',
                                                                     '-f', 'json')])
        self.assertIn(IMAGE, [i['Name'] for i in self.openstack('image', 'list', '-f',
                                                                 'json')])
        self.assertIn('private', [n['Name'] for n in self.openstack('network', 'list',
                                                                     '-f', 'json')])
        key = f'key-{uuid.uuid4().hex[:6]}'
        self.openstack('keypair', 'create', key)
        group = self.openstack('server', 'group', 'create', '--policy', 'anti-affinity',
                               f'group-{key}', '-f', 'json')
        self.assertEqual('anti-affinity', group['policy'])

    def test_projects_are_apart(self):
        admin_image = self.openstack('image', 'create', '--private', '--disk-format', 'raw',
                                     '--container-format', 'bare', f'admin-{uuid.uuid4()}',
                                     '-f', 'json', cloud='kumo-admin')
        admin_port = self.openstack('port', 'create', '--network', 'private',
                                    f'admin-port-{uuid.uuid4().hex[:6]}', '-f', 'json',
                                    cloud='kumo-admin')
        self.assertNotIn(admin_image['id'], [i['ID'] for i in self.openstack(
            'image', 'list', '-f', 'json')])
        self.openstack('image', 'show', admin_image['id'], expect_rc=1)
        self.assertNotIn(admin_port['id'], [p['ID'] for p in self.openstack(
            'port', 'list', '-f', 'json')])
        server = self.openstack('server', 'create', '--flavor', 'm1.tiny', '--image', IMAGE,
                                '--nic', f'port-id={admin_port["id"]}', 'stolen-port',
                                expect_rc=1)
        # The CLI looks the port up first, in the caller's project: it is not there.
        self.assertIn(f'No Port found for {admin_port["id"]}', server.stderr)

    def test_bad_tokens_are_refused(self):
        for port in self.ports.values():
            if port == self.ports['KEYSTONE_PORT']:
                continue
            path = {self.ports['COMPUTE_PORT']: '/v2.1/servers',
                    self.ports['IMAGE_PORT']: '/v2/images',
                    self.ports['NETWORK_PORT']: '/v2.0/networks'}[port]
            resp = requests.get(f'http://127.0.0.1:{port}{path}', timeout=30,
                                headers={'X-Auth-Token': 'bogus'})
            self.assertEqual(401, resp.status_code, path)

    def test_sdk_through_the_catalog(self):
        config = openstack.config.OpenStackConfig(
            config_files=[os.path.join(self.lab_dir, 'clouds.yaml')], load_envvars=False)
        conn = openstack.connection.Connection(config=config.get_one('kumo-demo'))
        self.addCleanup(conn.close)
        self.assertEqual(f'http://127.0.0.1:{self.ports["IMAGE_PORT"]}/v2/',
                         conn.image.get_endpoint_data().service_url)
        image = conn.image.find_image(IMAGE)
        network = conn.network.find_network('private')
        server = conn.compute.create_server(name='sdk-lab', flavor_id='1',
                                            image_id=image.id,
                                            networks=[{'uuid': network.id}])
        server = conn.compute.wait_for_server(server, interval=0.2, wait=60)
        self.assertEqual(conn.current_project_id, server.project_id)
        self.assertEqual(1, len(list(conn.network.ports(device_id=server.id))))
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, interval=0.2, wait=60)
