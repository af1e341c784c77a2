"""Kumo behind a real Keystone: the lab install (devstack/kumo-lab.sh) driven with the
`openstack` CLI, openstacksdk and python-novaclient through Keystone's service catalog.

The lab installs Keystone from PyPI into a virtualenv of its own (kept between runs in
.kumo/lab-keystone-venv), runs it on a free port with SQLite and fernet tokens, and
starts kumo-all with [api] auth_strategy = keystone; every port is a free one.
KUMO_TEST_SKIP_KEYSTONE=1 skips this module (e.g. offline).
"""
from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import openstack
import openstack.config
import requests
import testtools
import yaml
from keystoneauth1 import session as ksa_session
from keystoneauth1.identity import v3
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc

from tests.fixtures import stack

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_SCRIPT = os.path.join(REPO, 'devstack', 'kumo-lab.sh')
KEYSTONE_VENV = os.path.join(REPO, '.kumo', 'lab-keystone-venv')
IMAGE = 'cirros-0.6.2-x86_64-disk'
# novaclient's own ceiling (novaclient.API_MAX_VERSION); Kumo's is 2.100.
NOVACLIENT_MAX = '2.96'


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

    # --- keystoneauth sessions and novaclient ------------------------------------------
    def cloud_auth(self, cloud: str = 'kumo-demo') -> dict:
        """The `auth` section clouds.yaml gives `cloud`."""
        with open(os.path.join(self.lab_dir, 'clouds.yaml'), encoding='utf-8') as f:
            return dict(yaml.safe_load(f)['clouds'][cloud]['auth'])

    def keystone_session(self, **auth) -> ksa_session.Session:
        """A keystoneauth1 session on password auth: the catalog comes with its token."""
        sess = ksa_session.Session(auth=v3.Password(**auth))
        self.addCleanup(sess.session.close)
        return sess

    def nova(self, sess: ksa_session.Session):
        # No endpoint_override: novaclient finds the compute endpoint in the catalog.
        return nova_client.Client(NOVACLIENT_MAX, session=sess, region_name='RegionOne')

    def wait_nova(self, what: str, check, timeout: float = 90):
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                self.fail(f'timed out waiting for {what}')
            time.sleep(0.3)

    def nova_boot(self, nc, name: str):
        """m1.tiny, the lab's image, network 'private' — looked up as novaclient users
        do, its image and network proxies going to the image and network endpoints of the
        catalog — then wait for ACTIVE."""
        image = nc.glance.find_image(IMAGE)
        network = nc.neutron.find_network('private')
        flavor = nc.flavors.find(name='m1.tiny')
        server = nc.servers.create(name, image.id, flavor.id,
                                   nics=[{'net-id': network.id}])

        def active():
            found = nc.servers.get(server.id)
            if found.status == 'ERROR':
                self.fail(f'{server.id} went to ERROR: {getattr(found, "fault", None)}')
            return found if found.status == 'ACTIVE' else None
        return self.wait_nova(f'{server.id} to be ACTIVE', active)

    def nova_delete(self, nc, server_id: str) -> None:
        nc.servers.delete(server_id)

        def gone():
            try:
                nc.servers.get(server_id)
            except nova_exc.NotFound:
                return True
            return False
        self.wait_nova(f'{server_id} to be deleted', gone)

    def second_project(self) -> dict:
        """A non-admin project and user with the member role, made through the admin
        cloud as an operator would; returns its password-auth arguments."""
        suffix = uuid.uuid4().hex[:6]
        project, user, password = f'proj-b-{suffix}', f'user-b-{suffix}', f'pw-{suffix}'
        self.openstack('project', 'create', '--domain', 'Default', project,
                       cloud='kumo-admin')
        self.openstack('user', 'create', '--domain', 'Default', '--password', password,
                       user, cloud='kumo-admin')
        self.openstack('role', 'add', '--project', project, '--user', user, 'member',
                       cloud='kumo-admin')
        return dict(self.cloud_auth(), username=user, password=password,
                    project_name=project)

    def api_statuses(self, token: str) -> dict[str, int]:
        """What the compute, image and network APIs answer `token` with."""
        urls = {'compute': f'http://127.0.0.1:{self.ports["COMPUTE_PORT"]}/v2.1/servers',
                'image': f'http://127.0.0.1:{self.ports["IMAGE_PORT"]}/v2/images',
                'network': f'http://127.0.0.1:{self.ports["NETWORK_PORT"]}/v2.0/networks'}
        return {name: requests.get(url, headers={'X-Auth-Token': token},
                                   timeout=30).status_code
                for name, url in urls.items()}

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

    def test_novaclient_through_keystone(self):
        nc = self.nova(self.keystone_session(**self.cloud_auth('kumo-demo')))
        name = f'nc-lab-{uuid.uuid4().hex[:6]}'
        server = self.nova_boot(nc, name)
        self.assertEqual(['private'], list(server.addresses))
        self.assertIn(server.id, [s.id for s in nc.servers.list()])
        shown = nc.servers.get(server.id)
        self.assertEqual(name, shown.name)
        self.assertEqual(nc.client.session.get_project_id(), shown.tenant_id)
        nc.servers.update(server.id, name=f'{name}-renamed')
        self.assertEqual(f'{name}-renamed', nc.servers.get(server.id).name)
        self.nova_delete(nc, server.id)
        self.assertNotIn(server.id, [s.id for s in nc.servers.list()])

    def test_other_projects_servers_are_out_of_reach(self):
        demo = self.nova(self.keystone_session(**self.cloud_auth('kumo-demo')))
        server = self.nova_boot(demo, f'demo-{uuid.uuid4().hex[:6]}')
        self.addCleanup(self.nova_delete, demo, server.id)
        other_session = self.keystone_session(**self.second_project())
        other = self.nova(other_session)
        self.assertNotEqual(demo.client.session.get_project_id(),
                            other_session.get_project_id())

        self.assertNotIn(server.id, [s.id for s in other.servers.list()])
        self.assertNotIn(server.id, [s.id for s in other.servers.list(detailed=False)])
        # Naming demo's project does not widen B's view; all_tenants is for admins.
        self.assertNotIn(server.id, [s.id for s in other.servers.list(
            search_opts={'project_id': demo.client.session.get_project_id()})])
        self.assertRaises(nova_exc.Forbidden, other.servers.list,
                          search_opts={'all_tenants': 1})
        self.assertRaises(nova_exc.NotFound, other.servers.get, server.id)
        self.assertRaises(nova_exc.NotFound, other.servers.update, server.id,
                          name='hijacked')
        self.assertRaises(nova_exc.NotFound, other.servers.reboot, server.id)
        self.assertRaises(nova_exc.NotFound, other.servers.stop, server.id)
        self.assertRaises(nova_exc.NotFound, other.servers.set_meta, server.id,
                          {'owner': 'b'})
        self.assertRaises(nova_exc.NotFound, other.servers.set_meta_item, server.id,
                          'owner', 'b')
        self.assertRaises(nova_exc.NotFound, other.servers.delete, server.id)
        # The server's sub-resources: there for its owner, 404 for B.
        compute = f'http://127.0.0.1:{self.ports["COMPUTE_PORT"]}/v2.1/servers/{server.id}'
        headers = {'OpenStack-API-Version': f'compute {NOVACLIENT_MAX}'}
        for path in ('metadata', 'os-instance-actions', 'tags'):
            self.assertEqual(200, demo.client.session.get(
                f'{compute}/{path}', headers=headers, raise_exc=False).status_code, path)
            self.assertEqual(404, other_session.get(
                f'{compute}/{path}', headers=headers, raise_exc=False).status_code, path)

        # Nothing B tried reached the server.
        after = demo.servers.get(server.id)
        self.assertEqual((server.name, 'ACTIVE', {}),
                         (after.name, after.status, after.metadata))
        self.assertEqual(['create'], [a.action for a in
                                      demo.instance_action.list(server.id)])

    def test_revoked_token_gets_401(self):
        """A token Keystone issued to demo and then revoked (`openstack token revoke`, as
        admin): each API refuses it. The token is first shown good to Keystone itself;
        it is not used at Kumo before the revocation, since keystonemiddleware caches a
        validated token ([keystone_authtoken] token_cache_time, 300 s) and, like Nova,
        Kumo then honours it until that entry ages out."""
        # Demo's own session, used at Kumo: the requests themselves are good.
        self.assertEqual({'compute': 200, 'image': 200, 'network': 200}, self.api_statuses(
            self.keystone_session(**self.cloud_auth('kumo-demo')).get_token()))
        token = self.keystone_session(**self.cloud_auth('kumo-demo')).get_token()
        admin = self.keystone_session(**self.cloud_auth('kumo-admin'))
        tokens_url = f'{self.cloud_auth()["auth_url"]}/auth/tokens'
        self.assertEqual(200, admin.get(tokens_url, headers={'X-Subject-Token': token},
                                        raise_exc=False).status_code)
        self.openstack('token', 'revoke', token, cloud='kumo-admin')
        self.assertEqual(404, admin.get(tokens_url, headers={'X-Subject-Token': token},
                                        raise_exc=False).status_code)
        self.assertEqual({'compute': 401, 'image': 401, 'network': 401},
                         self.api_statuses(token))

    def test_expired_token_gets_401(self):
        """Keystone caps a token issued with an application credential at the
        credential's expiry (CVE-2022-2447): a credential that lasts seconds gives a
        genuinely short-lived token without shortening the lab's other tokens. It works
        at every API, then, once expired, gets 401 there — also from
        keystonemiddleware's cache, which checks the expiry of the token it holds."""
        demo = self.keystone_session(**self.cloud_auth('kumo-demo'))
        lifetime = 20
        expires = (datetime.datetime.now(datetime.UTC)
                   + datetime.timedelta(seconds=lifetime))
        identity = self.cloud_auth()['auth_url']
        cred = demo.post(f'{identity}/users/{demo.get_user_id()}/application_credentials',
                         json={'application_credential': {
                             'name': f'short-{uuid.uuid4().hex[:6]}',
                             'expires_at': expires.strftime('%Y-%m-%dT%H:%M:%S.%f')}}
                         ).json()['application_credential']
        issued = requests.post(f'{identity}/auth/tokens', timeout=30, json={'auth': {
            'identity': {'methods': ['application_credential'],
                         'application_credential': {'id': cred['id'],
                                                    'secret': cred['secret']}}}})
        self.assertEqual(201, issued.status_code, issued.text)
        token = issued.headers['X-Subject-Token']
        token_expires = datetime.datetime.fromisoformat(
            issued.json()['token']['expires_at'].replace('Z', '+00:00'))
        self.assertLessEqual(token_expires, expires + datetime.timedelta(seconds=1))
        self.assertEqual({'compute': 200, 'image': 200, 'network': 200},
                         self.api_statuses(token))
        wait = (token_expires - datetime.datetime.now(datetime.UTC)
                ).total_seconds()
        time.sleep(max(0.0, wait) + 1)
        self.assertEqual({'compute': 401, 'image': 401, 'network': 401},
                         self.api_statuses(token))
