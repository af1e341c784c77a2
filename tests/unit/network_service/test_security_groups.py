"""The network service's security groups and rules (Neutron's /v2.0/security-groups
and /v2.0/security-group-rules): the default group and its rules, create, update,
delete (and what may not be), rule checks in Neutron's words, duplicates,
visibility across projects, listing filters and fields."""
from __future__ import annotations

import uuid

from tests.unit.network_service import base


class SecurityGroupTestCase(base.NetworkServiceTestCase):

    def group(self, name: str = 'web', token: str | None = None, **fields) -> dict:
        return self.call('POST', '/v2.0/security-groups', token=token, status=201, json={
            'security_group': {'name': name, **fields}}).json['security_group']

    def rule(self, group_id: str, status: int = 201, token: str | None = None,
             **fields):
        resp = self.call('POST', '/v2.0/security-group-rules', token=token, status=status,
                         json={'security_group_rule': {'security_group_id': group_id,
                                                       'direction': 'ingress', **fields}})
        return resp.json['security_group_rule'] if status == 201 else self.error(resp)


class TestGroups(SecurityGroupTestCase):

    def test_default_group_and_its_rules(self):
        (default,) = self.call('GET', '/v2.0/security-groups').json['security_groups']
        self.assertEqual(('default', self.project), (default['name'], default['project_id']))
        rules = {(r['direction'], r['ethertype'], r['remote_group_id'])
                 for r in default['security_group_rules']}
        self.assertEqual({('egress', 'IPv4', None), ('egress', 'IPv6', None),
                          ('ingress', 'IPv4', default['id']),
                          ('ingress', 'IPv6', default['id'])}, rules)
        self.assertTrue(all(r['belongs_to_default_sg']
                            for r in default['security_group_rules']))
        # The same group (and rule ids) however often it is asked for.
        again = self.call('GET', f"/v2.0/security-groups/{default['id']}").json
        self.assertEqual(default, again['security_group'])

    def test_create_show_update_delete(self):
        group = self.group('web', description='the web tier')
        self.assertEqual(('web', 'the web tier', self.project),
                         (group['name'], group['description'], group['project_id']))
        self.assertEqual([('egress', 'IPv4'), ('egress', 'IPv6')], sorted(
            (r['direction'], r['ethertype']) for r in group['security_group_rules']))
        path = f"/v2.0/security-groups/{group['id']}"
        self.assertEqual(group, self.call('GET', path).json['security_group'])
        updated = self.call('PUT', path, json={'security_group': {
            'name': 'www', 'description': 'renamed'}}).json['security_group']
        self.assertEqual(('www', 'renamed'), (updated['name'], updated['description']))
        self.assertEqual(['www'], self.listed('/v2.0/security-groups?name=www'))
        self.assertEqual([{'id': group['id']}], self.call(
            'GET', '/v2.0/security-groups?name=www&fields=id').json['security_groups'])
        self.call('DELETE', path, status=204)
        resp = self.call('GET', path, status=404)
        self.assertEqual(('SecurityGroupNotFound',
                          f"Security group {group['id']} does not exist"), self.error(resp))
        self.assertEqual(['default'], self.listed('/v2.0/security-groups'))

    def test_what_the_default_group_refuses(self):
        (default,) = self.call('GET', '/v2.0/security-groups').json['security_groups']
        path = f"/v2.0/security-groups/{default['id']}"
        resp = self.call('PUT', path, status=409,
                         json={'security_group': {'name': 'renamed'}})
        self.assertEqual(('SecurityGroupCannotUpdateDefault',
                          'Updating default security group not allowed.'),
                         self.error(resp))
        # Its description may change.
        self.call('PUT', path, json={'security_group': {'description': 'ours'}})
        resp = self.call('DELETE', path, status=409)
        self.assertEqual(('SecurityGroupCannotRemoveDefault',
                          'Insufficient rights for removing default security group.'),
                         self.error(resp))
        resp = self.call('POST', '/v2.0/security-groups', status=409,
                         json={'security_group': {'name': 'default'}})
        self.assertEqual('SecurityGroupDefaultAlreadyExists', self.error(resp)[0])
        other = self.group('other')
        resp = self.call('PUT', f"/v2.0/security-groups/{other['id']}", status=409,
                         json={'security_group': {'name': 'default'}})
        self.assertEqual('SecurityGroupCannotUpdateDefault', self.error(resp)[0])

    def test_a_group_in_use_by_a_port(self):
        group = self.group('db')
        network = self.network('sg-net', ('10.96.0.0/24',))
        port = self.post('port', network_id=network['id'], security_groups=[group['id']])
        self.assertEqual([group['id']], port['security_groups'])
        path = f"/v2.0/security-groups/{group['id']}"
        resp = self.call('DELETE', path, status=409)
        self.assertEqual(('SecurityGroupInUse', f"Security Group {group['id']} in use."),
                         self.error(resp))
        # A port holding no explicit groups holds its project's default: an admin may
        # delete another project's default only when no port holds it.
        (default,) = self.call('GET', '/v2.0/security-groups?name=default'
                               ).json['security_groups']
        self.post('port', network_id=network['id'])
        resp = self.call('DELETE', f"/v2.0/security-groups/{default['id']}",
                         token=base.ADMIN, status=409)
        self.assertEqual('SecurityGroupInUse', self.error(resp)[0])
        self.call('PUT', f"/v2.0/ports/{port['id']}",
                  json={'port': {'security_groups': []}})
        self.call('DELETE', path, status=204)
        resp = self.call('POST', '/v2.0/ports', status=404, json={'port': {
            'network_id': network['id'], 'security_groups': [group['id']]}})
        self.assertEqual('SecurityGroupNotFound', self.error(resp)[0])

    def test_other_projects(self):
        group = self.group('private')
        other = f'user:{uuid.uuid4().hex}'
        self.assertEqual(['default'], self.listed('/v2.0/security-groups', token=other))
        path = f"/v2.0/security-groups/{group['id']}"
        for method in ('GET', 'DELETE'):
            self.call(method, path, token=other, status=404)
        self.call('PUT', path, token=other, status=404,
                  json={'security_group': {'name': 'mine'}})
        self.rule(group['id'], token=other, status=404, protocol='tcp')
        # An admin sees every project's groups, and may filter by project.
        self.assertIn(group['id'], self.listed('/v2.0/security-groups', 'id',
                                               token=base.ADMIN))
        self.assertEqual(['default', 'private'], sorted(self.listed(
            f'/v2.0/security-groups?project_id={self.project}', token=base.ADMIN)))
        # Only an admin makes a group for another project.
        resp = self.call('POST', '/v2.0/security-groups', token=other, status=400,
                         json={'security_group': {'name': 'x', 'project_id': self.project}})
        self.assertIn("requires admin privileges", self.error(resp)[1])

    def test_bad_requests(self):
        resp = self.call('GET', '/v2.0/security-groups?colour=red', status=400)
        self.assertEqual('[colour] is invalid attribute for filtering', self.error(resp)[1])
        resp = self.call('POST', '/v2.0/security-groups', status=400,
                         json={'security_group': {'name': 'x' * 256}})
        self.assertIn('exceeds maximum length of 255', self.error(resp)[1])
        resp = self.call('POST', '/v2.0/security-groups', status=400,
                         json={'security_group': {'name': 'x', 'colour': 'red'}})
        self.assertEqual("Unrecognized attribute(s) 'colour'", self.error(resp)[1])
        self.call('POST', '/v2.0/security-groups', status=400, data='nope')


