"""The network service's resources as Neutron v2.0 answers: discovery and extensions,
networks, subnets (IPv4 and IPv6, gateways, allocation pools), ports (fixed IPs, MAC
addresses, filters), security groups and floating IPs; visibility, policy, faults."""
from __future__ import annotations

import uuid

from tests.unit.network_service import base

ADMIN = base.ADMIN


class TestDiscovery(base.NetworkServiceTestCase):

    def test_versions_and_resources(self):
        versions = self.call('GET', '/', token=False).json
        self.assertEqual({'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': [
            {'href': 'http://localhost/v2.0/', 'rel': 'self'}]}]}, versions)
        self.call('GET', '/v2.0', token=False, status=401)
        resources = self.call('GET', '/v2.0/').json['resources']
        self.assertIn({'name': 'port', 'collection': 'ports', 'links': [
            {'href': 'http://localhost/v2.0/ports', 'rel': 'self'}]}, resources)

    def test_extensions(self):
        extensions = self.call('GET', '/v2.0/extensions').json['extensions']
        aliases = {e['alias'] for e in extensions}
        self.assertTrue({'ip-substring-filtering', 'external-net', 'security-group',
                         'binding', 'pagination', 'sorting'} <= aliases)
        self.assertNotIn('router', aliases)
        one = self.call('GET', '/v2.0/extensions/ip-substring-filtering').json['extension']
        self.assertEqual({'alias', 'name', 'description', 'updated', 'links'}, set(one))
        self.call('GET', '/v2.0/extensions/router', status=404)


