"""Servers on the network service's networks: a network uuid, a port made beforehand,
a fixed IP; the ports the conductor allocates show under device_id; deleting a server
deletes the ports made for it and only unbinds the user's own."""
from __future__ import annotations

import uuid

from tests.unit.network_service import base

ADMIN = base.ADMIN


class TestServerPorts(base.NetworkServiceTestCase):

    def boot(self, networks, status: int = 202, name: str = 'vm'):
        resp = self.cloud.request('POST', '/v2.1/servers', token=self.token, version='2.37',
                                  json={'server': {'name': name, 'flavorRef': '1',
                                                   'imageRef': base.cloud.IMAGE_ID,
                                                   'networks': networks}})
        self.assertEqual(status, resp.status_code, resp.get_data(True))
        return resp.json

    def active(self, networks) -> dict:
        server_id = self.boot(networks)['server']['id']
        return self.cloud.wait_for_status(server_id, 'ACTIVE', token=self.token)

    def delete(self, server_id: str) -> None:
        resp = self.cloud.request('DELETE', f'/v2.1/servers/{server_id}', token=self.token)
        self.assertEqual(204, resp.status_code, resp.get_data(True))
        self.cloud.wait_for_status(server_id, 'DELETED', token=self.token)

    def ports_of(self, server_id: str) -> list[dict]:
        return self.call('GET', f'/v2.0/ports?device_id={server_id}').json['ports']

    def test_network_uuid(self):
        network = self.network('dual', ('10.11.0.0/24', 'fd00:11::/64'))
        server = self.active([{'uuid': network['id']}])
        (port,) = self.ports_of(server['id'])
        self.assertEqual((network['id'], 'compute:nova', 'ACTIVE', 'compute1',
                          self.project),
                         (port['network_id'], port['device_owner'], port['status'],
                          port['binding:host_id'], port['project_id']))
        self.assertEqual(['10.11.0.2', 'fd00:11::2'],
                         [ip['ip_address'] for ip in port['fixed_ips']])
        self.assertEqual({'dual': [
            {'version': 4, 'addr': '10.11.0.2', 'OS-EXT-IPS:type': 'fixed',
             'OS-EXT-IPS-MAC:mac_addr': port['mac_address']},
            {'version': 6, 'addr': 'fd00:11::2', 'OS-EXT-IPS:type': 'fixed',
             'OS-EXT-IPS-MAC:mac_addr': port['mac_address']}]}, server['addresses'])
        # The compute API's ip filters find it by the address the network service gave.
        listed = self.cloud.request('GET', '/v2.1/servers?ip=10.11.0.2', token=self.token)
        self.assertEqual([server['id']], [s['id'] for s in listed.json['servers']])
        self.delete(server['id'])
        self.assertEqual([], self.ports_of(server['id']))
        self.call('GET', f'/v2.0/ports/{port["id"]}', status=404)

    def test_fixed_ip(self):
        network = self.network('fixed', ('10.12.0.0/24',))
        server = self.active([{'uuid': network['id'], 'fixed_ip': '10.12.0.42'}])
        self.assertEqual(['10.12.0.42'],
                         [a['addr'] for a in server['addresses']['fixed']])
        taken = self.boot([{'uuid': network['id'], 'fixed_ip': '10.12.0.42'}], status=409)
        self.assertIn('10.12.0.42 is already in use on instance '
                      f'{server["id"]}', taken['conflictingRequest']['message'])
        outside = self.boot([{'uuid': network['id'], 'fixed_ip': '10.13.0.1'}], status=400)
        self.assertIn('not a valid ip address for network',
                      outside['badRequest']['message'])
        gateway = self.boot([{'uuid': network['id'], 'fixed_ip': '10.12.0.1'}], status=409)
        self.assertIn('already in use', gateway['conflictingRequest']['message'])

    def test_pre_created_port(self):
        network = self.network('byport', ('10.14.0.0/24',))
        port = self.post('port', network_id=network['id'], name='mine',
                         fixed_ips=[{'ip_address': '10.14.0.7'}])
        server = self.active([{'port': port['id']}])
        (bound,) = self.ports_of(server['id'])
        self.assertEqual((port['id'], 'ACTIVE', 'compute:nova', 'compute1'),
                         (bound['id'], bound['status'], bound['device_owner'],
                          bound['binding:host_id']))
        self.assertEqual({'byport': [{'version': 4, 'addr': '10.14.0.7',
                                      'OS-EXT-IPS:type': 'fixed',
                                      'OS-EXT-IPS-MAC:mac_addr': port['mac_address']}]},
                         server['addresses'])
        in_use = self.boot([{'port': port['id']}], status=409, name='second')
        self.assertIn(f'Port {port["id"]} is still in use.',
                      in_use['conflictingRequest']['message'])

        # Deleting the server unbinds the user's port and keeps it, ready for reuse.
        self.delete(server['id'])
        kept = self.call('GET', f'/v2.0/ports/{port["id"]}').json['port']
        self.assertEqual(('', '', 'DOWN', '', 'mine', [{'subnet_id': network['subnets'][0],
                                                         'ip_address': '10.14.0.7'}]),
                         (kept['device_id'], kept['device_owner'], kept['status'],
                          kept['binding:host_id'], kept['name'], kept['fixed_ips']))
        again = self.active([{'port': port['id']}])
        self.assertEqual([port['id']], [p['id'] for p in self.ports_of(again['id'])])

    def test_port_mixed_with_networks(self):
        network = self.network('mixed', ('10.15.0.0/24',))
        port = self.post('port', network_id=network['id'])
        private = self.call('GET', '/v2.0/networks?name=private').json['networks'][0]
        server = self.active([{'uuid': private['id']}, {'port': port['id']}])
        ports = self.ports_of(server['id'])
        self.assertEqual({private['id'], network['id']}, {p['network_id'] for p in ports})
        self.assertEqual({'private', 'mixed'}, set(server['addresses']))
        self.delete(server['id'])
        self.assertEqual([port['id']], self.listed(
            f'/v2.0/ports?network_id={network["id"]}', 'id'))
        self.assertEqual([], self.ports_of(server['id']))

    def test_a_port_deleted_from_under_a_server(self):
        # Its addresses leave the server's views and the ip filter (the server's
        # network info cache follows the network service, as Nova's follows
        # Neutron's network-vif-deleted event).
        network = self.network('two', ('10.16.0.0/24',))
        mine = self.post('port', network_id=network['id'],
                         fixed_ips=[{'ip_address': '10.16.0.40'}])
        server = self.active([{'uuid': network['id']}, {'port': mine['id']}])
        self.assertEqual(2, len(server['addresses']['two']))
        self.call('DELETE', f'/v2.0/ports/{mine["id"]}', status=204)
        shown = self.cloud.get_server(server['id'], token=self.token)
        self.assertEqual(['10.16.0.2'], [a['addr'] for a in shown['addresses']['two']])
        listed = self.cloud.request('GET', '/v2.1/servers?ip=10.16.0.40', token=self.token)
        self.assertEqual([], listed.json['servers'])

    def test_ports_that_cannot_be_given(self):
        network = self.network('theirs', ('10.16.0.0/24',))
        port = self.post('port', network_id=network['id'])
        self.token = f'user:{uuid.uuid4().hex}'  # another project
        missing = self.boot([{'port': port['id']}], status=400)
        self.assertIn(f'Port {port["id"]} could not be found.',
                      missing['badRequest']['message'])
        unknown = str(uuid.uuid4())
        self.boot([{'port': unknown}], status=400)
        hidden = self.boot([{'uuid': network['id']}], status=400)
        self.assertIn('could not be found', hidden['badRequest']['message'])
