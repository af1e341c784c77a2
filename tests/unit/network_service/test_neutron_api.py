"""The conductor giving servers their ports through a Neutron v2.0 API
(kumo_common.network.neutron) rather than the database, and the local backend.

The "external Neutron" is Kumo's own network service served over real HTTP on another
port ([neutron] endpoint names it, [network_service] listen_port does not): the
ports are created, bound, read and deleted with Neutron calls and the caller's token.
"""
from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from oslo_config import cfg

from kumo_api.actions import heavy
from kumo_common import context as kumo_context
from kumo_common import exceptions, network, objects
from kumo_common.db import models, network_cache, session
from kumo_common.network import local, neutron
from tests.fixtures import served
from tests.unit.network_service import base

CONF = cfg.CONF


class NeutronAPITestCase(base.NetworkServiceTestCase):

    def setUp(self):
        super().setUp()
        self.api = self.useFixture(served.network_service())

    def ctxt(self) -> kumo_context.RequestContext:
        user, _, project = self.token.partition(':')
        return kumo_context.RequestContext(user_id=user, project_id=project,
                                           auth_token=self.token, roles=['member'],
                                           overwrite=False)

    def ports_of(self, server_id: str) -> list[dict]:
        return self.call('GET', f'/v2.0/ports?device_id={server_id}', token=base.ADMIN
                         ).json['ports']

    def wait_no_ports(self, server_id: str) -> None:
        deadline = time.monotonic() + 10
        while self.ports_of(server_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual([], self.ports_of(server_id))


class TestNeutronBackend(NeutronAPITestCase):

    def test_which_backend(self):
        self.assertIsInstance(network.api(), neutron.NeutronNetworkAPI)
        CONF.set_override('endpoint', 'http://127.0.0.1:9696', 'neutron')
        self.addCleanup(CONF.set_override, 'endpoint', self.api.endpoint, 'neutron')
        self.assertIsInstance(network.api(), local.LocalNetworkAPI)

    def test_allocate_read_deallocate(self):
        net = self.network('blue', cidrs=('10.20.0.0/24', 'fd00:20::/64'))
        server = str(uuid.uuid4())
        api = network.api()
        port = api.allocate_for_instance(self.ctxt(), server, self.project, 'compute1',
                                         objects.NetworkRequest(network_id=net['id']))
        self.assertEqual(('blue', net['id'], {4, 6}),
                         (port.network_name, port.network_id,
                          {ip['version'] for ip in port.fixed_ips}))
        shown = self.call('GET', f'/v2.0/ports/{port.id}').json['port']
        self.assertEqual((server, 'compute:nova', port.mac_address),
                         (shown['device_id'], shown['device_owner'], shown['mac_address']))
        self.assertEqual([port], api.ports_of(self.ctxt(), server))
        api.deallocate_for_instance(self.ctxt(), server)
        self.assertEqual([], api.ports_of(self.ctxt(), server))

    def test_a_fixed_ip_and_its_conflict(self):
        net = self.network('green', cidrs=('10.30.0.0/24',))
        api = network.api()
        port = api.allocate_for_instance(
            self.ctxt(), str(uuid.uuid4()), self.project, None,
            objects.NetworkRequest(network_id=net['id'], fixed_ip='10.30.0.50'))
        self.assertEqual(['10.30.0.50'], [ip['ip_address'] for ip in port.fixed_ips])
        self.assertRaises(exceptions.IpAddressAlreadyAllocated, api.allocate_for_instance,
                          self.ctxt(), str(uuid.uuid4()), self.project, None,
                          objects.NetworkRequest(network_id=net['id'],
                                                 fixed_ip='10.30.0.50'))
        self.assertRaises(exceptions.NetworkNotFound, api.allocate_for_instance,
                          self.ctxt(), str(uuid.uuid4()), self.project, None,
                          objects.NetworkRequest(network_id=str(uuid.uuid4())))

    def test_a_users_port_is_bound_then_only_unbound(self):
        net = self.network('red', cidrs=('10.40.0.0/24',))
        mine = self.post('port', network_id=net['id'], name='mine')
        server = str(uuid.uuid4())
        api = network.api()
        port = api.allocate_for_instance(
            self.ctxt(), server, self.project, 'compute1',
            objects.NetworkRequest(network_id=net['id'], port_id=mine['id']))
        self.assertEqual(mine['mac_address'], port.mac_address)
        self.assertRaises(exceptions.PortInUse, api.allocate_for_instance,
                          self.ctxt(), str(uuid.uuid4()), self.project, None,
                          objects.NetworkRequest(network_id=net['id'], port_id=mine['id']))
        api.deallocate_for_instance(self.ctxt(), server)
        kept = self.call('GET', f'/v2.0/ports/{mine["id"]}').json['port']
        self.assertEqual(('', ''), (kept['device_id'], kept['device_owner']))

    def test_network_api_down_is_503(self):
        from tests.fixtures.stack import free_port
        CONF.set_override('endpoint', f'http://127.0.0.1:{free_port()}', 'neutron')
        self.addCleanup(CONF.set_override, 'endpoint', self.api.endpoint, 'neutron')
        error = self.assertRaises(network.NetworkServiceUnavailable,
                                  network.api().ports_of, self.ctxt(), 'x')
        self.assertEqual(503, error.code)


class TestServersThroughNeutron(NeutronAPITestCase):

    def test_boot_and_delete(self):
        net = self.network('through-neutron', cidrs=('10.50.0.0/24',))
        mine = self.post('port', network_id=net['id'], name='kept')
        server = self.cloud.create_server(
            'nics', token=self.token,
            networks=[{'uuid': net['id']}, {'port': mine['id']}])
        active = self.cloud.wait_for_status(server['id'], 'ACTIVE')
        ports = {p['id']: p for p in self.ports_of(server['id'])}
        self.assertEqual(2, len(ports))
        made = [p for p in ports.values() if p['id'] != mine['id']][0]
        self.assertEqual(neutron.MADE_BY_KUMO.format(uuid=server['id']),
                         made['description'])
        addresses = {a['addr'] for a in active['addresses']['through-neutron']}
        self.assertEqual({ip['ip_address'] for p in ports.values()
                          for ip in p['fixed_ips']}, addresses)
        self.assertEqual(204, self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}',
                                                 token=self.token).status_code)
        self.wait_no_ports(server['id'])
        self.call('GET', f'/v2.0/ports/{made["id"]}', status=404)
        kept = self.call('GET', f'/v2.0/ports/{mine["id"]}').json['port']
        self.assertEqual('', kept['device_id'])