class TestNetworks(base.NetworkServiceTestCase):

    def test_create_show_update_delete(self):
        created = self.post('network', name='blue', description='mine')
        self.assertEqual({
            'name': 'blue', 'description': 'mine', 'project_id': self.project,
            'tenant_id': self.project, 'admin_state_up': True, 'status': 'ACTIVE',
            'shared': False, 'router:external': False, 'is_default': False, 'mtu': 1500,
            'subnets': []}, {k: created[k] for k in (
                'name', 'description', 'project_id', 'tenant_id', 'admin_state_up',
                'status', 'shared', 'router:external', 'is_default', 'mtu', 'subnets')})
        path = f'/v2.0/networks/{created["id"]}'
        self.assertEqual(created, self.call('GET', path).json['network'])
        self.assertEqual({'id': created['id'], 'name': 'blue'},
                         self.call('GET', f'{path}?fields=id&fields=name').json['network'])
        renamed = self.call('PUT', path, json={'network': {'name': 'green', 'mtu': 1400}})
        self.assertEqual(('green', 1400), (renamed.json['network']['name'],
                                           renamed.json['network']['mtu']))
        self.call('DELETE', path, status=204)
        missing = self.call('GET', path, status=404)
        self.assertEqual(('NetworkNotFound', f'Network {created["id"]} could not be found.'),
                         self.error(missing))

    def test_admin_only_attributes(self):
        for attribute in ('shared', 'router:external', 'is_default'):
            resp = self.call('POST', '/v2.0/networks', status=403,
                             json={'network': {'name': 'x', attribute: True}})
            self.assertEqual(('PolicyNotAuthorized',
                              f'(rule:create_network:{attribute}) is disallowed by policy'),
                             self.error(resp))
        mine = self.post('network', name='mine')
        self.call('PUT', f'/v2.0/networks/{mine["id"]}', status=403,
                  json={'network': {'shared': True}})
        external = self.post('network', token=ADMIN, name='ext', **{'router:external': True})
        shared = self.post('network', token=ADMIN, name='shared', shared=True,
                           project_id=self.project)
        self.assertEqual(self.project, shared['project_id'])
        other = f'user:{uuid.uuid4().hex}'
        seen = self.listed('/v2.0/networks', 'id', token=other)
        self.assertIn(external['id'], seen)
        self.assertIn(shared['id'], seen)
        self.assertNotIn(mine['id'], seen)
        self.call('GET', f'/v2.0/networks/{mine["id"]}', token=other, status=404)
        self.call('DELETE', f'/v2.0/networks/{mine["id"]}', token=other, status=404)
        # Shared is not owned: another project may use it, not change it.
        self.call('PUT', f'/v2.0/networks/{shared["id"]}', token=other, status=403,
                  json={'network': {'name': 'mine now'}})
        resp = self.call('POST', '/v2.0/networks', status=400,
                         json={'network': {'name': 'x', 'project_id': 'someone-else'}})
        self.assertIn('requires admin privileges', self.error(resp)[1])

    def test_filters_sorting_paging(self):
        names = ['n-c', 'n-a', 'n-b']
        ids = {n: self.post('network', name=n)['id'] for n in names}
        self.post('network', token=ADMIN, name='n-ext', project_id=self.project,
                  **{'router:external': True})
        mine = f'/v2.0/networks?project_id={self.project}'
        self.assertEqual(['n-a', 'n-b', 'n-c', 'n-ext'],
                         sorted(self.listed(mine)))
        self.assertEqual(['n-a'], self.listed(f'{mine}&name=n-a'))
        self.assertEqual(['n-a', 'n-c'],
                         sorted(self.listed(f'{mine}&name=n-a&name=n-c')))
        self.assertEqual(['n-ext'], self.listed(f'{mine}&router:external=true'))
        self.assertEqual(['n-a', 'n-b', 'n-c'],
                         sorted(self.listed(f'{mine}&router:external=False')))
        self.assertEqual([], self.listed(f'{mine}&shared=true'))
        self.assertEqual(['private'], self.listed('/v2.0/networks?is_default=true'))
        self.assertEqual(['n-c'], self.listed(f'{mine}&id={ids["n-c"]}'))
        self.assertEqual(['n-ext', 'n-c', 'n-b', 'n-a'],
                         self.listed(f'{mine}&sort_key=name&sort_dir=desc'))
        page = self.call('GET', f'{mine}&sort_key=name&sort_dir=asc&limit=2').json
        self.assertEqual(['n-a', 'n-b'], [n['name'] for n in page['networks']])
        (link,) = page['networks_links']
        self.assertEqual('next', link['rel'])
        self.assertIn(f'marker={ids["n-b"]}', link['href'])
        rest = self.call('GET', link['href'].replace('http://localhost', '')).json
        self.assertEqual(['n-c', 'n-ext'], [n['name'] for n in rest['networks']])
        self.assertNotIn('networks_links', rest)
        for query, words in [('colour=red', '[colour] is invalid attribute for filtering'),
                             ('shared=maybe', 'Invalid input for shared'),
                             ('sort_key=colour&sort_dir=asc', 'invalid attribute for sort'),
                             ('limit=-2', 'Bad limit request'),
                             (f'marker={uuid.uuid4()}', 'could not be found')]:
            resp = self.call('GET', f'/v2.0/networks?{query}', status=400)
            self.assertIn(words, self.error(resp)[1])

    def test_bad_bodies(self):
        for body, words in [({'network': {'name': 'x', 'colour': 'red'}},
                             "Unrecognized attribute(s) 'colour'"),
                            ({'network': {'admin_state_up': 'sometimes'}},
                             'Invalid input for admin_state_up'),
                            ({'network': {'mtu': 10}}, 'Invalid input for mtu'),
                            ({'net': {}}, 'Resource body required')]:
            resp = self.call('POST', '/v2.0/networks', json=body, status=400)
            self.assertEqual('HTTPBadRequest', self.error(resp)[0])
            self.assertIn(words, self.error(resp)[1])
        # Attributes of extensions Kumo lacks are accepted and not kept.
        self.post('network', name='ok', port_security_enabled=True,
                  availability_zone_hints=[])


