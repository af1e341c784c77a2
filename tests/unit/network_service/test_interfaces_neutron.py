"""os-interface with an external Neutron (Kumo's own network service over real HTTP
on another port, as tests.unit.network_service.test_neutron_api): the attached
port is made (or the user's bound) with Neutron calls, listed from Neutron with its
subnet ids, and on detach deleted (made by Kumo) or only unbound (the user's)."""
from __future__ import annotations

from kumo_common.network import neutron
from tests.unit.network_service.test_neutron_api import NeutronAPITestCase


class TestInterfacesThroughNeutron(NeutronAPITestCase):

    def iface(self, method: str, server_id: str, path: str = '', json=None):
        return self.cloud.request(method, f'/v2.1/servers/{server_id}/os-interface{path}',
                                  token=self.token, json=json, version='2.70')

    def test_attach_list_detach(self):
        net = self.network('iface-neutron', cidrs=('10.60.0.0/24',))
        server = self.cloud.create_server('nics', token=self.token,
                                          networks=[{'uuid': net['id']}])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        sid = server['id']

        resp = self.iface('POST', sid, json={'interfaceAttachment': {
            'net_id': net['id'], 'fixed_ips': [{'ip_address': '10.60.0.77'}],
            'tag': 'second'}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        made = resp.json['interfaceAttachment']
        in_neutron = self.call('GET', f"/v2.0/ports/{made['port_id']}").json['port']
        self.assertEqual((sid, neutron.MADE_BY_KUMO.format(uuid=sid)),
                         (in_neutron['device_id'], in_neutron['description']))
        self.assertEqual(in_neutron['fixed_ips'], made['fixed_ips'])
        self.assertEqual('second', made['tag'])

        mine = self.post('port', network_id=net['id'], name='mine')
        resp = self.iface('POST', sid, json={'interfaceAttachment': {'port_id': mine['id']}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        listed = self.iface('GET', sid).json['interfaceAttachments']
        self.assertEqual(3, len(listed))
        self.assertEqual({p['id'] for p in self.ports_of(sid)},
                         {i['port_id'] for i in listed})
        addresses = self.cloud.get_server(sid)['addresses']['iface-neutron']
        self.assertIn('10.60.0.77', [a['addr'] for a in addresses])

        # The fixed IP now in use: Nova's 409.
        resp = self.iface('POST', sid, json={'interfaceAttachment': {
            'net_id': net['id'], 'fixed_ips': [{'ip_address': '10.60.0.77'}]}})
        self.assertEqual(409, resp.status_code, resp.get_data(True))
        self.assertEqual('Fixed IP 10.60.0.77 is already in use.',
                         resp.json['conflictingRequest']['message'])

        self.assertEqual(202, self.iface('DELETE', sid, f"/{made['port_id']}").status_code)
        self.call('GET', f"/v2.0/ports/{made['port_id']}", status=404)
        self.assertEqual(202, self.iface('DELETE', sid, f"/{mine['id']}").status_code)
        kept = self.call('GET', f"/v2.0/ports/{mine['id']}").json['port']
        self.assertEqual('', kept['device_id'])
        self.assertEqual(1, len(self.iface('GET', sid).json['interfaceAttachments']))
        addresses = self.cloud.get_server(sid)['addresses']['iface-neutron']
        self.assertNotIn('10.60.0.77', [a['addr'] for a in addresses])