class TestCreateChecksThroughNeutron(NeutronAPITestCase):
    """With an external Neutron the API checks a create's `networks` through it."""

    def create(self, networks, code: int = 202):
        resp = self.cloud.request('POST', '/v2.1/servers', token=self.token,
                                  version='2.37', json={
            'server': {'name': 'checked', 'flavorRef': '1',
                       'imageRef': base.cloud.IMAGE_ID, 'networks': networks}})
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json

    def test_unknown_network_or_port_is_400(self):
        body = self.create([{'uuid': str(uuid.uuid4())}], code=400)
        self.assertIn('could not be found', body['badRequest']['message'])
        body = self.create([{'port': str(uuid.uuid4())}], code=400)
        self.assertIn('could not be found', body['badRequest']['message'])
        # Another project's private network does not exist for this token.
        other = self.network('theirs', cidrs=('10.60.0.0/24',), token=self.new_token())
        self.create([{'uuid': other['id']}], code=400)

    def test_fixed_ips_and_ports_in_use_are_409(self):
        net = self.network('checked', cidrs=('10.70.0.0/24',))
        self.create([{'uuid': net['id'], 'fixed_ip': '10.99.0.5'}], code=400)
        server = self.create([{'uuid': net['id'], 'fixed_ip': '10.70.0.9'}])['server']
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        body = self.create([{'uuid': net['id'], 'fixed_ip': '10.70.0.9'}], code=409)
        self.assertIn(server['id'], body['conflictingRequest']['message'])
        used = self.ports_of(server['id'])[0]
        self.create([{'port': used['id']}], code=409)

    def test_auto_takes_the_projects_network(self):
        net = self.network('mine', cidrs=('10.80.0.0/24',))
        server = self.create('auto')['server']
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.assertEqual([net['id']], [p['network_id'] for p in self.ports_of(server['id'])])