class TestSubnets(base.NetworkServiceTestCase):

    def test_ipv4_defaults(self):
        network = self.post('network', name='v4')
        subnet = self.post('subnet', network_id=network['id'], cidr='10.20.0.5/24',
                           ip_version=4, name='s4')
        self.assertEqual({
            'name': 's4', 'network_id': network['id'], 'project_id': self.project,
            'cidr': '10.20.0.0/24', 'ip_version': 4, 'gateway_ip': '10.20.0.1',
            'allocation_pools': [{'start': '10.20.0.2', 'end': '10.20.0.254'}],
            'enable_dhcp': True, 'dns_nameservers': [], 'host_routes': [],
            'ipv6_address_mode': None}, {k: subnet[k] for k in (
                'name', 'network_id', 'project_id', 'cidr', 'ip_version', 'gateway_ip',
                'allocation_pools', 'enable_dhcp', 'dns_nameservers', 'host_routes',
                'ipv6_address_mode')})
        shown = self.call('GET', f'/v2.0/networks/{network["id"]}').json['network']
        self.assertEqual([subnet['id']], shown['subnets'])

    def test_ipv6_pools_and_gateway(self):
        network = self.post('network', name='v6')
        v6 = self.post('subnet', network_id=network['id'], cidr='fd00:1::/64', ip_version=6)
        self.assertEqual(('fd00:1::1', [{'start': 'fd00:1::2',
                                         'end': 'fd00:1::ffff:ffff:ffff:ffff'}]),
                         (v6['gateway_ip'], v6['allocation_pools']))
        chosen = self.post('subnet', network_id=network['id'], cidr='10.30.0.0/24',
                           ip_version=4, gateway_ip='10.30.0.254',
                           allocation_pools=[{'start': '10.30.0.10', 'end': '10.30.0.20'}],
                           dns_nameservers=['10.30.0.2'])
        self.assertEqual(('10.30.0.254', [{'start': '10.30.0.10', 'end': '10.30.0.20'}],
                          ['10.30.0.2']),
                         (chosen['gateway_ip'], chosen['allocation_pools'],
                          chosen['dns_nameservers']))
        no_gateway = self.post('subnet', network_id=network['id'], cidr='10.31.0.0/29',
                               ip_version=4, gateway_ip=None)
        self.assertEqual((None, [{'start': '10.31.0.1', 'end': '10.31.0.6'}]),
                         (no_gateway['gateway_ip'], no_gateway['allocation_pools']))
        self.assertEqual(['fd00:1::/64'], self.listed(
            f'/v2.0/subnets?network_id={network["id"]}&ip_version=6', 'cidr'))

    def test_refusals(self):
        network = self.post('network', name='bad')
        self.post('subnet', network_id=network['id'], cidr='10.40.0.0/24', ip_version=4)
        for fields, status, kind, words in [
                ({'cidr': '10.40.0.128/25', 'ip_version': 4}, 400, 'InvalidSubnet',
                 'overlaps with another subnet'),
                ({'cidr': '10.41.0.0/24', 'ip_version': 6}, 400, 'HTTPBadRequest',
                 'Cidr and ip_version are inconsistent'),
                ({'cidr': 'banana', 'ip_version': 4}, 400, 'HTTPBadRequest',
                 'not a valid IP subnet'),
                ({'cidr': '10.42.0.0/24', 'ip_version': 4,
                  'allocation_pools': [{'start': '10.42.0.1', 'end': '10.42.0.9'}]}, 409,
                 'GatewayConflictWithAllocationPools', 'conflicts with allocation pool'),
                ({'cidr': '10.43.0.0/24', 'ip_version': 4,
                  'allocation_pools': [{'start': '10.43.0.10', 'end': '10.44.0.9'}]}, 400,
                 'InvalidSubnet', 'spans beyond the subnet cidr'),
                ({'ip_version': 4}, 400, 'HTTPBadRequest', 'subnetpool'),
                ({'cidr': '10.45.0.0/24'}, 400, 'HTTPBadRequest', "'ip_version'")]:
            resp = self.call('POST', '/v2.0/subnets', status=status,
                             json={'subnet': {'network_id': network['id'], **fields}})
            self.assertEqual(kind, self.error(resp)[0], fields)
            self.assertIn(words, self.error(resp)[1], fields)
        # Subnets go on one's own networks: the shared seed network is the admin's.
        private = self.call('GET', '/v2.0/networks?name=private').json['networks'][0]
        self.call('POST', '/v2.0/subnets', status=403, json={'subnet': {
            'network_id': private['id'], 'cidr': '10.99.0.0/24', 'ip_version': 4}})

    def test_update_and_delete(self):
        network = self.post('network', name='upd')
        subnet = self.post('subnet', network_id=network['id'], cidr='10.50.0.0/24',
                           ip_version=4)
        path = f'/v2.0/subnets/{subnet["id"]}'
        updated = self.call('PUT', path, json={'subnet': {
            'name': 'renamed', 'allocation_pools': [{'start': '10.50.0.100',
                                                     'end': '10.50.0.110'}]}}).json['subnet']
        self.assertEqual(('renamed', [{'start': '10.50.0.100', 'end': '10.50.0.110'}]),
                         (updated['name'], updated['allocation_pools']))
        port = self.post('port', network_id=network['id'])
        self.assertEqual('10.50.0.100', port['fixed_ips'][0]['ip_address'])
        resp = self.call('DELETE', path, status=409)
        self.assertEqual('SubnetInUse', self.error(resp)[0])
        resp = self.call('DELETE', f'/v2.0/networks/{network["id"]}', status=409)
        self.assertEqual('NetworkInUse', self.error(resp)[0])
        self.call('DELETE', f'/v2.0/ports/{port["id"]}', status=204)
        self.call('DELETE', path, status=204)
        self.call('GET', path, status=404)


