"""addSecurityGroup / removeSecurityGroup: the group taken from and given back to
each of the server's ports in the network service, and the server's views following;
Nova's (with Neutron) errors. Through Kumo's own network service and through an
external Neutron (Kumo's network service served over HTTP, asked with the caller's
token)."""
from __future__ import annotations

from kumo_common.network.local import default_group_id
from tests.fixtures import served
from tests.unit.network_service import base


class SecurityGroupCase(base.NetworkServiceTestCase):

    def boot(self, **fields) -> str:
        server = self.cloud.create_server('sg', token=self.token, **fields)
        return self.cloud.wait_for_status(server['id'], 'ACTIVE', token=self.token)['id']

    def action(self, sid: str, name: str, group: str, code: int = 202,
               token: str | None = None):
        resp = self.cloud.request('POST', f'/v2.1/servers/{sid}/action',
                                  token=token or self.token, json={name: {'name': group}})
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return next(iter(resp.json.values()))['message'] if code >= 400 else None

    def port_groups(self, sid: str) -> list[list[str]]:
        ports = self.call('GET', f'/v2.0/ports?device_id={sid}').json['ports']
        return [port['security_groups'] for port in ports]

    def shown(self, sid: str):
        return self.cloud.get_server(sid, token=self.token).get('security_groups')


class TestLocalNetworkService(SecurityGroupCase):

    def test_remove_and_add_back(self):
        sid = self.boot()
        default = default_group_id(self.project)
        self.assertEqual([{'name': 'default'}], self.shown(sid))
        self.assertEqual([[default]], self.port_groups(sid))
        self.action(sid, 'removeSecurityGroup', 'default')
        # Nova shows no security_groups for a server whose ports have none.
        self.assertIsNone(self.shown(sid))
        self.assertEqual([[]], self.port_groups(sid))
        self.assertEqual(f'Security group default not associated with the instance {sid}',
                         self.action(sid, 'removeSecurityGroup', 'default', code=404))
        # Added back by its id this time.
        self.action(sid, 'addSecurityGroup', default)
        self.assertEqual([{'name': 'default'}], self.shown(sid))
        self.assertEqual([[default]], self.port_groups(sid))
        # Adding it again changes nothing (Neutron keeps a group once per port).
        self.action(sid, 'addSecurityGroup', 'default')
        self.assertEqual([[default]], self.port_groups(sid))

    def test_errors(self):
        sid = self.boot()
        self.assertEqual(f'Security group nope is not found for project {self.project}',
                         self.action(sid, 'addSecurityGroup', 'nope', code=404))
        self.assertEqual('Security group name cannot be empty',
                         self.action(sid, 'removeSecurityGroup', '  ', code=400))
        resp = self.cloud.request('POST', f'/v2.1/servers/{sid}/action', token=self.token,
                                  json={'addSecurityGroup': {}})
        self.assertEqual(400, resp.status_code)
        # A server of another project does not exist for its caller.
        other = f'user-x:project-other-{self.project}'
        self.action(sid, 'removeSecurityGroup', 'default', code=404, token=other)
        self.assertEqual([{'name': 'default'}], self.shown(sid))
        # A server without ports has nothing to put a group on.
        bare = self.boot(networks='none')
        self.assertEqual(f'instance_id {bare} could not be found as device id on any ports',
                         self.action(bare, 'addSecurityGroup', 'default', code=404))


    def test_network_service_port_update(self):
        sid = self.boot()
        port = self.call('GET', f'/v2.0/ports?device_id={sid}').json['ports'][0]
        resp = self.call('PUT', f"/v2.0/ports/{port['id']}", status=404,
                         json={'port': {'security_groups': ['no-such-group']}})
        self.assertEqual(('SecurityGroupNotFound', 'Security group no-such-group does not '
                          'exist'), self.error(resp))
        self.call('PUT', f"/v2.0/ports/{port['id']}", json={'port': {'security_groups': []}})
        self.assertEqual([[]], self.port_groups(sid))


class TestThroughNeutron(SecurityGroupCase):

    def setUp(self):
        super().setUp()
        self.useFixture(served.network_service())

    def test_remove_and_add_back(self):
        net = self.network('sgnet', cidrs=('10.63.0.0/24',))
        sid = self.boot(networks=[{'uuid': net['id']}])
        default = default_group_id(self.project)
        self.assertEqual([[default]], self.port_groups(sid))
        self.action(sid, 'removeSecurityGroup', 'default')
        self.assertEqual([[]], self.port_groups(sid))
        self.assertIsNone(self.shown(sid))
        self.action(sid, 'addSecurityGroup', 'default')
        self.assertEqual([[default]], self.port_groups(sid))
        self.assertEqual([{'name': 'default'}], self.shown(sid))
        self.assertEqual(f'Security group nope is not found for project {self.project}',
                         self.action(sid, 'addSecurityGroup', 'nope', code=404))