class TestServerAddressesThroughNeutron(NeutronAPITestCase):
    """Server views, the ip/ip6 filters and rebuild/rescue read the server's network
    info cache, written by the conductor from Neutron's answers: nothing of it comes
    from Kumo's own ports tables (hidden here, as a Neutron's own database would be)."""

    def hide_ports_from_kumos_tables(self, server_id: str) -> None:
        with session.transaction() as s:
            s.execute(sa.update(models.Port).where(models.Port.device_id == server_id)
                      .values(device_id='in-another-database'))

    def listed(self, query: str) -> set[str]:
        resp = self.cloud.request('GET', f'/v2.1/servers?{query}', token=self.token,
                                  version='2.5')
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return {s['id'] for s in resp.json['servers']}

    def test_addresses_ip_filters_and_rebuild(self):
        net = self.network('cached', cidrs=('10.91.0.0/24', 'fd00:91::/64'))
        mine = self.post('port', network_id=net['id'], name='older')
        server = self.cloud.create_server(
            'cached', token=self.token, networks=[{'uuid': net['id']}, {'port': mine['id']}])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        other = self.cloud.create_server('other', token=self.token,
                                         networks=[{'uuid': net['id']}])
        self.cloud.wait_for_status(other['id'], 'ACTIVE')
        ports = {p['id']: p for p in self.ports_of(server['id'])}
        made = next(p for p in ports.values() if p['id'] != mine['id'])
        self.hide_ports_from_kumos_tables(server['id'])
        self.assertEqual([], self.ports_of(server['id']))

        def entries(port):
            return [{'version': 6 if ':' in ip['ip_address'] else 4,
                     'addr': ip['ip_address'], 'OS-EXT-IPS:type': 'fixed',
                     'OS-EXT-IPS-MAC:mac_addr': port['mac_address']}
                    for ip in sorted(port['fixed_ips'], key=lambda ip: ip['ip_address'])]
        # In the order the server asked for its NICs (Nova's), each port's addresses
        # in order.
        expected = {'cached': entries(made) + entries(mine)}
        shown = self.cloud.get_server(server['id'])
        self.assertEqual(expected, shown['addresses'])
        self.assertEqual([{'name': 'default'}], shown['security_groups'])
        detail = self.cloud.request('GET', '/v2.1/servers/detail', token=self.token).json
        self.assertEqual(expected, next(s['addresses'] for s in detail['servers']
                                        if s['id'] == server['id']))

        v4 = next(ip['ip_address'] for ip in made['fixed_ips'] if ':' not in ip['ip_address'])
        v6 = next(ip['ip_address'] for ip in made['fixed_ips'] if ':' in ip['ip_address'])
        self.assertEqual({server['id']}, self.listed(f'ip={v4}$'))
        self.assertEqual({server['id']}, self.listed(f'ip6={v6}$'))
        self.assertEqual({server['id'], other['id']}, self.listed('ip=10.91.0.'))
        self.assertEqual(set(), self.listed('ip=10.92.'))

        # Rebuild (and rescue) give the guest the same NICs, from the cache.
        with session.reader() as s:
            rebuilt = heavy._ports(s, server['id'])
        self.assertEqual([made['id'], mine['id']], [p.id for p in rebuilt])
        self.assertEqual(('cached', made['mac_address'], net['id']),
                         (rebuilt[0].network_name, rebuilt[0].mac_address,
                          rebuilt[0].network_id))
        resp = self.cloud.request('POST', f'/v2.1/servers/{server["id"]}/action',
                                  token=self.token,
                                  json={'rebuild': {'imageRef': base.cloud.IMAGE_ID}})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        rebuilt_view = self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.assertEqual(expected, rebuilt_view['addresses'])

    def test_delete_clears_the_cache(self):
        net = self.network('gone', cidrs=('10.93.0.0/24',))
        server = self.cloud.create_server('gone', token=self.token,
                                          networks=[{'uuid': net['id']}])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        with session.reader() as s:
            self.assertEqual(1, len(network_cache.ports(s, server['id'])))
        self.assertEqual(204, self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}',
                                                 token=self.token).status_code)
        self.wait_no_ports(server['id'])
        with session.reader() as s:
            self.assertEqual([], network_cache.ports(s, server['id']))
        self.assertEqual(set(), self.listed('ip=10.93.'))