class TestPorts(base.NetworkServiceTestCase):

    def test_addresses(self):
        network = self.network('dual', ('10.60.0.0/24', 'fd00:60::/64'))
        v4, v6 = sorted(network['subnets'], key=lambda s: self.call(
            'GET', f'/v2.0/subnets/{s}').json['subnet']['ip_version'])
        auto = self.post('port', network_id=network['id'], name='auto')
        self.assertEqual([{'subnet_id': v4, 'ip_address': '10.60.0.2'},
                          {'subnet_id': v6, 'ip_address': 'fd00:60::2'}],
                         auto['fixed_ips'])
        self.assertRegex(auto['mac_address'], r'^fa:16:3e(:[0-9a-f]{2}){3}$')
        self.assertEqual(('DOWN', '', '', self.project, 'auto'),
                         (auto['status'], auto['device_id'], auto['device_owner'],
                          auto['project_id'], auto['name']))
        chosen = self.post('port', network_id=network['id'],
                           fixed_ips=[{'ip_address': '10.60.0.50'}])
        self.assertEqual([{'subnet_id': v4, 'ip_address': '10.60.0.50'}],
                         chosen['fixed_ips'])
        by_subnet = self.post('port', network_id=network['id'], fixed_ips=[{'subnet_id': v6}])
        self.assertEqual([{'subnet_id': v6, 'ip_address': 'fd00:60::3'}],
                         by_subnet['fixed_ips'])
        for fixed_ips, status, kind in [
                ([{'ip_address': '10.60.0.50'}], 409, 'IpAddressAlreadyAllocated'),
                ([{'ip_address': '10.60.0.1'}], 409, 'IpAddressAlreadyAllocated'),
                ([{'ip_address': '10.61.0.5'}], 400, 'InvalidIpForNetwork'),
                ([{'subnet_id': v6, 'ip_address': '10.60.0.77'}], 400,
                 'InvalidIpForSubnet'),
                ([{'ip_address': 'ten'}], 400, 'HTTPBadRequest')]:
            resp = self.call('POST', '/v2.0/ports', status=status, json={'port': {
                'network_id': network['id'], 'fixed_ips': fixed_ips}})
            self.assertEqual(kind, self.error(resp)[0], fixed_ips)
        self.assertEqual(3, len(self.listed(f'/v2.0/ports?network_id={network["id"]}', 'id')))

    def test_mac_address_is_for_admins(self):
        network = self.network('macs', ('10.70.0.0/24',))
        resp = self.call('POST', '/v2.0/ports', status=403, json={'port': {
            'network_id': network['id'], 'mac_address': 'fa:16:3e:aa:bb:cc'}})
        self.assertIn('create_port:mac_address', self.error(resp)[1])
        port = self.post('port', token=ADMIN, network_id=network['id'],
                         mac_address='FA:16:3E:AA:BB:CC', project_id=self.project)
        self.assertEqual('fa:16:3e:aa:bb:cc', port['mac_address'])
        resp = self.call('POST', '/v2.0/ports', token=ADMIN, status=409, json={'port': {
            'network_id': network['id'], 'mac_address': 'fa:16:3e:aa:bb:cc'}})
        self.assertEqual('MacAddressInUse', self.error(resp)[0])

    def test_filters(self):
        network = self.network('filters', ('10.80.0.0/24',))
        ports = [self.post('port', network_id=network['id'], name=f'p{n}',
                           fixed_ips=[{'ip_address': f'10.80.0.{n}'}]) for n in (5, 15, 51)]
        base_q = f'/v2.0/ports?network_id={network["id"]}'
        self.assertEqual(['p15'], self.listed(f'{base_q}&fixed_ips=ip_address=10.80.0.15'))
        self.assertEqual(['p15', 'p5'], sorted(self.listed(
            f'{base_q}&fixed_ips=ip_address=10.80.0.15&fixed_ips=ip_address=10.80.0.5')))
        self.assertEqual(['p5', 'p51'], sorted(self.listed(
            f'{base_q}&fixed_ips=ip_address_substr=0.0.5')))
        self.assertEqual(['p15', 'p51'], sorted(self.listed(
            f'{base_q}&fixed_ips=ip_address_substr=.15&fixed_ips=ip_address_substr=.51')))
        self.assertEqual(['p15', 'p5', 'p51'], sorted(self.listed(
            f'{base_q}&fixed_ips=subnet_id={network["subnets"][0]}')))
        self.assertEqual([], self.listed(
            f'{base_q}&fixed_ips=subnet_id={network["subnets"][0]}'
            f'&fixed_ips=ip_address=10.80.0.99'))
        self.assertEqual([], self.listed(f'{base_q}&fixed_ips=ip_address_substr=%25'))
        self.assertEqual(['p5'], self.listed(f'/v2.0/ports?id={ports[0]["id"]}'))
        self.assertEqual(['p51'], self.listed(
            f'/v2.0/ports?mac_address={ports[2]["mac_address"]}'))
        resp = self.call('GET', '/v2.0/ports?fixed_ips=mac=1', status=400)
        self.assertIn('Invalid input for fixed_ips', self.error(resp)[1])
        other = f'user:{uuid.uuid4().hex}'
        self.assertEqual([], self.listed(base_q, token=other))
        self.call('GET', f'/v2.0/ports/{ports[0]["id"]}', token=other, status=404)

    def test_update_and_delete(self):
        network = self.network('upd', ('10.90.0.0/24',))
        port = self.post('port', network_id=network['id'])
        path = f'/v2.0/ports/{port["id"]}'
        updated = self.call('PUT', path, json={'port': {
            'name': 'renamed', 'admin_state_up': False, 'device_id': 'gadget',
            'device_owner': 'network:test'}}).json['port']
        self.assertEqual(('renamed', False, 'gadget', 'network:test'),
                         (updated['name'], updated['admin_state_up'], updated['device_id'],
                          updated['device_owner']))
        self.assertEqual(['renamed'], self.listed('/v2.0/ports?device_id=gadget'))
        resp = self.call('PUT', path, status=400, json={'port': {
            'fixed_ips': [{'ip_address': '10.90.0.9'}]}})
        self.assertIn('not supported', self.error(resp)[1])
        self.call('DELETE', path, token=f'user:{uuid.uuid4().hex}', status=404)
        self.call('DELETE', path, status=204)
        resp = self.call('GET', path, status=404)
        self.assertEqual('PortNotFound', self.error(resp)[0])


class TestSecurityGroupsAndFloatingIps(base.NetworkServiceTestCase):

    def test_default_group(self):
        (group,) = self.call('GET', '/v2.0/security-groups').json['security_groups']
        self.assertEqual(('default', self.project, 4),
                         (group['name'], group['project_id'],
                          len(group['security_group_rules'])))
        self.assertEqual(group, self.call('GET', f'/v2.0/security-groups/{group["id"]}'
                                          ).json['security_group'])
        self.assertEqual([group['id']], self.listed(
            '/v2.0/security-groups?name=default', 'id'))
        self.assertEqual([], self.listed('/v2.0/security-groups?name=web', 'id'))
        other = f'user:{uuid.uuid4().hex}'
        self.assertNotEqual([group['id']], self.listed('/v2.0/security-groups', 'id',
                                                       token=other))
        self.call('GET', f'/v2.0/security-groups/{group["id"]}', token=other, status=404)
        network = self.network('sg', ('10.95.0.0/24',))
        port = self.post('port', network_id=network['id'])
        self.assertEqual([group['id']], port['security_groups'])

    def test_no_floating_ips(self):
        self.assertEqual({'floatingips': []}, self.call('GET', '/v2.0/floatingips').json)
