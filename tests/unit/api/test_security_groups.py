"""Nova's security group proxies (os-security-groups, os-security-group-rules: up to
2.35, 404 from 2.36) and GET /servers/{id}/os-security-groups, over Kumo's own
network service and over an external Neutron (Kumo's network service served over
HTTP, asked with the caller's token): shapes, Nova's errors, projects."""
from __future__ import annotations

import time
import uuid

from kumo_common.network.local import default_group_id
from tests.fixtures import served
from tests.unit.api.test_server_security_groups import SecurityGroupCase
from tests.unit.network_service import base

V = '2.35'


class ProxyCase(SecurityGroupCase):

    def nova(self, method: str, path: str, code: int = 200, token: str | None = None,
             version: str = V, json=None):
        resp = self.cloud.request(method, f'/v2.1{path}', token=token or self.token,
                                  version=version, json=json)
        self.assertEqual(code, resp.status_code, f'{method} {path}: {resp.get_data(True)}')
        if code >= 400:
            (fault,) = resp.json.values()
            self.assertEqual(code, fault['code'])
            return fault['message']
        return resp.json if resp.data else None

    def create(self, name: str = 'web', description: str = 'web tier') -> dict:
        return self.nova('POST', '/os-security-groups', json={'security_group': {
            'name': name, 'description': description}})['security_group']

    def add_rule(self, code: int = 200, **rule):
        body = self.nova('POST', '/os-security-group-rules', code,
                         json={'security_group_rule': rule})
        return body['security_group_rule'] if code == 200 else body