class TestRules(SecurityGroupTestCase):

    def test_create_list_show_delete(self):
        group = self.group()
        rule = self.rule(group['id'], protocol='TCP', port_range_min=22,
                         port_range_max=22, remote_ip_prefix='10.1.2.3/8')
        self.assertEqual(('ingress', 'IPv4', 'tcp', 22, 22, '10.1.2.3/8', '10.0.0.0/8', None,
                          group['id']),
                         (rule['direction'], rule['ethertype'], rule['protocol'],
                          rule['port_range_min'], rule['port_range_max'],
                          rule['remote_ip_prefix'], rule['normalized_cidr'],
                          rule['remote_group_id'], rule['security_group_id']))
        self.assertFalse(rule['belongs_to_default_sg'])
        shown = self.call('GET', f"/v2.0/security-groups/{group['id']}").json
        self.assertIn(rule, shown['security_group']['security_group_rules'])
        path = f"/v2.0/security-group-rules/{rule['id']}"
        self.assertEqual(rule, self.call('GET', path).json['security_group_rule'])
        listed = self.listed(f"/v2.0/security-group-rules?security_group_id={group['id']}"
                             f"&direction=ingress", 'id')
        self.assertEqual([rule['id']], listed)
        self.assertEqual(3, len(self.listed(
            f"/v2.0/security-group-rules?security_group_id={group['id']}", 'id')))
        # Another project sees none of it.
        other = f'user:{uuid.uuid4().hex}'
        self.call('GET', path, token=other, status=404)
        self.assertNotIn(rule['id'], self.listed('/v2.0/security-group-rules', 'id',
                                                 token=other))
        self.call('DELETE', path, token=other, status=404)
        self.call('DELETE', path, status=204)
        resp = self.call('GET', path, status=404)
        self.assertEqual(('SecurityGroupRuleNotFound',
                          f"Security group rule {rule['id']} does not exist"),
                         self.error(resp))

    def test_remote_group_icmp_and_any(self):
        group, peer = self.group('a'), self.group('b')
        rule = self.rule(group['id'], remote_group_id=peer['id'], ethertype='ipv6',
                         protocol='icmp', port_range_min=8, port_range_max=0)
        self.assertEqual((peer['id'], 'IPv6', 8, 0),
                         (rule['remote_group_id'], rule['ethertype'],
                          rule['port_range_min'], rule['port_range_max']))
        anything = self.rule(group['id'], protocol='any')
        self.assertIsNone(anything['protocol'])
        numbered = self.rule(group['id'], protocol='132', port_range_min=1,
                             port_range_max=9)
        self.assertEqual('132', numbered['protocol'])
        # Deleting the peer takes the rules naming it, as Neutron.
        self.call('DELETE', f"/v2.0/security-groups/{peer['id']}", status=204)
        self.call('GET', f"/v2.0/security-group-rules/{rule['id']}", status=404)

    def test_duplicates(self):
        group = self.group()
        first = self.rule(group['id'], protocol='tcp', port_range_min=80,
                          port_range_max=80)
        error = self.rule(group['id'], status=409, protocol='6', port_range_min=80,
                          port_range_max=80, remote_ip_prefix='0.0.0.0/0')
        self.assertEqual('SecurityGroupRuleExists', error[0])
        narrow = self.rule(group['id'], protocol='tcp', port_range_min=80,
                           port_range_max=80, remote_ip_prefix='10.9.0.0/16')
        error = self.rule(group['id'], status=409, protocol='tcp', port_range_min=80,
                          port_range_max=80, remote_ip_prefix='10.9.8.7/16')
        self.assertEqual(f"Security group rule already exists. Rule id is {narrow['id']}.",
                         error[1])
        error = self.rule(group['id'], status=409, protocol='6', port_range_min=80,
                          port_range_max=80)
        self.assertEqual(('SecurityGroupRuleExists', 'Security group rule already exists. '
                          f"Rule id is {first['id']}."), error)
        # An egress rule the group came with.
        resp = self.call('POST', '/v2.0/security-group-rules', status=409, json={
            'security_group_rule': {'security_group_id': group['id'],
                                    'direction': 'egress'}})
        self.assertEqual('SecurityGroupRuleExists', self.error(resp)[0])

    def test_neutrons_checks(self):
        gid = self.group()['id']
        cases = [
            ({'direction': 'sideways'}, 'HTTPBadRequest',
             "Invalid input for direction. Reason: 'sideways' is not in "
             "['ingress', 'egress']."),
            ({'ethertype': 'IPv5'}, 'HTTPBadRequest',
             "Invalid input for ethertype. Reason: 'IPv5' is not in ['IPv4', 'IPv6']."),
            ({'protocol': 'bogus'}, 'SecurityGroupRuleInvalidProtocol', None),
            ({'protocol': '256'}, 'SecurityGroupRuleInvalidProtocol', None),
            ({'port_range_min': 22}, 'SecurityGroupProtocolRequiredWithPorts',
             'Must also specify protocol if port range is given.'),
            ({'protocol': 'tcp', 'port_range_min': 30, 'port_range_max': 20},
             'SecurityGroupInvalidPortRange',
             'For TCP/UDP protocols, port_range_min must be <= port_range_max'),
            ({'protocol': 'udp', 'port_range_min': 0, 'port_range_max': 20},
             'SecurityGroupInvalidPortValue', 'Invalid value for port 0'),
            ({'protocol': 'tcp', 'port_range_min': 'x', 'port_range_max': 20},
             'SecurityGroupInvalidPortValue', 'Invalid value for port x'),
            ({'protocol': 'tcp', 'port_range_min': 1, 'port_range_max': 70000},
             'SecurityGroupInvalidPortValue', 'Invalid value for port 70000'),
            ({'protocol': 'icmp', 'port_range_min': 300},
             'SecurityGroupInvalidIcmpValue',
             'Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255.'),
            ({'protocol': 'icmp', 'port_range_max': 3}, 'SecurityGroupMissingIcmpType',
             'ICMP code (port-range-max) 3 is provided but ICMP type (port-range-min) '
             'is missing.'),
            ({'protocol': 'gre', 'port_range_min': 1, 'port_range_max': 2},
             'SecurityGroupInvalidProtocolForPortRange', None),
            ({'remote_ip_prefix': 'fd00::/64'}, 'SecurityGroupRuleParameterConflict',
             'Conflicting value ethertype IPv4 for CIDR fd00::/64'),
            ({'remote_ip_prefix': '10.0.0.0/8', 'remote_group_id': gid},
             'SecurityGroupRemoteGroupAndRemoteIpPrefix',
             'Only remote_ip_prefix or remote_group_id may be provided.'),
            ({'remote_ip_prefix': 'not-a-cidr'}, 'InvalidCIDR',
             'Invalid CIDR not-a-cidr given as IP prefix.'),
            ({'remote_group_id': 'nope'}, 'HTTPBadRequest',
             "Invalid input for remote_group_id. Reason: 'nope' is not a valid UUID."),
        ]
        for fields, kind, message in cases:
            got_kind, got_message = self.rule(gid, status=400, **fields)
            self.assertEqual(kind, got_kind, fields)
            if message is not None:
                self.assertEqual(message, got_message, fields)
        missing = str(uuid.uuid4())
        self.assertEqual(('SecurityGroupNotFound', f'Security group {missing} does not '
                          'exist'), self.rule(gid, status=404, remote_group_id=missing))
        self.assertEqual('SecurityGroupNotFound', self.rule(missing, status=404)[0])
        resp = self.call('POST', '/v2.0/security-group-rules', status=400, json={
            'security_group_rule': {'security_group_id': gid}})
        self.assertEqual("Failed to parse request. Required attribute 'direction' not "
                         "specified", self.error(resp)[1])
        # Nothing was added by any of these.
        self.assertEqual(2, len(self.listed(
            f'/v2.0/security-group-rules?security_group_id={gid}', 'id')))
