"""The deprecated network proxies os-networks and os-tenant-networks end to end: the
networks the network service shows the caller, in nova-network's shape, up to 2.35;
404 from 2.36; "Network not found" for a network the caller cannot see; policy; the
writes still gone (410). Through Kumo's own network service and through an external
Neutron (Kumo's network service served over HTTP, asked with the caller's token)."""
from __future__ import annotations

import uuid

from tests.fixtures import served
from tests.unit.api import roles
from tests.unit.network_service import base

ADMIN = base.ADMIN
OLD = '2.35'
FIELDS = {'id', 'cidr', 'netmask', 'gateway', 'broadcast', 'dns1', 'dns2', 'cidr_v6',
          'gateway_v6', 'label', 'netmask_v6'}
ADMIN_FIELDS = FIELDS | {
    'created_at', 'updated_at', 'deleted_at', 'deleted', 'injected', 'bridge', 'vlan',
    'vpn_public_address', 'vpn_public_port', 'vpn_private_address', 'dhcp_start',
    'project_id', 'host', 'bridge_interface', 'multi_host', 'priority', 'rxtx_base', 'mtu',
    'dhcp_server', 'enable_dhcp', 'share_address'}
NOT_FOUND = {'itemNotFound': {'code': 404, 'message': 'Network not found'}}
GONE_AT_236 = {'itemNotFound': {'code': 404, 'message': 'The resource could not be found.'}}