class ProxyTests:
    """Run over both backends."""

    def test_groups(self):
        group = self.create()
        self.assertEqual({'id': group['id'], 'name': 'web', 'description': 'web tier',
                          'tenant_id': self.project, 'rules': []}, group)
        listed = self.nova('GET', '/os-security-groups')['security_groups']
        self.assertEqual(['default', 'web'], [g['name'] for g in listed])
        default = listed[0]
        self.assertEqual(default_group_id(self.project), default['id'])
        # Only the ingress rules, each from the group itself.
        self.assertEqual([{'name': 'default', 'tenant_id': self.project}] * 2,
                         [r['group'] for r in default['rules']])
        self.assertEqual([(None, None, None, {})] * 2,
                         [(r['ip_protocol'], r['from_port'], r['to_port'], r['ip_range'])
                          for r in default['rules']])
        path = f"/os-security-groups/{group['id']}"
        self.assertEqual(group, self.nova('GET', path)['security_group'])
        updated = self.nova('PUT', path, json={'security_group': {
            'name': 'www', 'description': 'renamed'}})['security_group']
        self.assertEqual(('www', 'renamed'), (updated['name'], updated['description']))
        self.assertIsNone(self.nova('DELETE', path, 202))
        self.assertIn(group['id'], self.nova('GET', path, 404))
        self.assertIn(group['id'], self.nova('DELETE', path, 404))
        self.assertEqual('Security group id should be uuid',
                         self.nova('GET', '/os-security-groups/nope', 400))
        # limit and offset over the project's groups
        self.create('a')
        self.create('b')
        names = [g['name'] for g in self.nova(
            'GET', '/os-security-groups?offset=1&limit=1')['security_groups']]
        self.assertEqual(1, len(names))

    def test_errors_of_groups(self):
        default = default_group_id(self.project)
        # Neutron's 409s, as Nova answers them.
        self.assertEqual('Insufficient rights for removing default security group.',
                         self.nova('DELETE', f'/os-security-groups/{default}', 400))
        self.assertEqual('Default security group already exists.', self.nova(
            'POST', '/os-security-groups', 403,
            json={'security_group': {'name': 'default', 'description': ''}}))
        self.assertEqual('Updating default security group not allowed.', self.nova(
            'PUT', f'/os-security-groups/{default}', 400,
            json={'security_group': {'name': 'other', 'description': ''}}))
        self.nova('POST', '/os-security-groups', 400, json={'security_group': {
            'name': 'x'}})
        self.nova('POST', '/os-security-groups', 400, json={'security_group': {
            'name': 'x' * 256, 'description': ''}})
        # A group a server's port holds is in use.
        sid = self.boot(**self.server_networks())
        group = self.create('held')
        self.action(sid, 'addSecurityGroup', 'held')
        self.assertEqual(f"Security Group {group['id']} in use.", self.nova(
            'DELETE', f"/os-security-groups/{group['id']}", 400))

    def test_rules(self):
        group, source = self.create('web'), self.create('lb')
        rule = self.add_rule(parent_group_id=group['id'], ip_protocol='tcp',
                             from_port=22, to_port=22, cidr='10.0.0.0/8')
        self.assertEqual({'parent_group_id': group['id'], 'ip_protocol': 'tcp',
                          'from_port': 22, 'to_port': 22, 'group': {},
                          'ip_range': {'cidr': '10.0.0.0/8'}},
                         {k: v for k, v in rule.items() if k != 'id'})
        # From a source group, no ports: all of them.
        from_group = self.add_rule(parent_group_id=group['id'], ip_protocol='udp',
                                   group_id=source['id'])
        self.assertEqual((1, 65535, {'name': 'lb', 'tenant_id': self.project}, {}),
                         (from_group['from_port'], from_group['to_port'],
                          from_group['group'], from_group['ip_range']))
        icmp = self.add_rule(parent_group_id=group['id'], ip_protocol='icmp',
                             from_port=-1, to_port=-1, cidr='::/0')
        self.assertEqual((-1, -1), (icmp['from_port'], icmp['to_port']))
        shown = self.nova('GET', f"/os-security-groups/{group['id']}")['security_group']
        self.assertEqual(sorted([rule['id'], from_group['id'], icmp['id']]),
                         sorted(r['id'] for r in shown['rules']))
        # And in the network service, as Neutron rules.
        neutron = self.call('GET', f"/v2.0/security-group-rules/{icmp['id']}"
                            ).json['security_group_rule']
        self.assertEqual(('ingress', 'IPv6', 'icmp', None, None),
                         (neutron['direction'], neutron['ethertype'], neutron['protocol'],
                          neutron['port_range_min'], neutron['port_range_max']))
        self.assertEqual(f"This rule already exists in group {group['id']}", self.add_rule(
            400, parent_group_id=group['id'], ip_protocol='tcp', from_port=22,
            to_port=22, cidr='10.0.0.0/8'))
        self.assertIsNone(self.nova('DELETE', f"/os-security-group-rules/{rule['id']}",
                                    202))
        self.assertIn(rule['id'], self.nova(
            'DELETE', f"/os-security-group-rules/{rule['id']}", 404))
        shown = self.nova('GET', f"/os-security-groups/{group['id']}")['security_group']
        self.assertEqual(2, len(shown['rules']))

    def test_errors_of_rules(self):
        gid = self.create()['id']
        cases = [
            ({'ip_protocol': 'tcp', 'from_port': 'a', 'to_port': 2},
             'Invalid input received: To and From ports must be integers'),
            ({'ip_protocol': 'icmp', 'from_port': 'a', 'to_port': 2},
             'Invalid input received: Type and Code must be integers for ICMP protocol '
             'type'),
            ({'ip_protocol': 'foo', 'from_port': 1, 'to_port': 2},
             'Invalid IP protocol foo.'),
            ({'ip_protocol': 'tcp', 'from_port': 23, 'to_port': 22},
             'Invalid port range 23:22. Former value cannot be greater than the later'),
            ({'ip_protocol': 'udp', 'from_port': 0, 'to_port': 22},
             'Invalid port range 0:22. Valid UDP ports should be between 1-65535'),
            ({'ip_protocol': 'icmp', 'from_port': 256, 'to_port': 1},
             'Invalid port range 256:1. For ICMP, the type:code must be valid'),
            ({'ip_protocol': 'tcp', 'from_port': 1, 'to_port': 2, 'cidr': '10.0.0.1'},
             '10.0.0.1 is not a valid IP network.'),
            ({'ip_protocol': 'tcp', 'from_port': 1, 'to_port': 2, 'cidr': '10.0.0.1/0'},
             'Bad prefix for network in cidr 10.0.0.1/0'),
            ({'ip_protocol': 'tcp'}, 'Not enough parameters to build a valid rule.'),
        ]
        for fields, message in cases:
            self.assertEqual(message, self.add_rule(400, parent_group_id=gid, **fields),
                             fields)
        missing = str(uuid.uuid4())
        self.assertIn(missing, self.add_rule(404, parent_group_id=missing,
                                             ip_protocol='tcp', from_port=1, to_port=2))
        self.assertIn(missing, self.add_rule(404, parent_group_id=gid, group_id=missing))
        self.add_rule(400, parent_group_id='not-a-uuid')
        self.assertEqual('Security group id should be uuid', self.nova(
            'DELETE', '/os-security-group-rules/nope', 400))
        shown = self.nova('GET', f'/os-security-groups/{gid}')['security_group']
        self.assertEqual([], shown['rules'])

    def test_projects_and_all_tenants(self):
        group = self.create('mine')
        other = f'user-x:project-other-{uuid.uuid4().hex[:8]}'
        self.assertEqual(['default'], [g['name'] for g in self.nova(
            'GET', '/os-security-groups?all_tenants=1', token=other)['security_groups']])
        for method, code in (('GET', 404), ('DELETE', 404)):
            self.nova(method, f"/os-security-groups/{group['id']}", code, token=other)
        resp = self.cloud.request('POST', '/v2.1/os-security-group-rules', token=other,
                                  version=V, json={'security_group_rule': {
                                      'parent_group_id': group['id'], 'ip_protocol': 'tcp',
                                      'from_port': 1, 'to_port': 2}})
        self.assertEqual(404, resp.status_code)
        admin_all = self.nova('GET', '/os-security-groups?all_tenants=1',
                              token=base.ADMIN)['security_groups']
        self.assertIn(group['id'], [g['id'] for g in admin_all])
        admin_own = self.nova('GET', '/os-security-groups', token=base.ADMIN
                              )['security_groups']
        self.assertNotIn(group['id'], [g['id'] for g in admin_own])

    def test_gone_from_236(self):
        gid = self.create()['id']
        for method, path in (('GET', '/os-security-groups'),
                             ('GET', f'/os-security-groups/{gid}'),
                             ('DELETE', f'/os-security-groups/{gid}'),
                             ('POST', '/os-security-group-rules'),
                             ('DELETE', f'/os-security-group-rules/{gid}')):
            self.assertEqual('The resource could not be found.',
                             self.nova(method, path, 404, version='2.36'))
        self.nova('GET', f'/os-security-groups/{gid}')

    def test_server_groups(self):
        sid = self.boot(**self.server_networks())
        for version in ('2.1', '2.36', '2.100'):
            (default,) = self.nova('GET', f'/servers/{sid}/os-security-groups',
                                   version=version)['security_groups']
            self.assertEqual(('default', self.project, 2),
                             (default['name'], default['tenant_id'], len(default['rules'])))
        web = self.create('web')
        self.add_rule(parent_group_id=web['id'], ip_protocol='tcp', from_port=80,
                      to_port=80, cidr='0.0.0.0/0')
        self.action(sid, 'addSecurityGroup', 'web')
        groups = self.nova('GET', f'/servers/{sid}/os-security-groups')['security_groups']
        self.assertEqual(['default', 'web'], [g['name'] for g in groups])
        self.assertEqual([{'cidr': '0.0.0.0/0'}], [r['ip_range'] for r in groups[1]['rules']])
        self.action(sid, 'removeSecurityGroup', 'default')
        self.assertEqual(['web'], [g['name'] for g in self.nova(
            'GET', f'/servers/{sid}/os-security-groups')['security_groups']])
        other = f'user-x:project-other-{uuid.uuid4().hex[:8]}'
        self.assertEqual(f'Instance {sid} could not be found.', self.nova(
            'GET', f'/servers/{sid}/os-security-groups', 404, token=other))
        missing = str(uuid.uuid4())
        self.nova('GET', f'/servers/{missing}/os-security-groups', 404)
        # A server without ports has no groups.
        bare = self.boot(networks='none')
        self.assertEqual([], self.nova('GET', f'/servers/{bare}/os-security-groups'
                                       )['security_groups'])


    def test_server_created_in_groups(self):
        web = self.create('web')
        sid = self.boot(security_groups=[{'name': 'web'}, {'name': 'default'}],
                        **self.server_networks())
        self.assertEqual([sorted([web['id'], default_group_id(self.project)])],
                         [sorted(groups) for groups in self.port_groups(sid)])
        self.assertEqual(['default', 'web'], [g['name'] for g in self.nova(
            'GET', f'/servers/{sid}/os-security-groups')['security_groups']])
        self.assertEqual(f"Security Group {web['id']} in use.", self.nova(
            'DELETE', f"/os-security-groups/{web['id']}", 400))
        only_web = self.boot(security_groups=[{'name': web['id']}],
                             **self.server_networks())
        self.assertEqual([[web['id']]], self.port_groups(only_web))
        # The server's ports go with it, and the group is free again.
        for server in (sid, only_web):
            self.nova('DELETE', f'/servers/{server}', 204)
        for server in (sid, only_web):
            self.cloud.wait_for_status(server, 'DELETED')
            # An external Neutron's ports are freed once the delete has committed.
            deadline = time.monotonic() + 10
            while self.port_groups(server) and time.monotonic() < deadline:
                time.sleep(0.05)
        self.nova('DELETE', f"/os-security-groups/{web['id']}", 202)


class TestLocal(ProxyCase, ProxyTests):

    def server_networks(self) -> dict:
        return {}


class TestThroughNeutron(ProxyCase, ProxyTests):

    def setUp(self):
        super().setUp()
        self.useFixture(served.network_service())

    def server_networks(self) -> dict:
        net = self.network('sgnet', cidrs=('10.64.0.0/24',))
        return {'networks': [{'uuid': net['id']}]}