class ProxiesCase(base.NetworkServiceTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        roles.allow_role_override(cls.cloud.app)

    def setUp(self):
        super().setUp()
        self.mine = self.network('mine', cidrs=('10.71.0.0/24',))
        other = f'user-{uuid.uuid4().hex[:6]}:project-{uuid.uuid4().hex[:12]}'
        self.theirs = self.network('theirs', cidrs=('10.72.0.0/24',), token=other)
        self.shared = self.call('GET', '/v2.0/networks?name=private',
                                token=ADMIN).json['networks'][0]

    def get(self, path: str, token: str | None = None, code: int = 200,
            version: str | None = OLD, headers: dict | None = None):
        resp = self.cloud.request('GET', f'/v2.1{path}', token=token or self.token,
                                  version=version, headers=headers)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json

    def ids(self, path: str, token: str | None = None) -> set[str]:
        return {n['id'] for n in self.get(path, token=token)['networks']}


class TestNetworks(ProxiesCase):

    def test_list_what_the_project_may_see(self):
        ids = self.ids('/os-networks')
        self.assertIn(self.mine['id'], ids)
        self.assertIn(self.shared['id'], ids)
        self.assertNotIn(self.theirs['id'], ids)
        # An admin sees every project's.
        self.assertLessEqual({self.mine['id'], self.theirs['id'], self.shared['id']},
                             self.ids('/os-networks', token=ADMIN))

    def test_only_id_and_label_carry_values(self):
        view = {n['id']: n for n in self.get('/os-networks')['networks']}[self.mine['id']]
        self.assertEqual({**dict.fromkeys(FIELDS), 'id': self.mine['id'], 'label': 'mine'},
                         view)
        self.assertEqual({'network': view},
                         self.get(f"/os-networks/{self.mine['id']}"))

    def test_admins_see_the_admin_keys(self):
        expected = {**dict.fromkeys(ADMIN_FIELDS), 'id': self.theirs['id'],
                    'label': 'theirs'}
        self.assertEqual({'network': expected},
                         self.get(f"/os-networks/{self.theirs['id']}", token=ADMIN))
        listed = self.get('/os-networks', token=ADMIN)['networks']
        self.assertEqual([ADMIN_FIELDS], list({frozenset(n) for n in listed}))

    def test_not_found(self):
        for network_id in (self.theirs['id'], str(uuid.uuid4()), 'no-such-network'):
            self.assertEqual(NOT_FOUND, self.get(f'/os-networks/{network_id}', code=404))

    def test_gone_from_236(self):
        for path in ('/os-networks', f"/os-networks/{self.mine['id']}",
                     f'/os-networks/{uuid.uuid4()}'):
            for version in ('2.36', '2.100'):
                self.assertEqual(GONE_AT_236, self.get(path, token=ADMIN, code=404,
                                                       version=version))
        # Without a version header: 2.1.
        self.assertIn(self.mine['id'], {n['id'] for n in self.get(
            '/os-networks', version=None)['networks']})

    def test_policy(self):
        # Readers may (Nova's project_reader_or_admin); a role without reader may not.
        self.assertIn(self.mine['id'], {n['id'] for n in self.get(
            '/os-networks', headers=roles.READER)['networks']})
        for path, rule in (('/os-networks', 'list'),
                           (f"/os-networks/{self.mine['id']}", 'show')):
            body = self.get(path, code=403, headers={'X-Test-Roles': 'observer'})
            self.assertEqual({'forbidden': {'code': 403, 'message': (
                f"Policy doesn't allow os_compute_api:os-networks:{rule} to be "
                'performed.')}}, body)

    def test_writes_still_gone(self):
        for method, path in (('POST', '/os-networks'),
                             ('DELETE', f"/os-networks/{self.mine['id']}"),
                             ('POST', '/os-tenant-networks'),
                             ('DELETE', f"/os-tenant-networks/{self.mine['id']}")):
            resp = self.cloud.request(method, f'/v2.1{path}', token=ADMIN, version=OLD,
                                      json={'network': {'label': 'x'}})
            self.assertEqual(410, resp.status_code, f'{method} {path}')


class TestTenantNetworks(ProxiesCase):

    def test_list_and_show(self):
        networks = {n['id']: n for n in self.get('/os-tenant-networks')['networks']}
        self.assertEqual({'id': self.mine['id'], 'cidr': 'None', 'label': 'mine'},
                         networks[self.mine['id']])
        self.assertIn(self.shared['id'], networks)
        self.assertNotIn(self.theirs['id'], networks)
        self.assertEqual({'network': networks[self.mine['id']]},
                         self.get(f"/os-tenant-networks/{self.mine['id']}"))
        # Admins get the same three keys.
        self.assertEqual({'network': {'id': self.theirs['id'], 'cidr': 'None',
                                      'label': 'theirs'}},
                         self.get(f"/os-tenant-networks/{self.theirs['id']}", token=ADMIN))

    def test_not_found(self):
        for network_id in (self.theirs['id'], str(uuid.uuid4())):
            self.assertEqual(NOT_FOUND,
                             self.get(f'/os-tenant-networks/{network_id}', code=404))

    def test_gone_from_236(self):
        for path in ('/os-tenant-networks', f"/os-tenant-networks/{self.mine['id']}"):
            self.assertEqual(GONE_AT_236, self.get(path, code=404, version='2.36'))

    def test_policy(self):
        for path, rule in (('/os-tenant-networks', 'list'),
                           (f"/os-tenant-networks/{self.mine['id']}", 'show')):
            body = self.get(path, code=403, headers={'X-Test-Roles': 'observer'})
            self.assertEqual({'forbidden': {'code': 403, 'message': (
                f"Policy doesn't allow os_compute_api:os-tenant-networks:{rule} to be "
                'performed.')}}, body)


class TestThroughNeutron(ProxiesCase):
    """The same answers when the networks come from an external Neutron's API."""

    def setUp(self):
        super().setUp()
        self.useFixture(served.network_service())

    def test_visibility_is_neutrons(self):
        for path in ('/os-networks', '/os-tenant-networks'):
            ids = self.ids(path)
            self.assertIn(self.mine['id'], ids)
            self.assertIn(self.shared['id'], ids)
            self.assertNotIn(self.theirs['id'], ids)
            self.assertIn(self.theirs['id'], self.ids(path, token=ADMIN))

    def test_show_and_not_found(self):
        self.assertEqual({'network': {'id': self.mine['id'], 'cidr': 'None',
                                      'label': 'mine'}},
                         self.get(f"/os-tenant-networks/{self.mine['id']}"))
        self.assertEqual('mine', self.get(f"/os-networks/{self.mine['id']}")
                         ['network']['label'])
        for network_id in (self.theirs['id'], str(uuid.uuid4())):
            self.assertEqual(NOT_FOUND, self.get(f'/os-networks/{network_id}', code=404))
            self.assertEqual(NOT_FOUND,
                             self.get(f'/os-tenant-networks/{network_id}', code=404))
