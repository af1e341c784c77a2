"""A server's ports follow it when it moves host (cold migration and its revert,
evacuation and its failure back to the source, shelve offload and unshelve): their
binding:host_id, through an external Neutron (Kumo's own network service over HTTP,
told by PUT /v2.0/ports/{id}) as through the local network service's tables."""
from __future__ import annotations

import time

import fixtures
import sqlalchemy as sa
from oslo_config import cfg

from kumo_common.db import models, session
from kumo_conductor import ports as server_ports
from tests.fixtures.stack import free_port
from tests.unit.network_service import base
from tests.unit.network_service.test_neutron_api import NeutronAPITestCase

CONF = cfg.CONF
ADMIN = base.ADMIN
HOSTS = ('compute1', 'compute2')


class PortBindingCase:
    """The moves, whichever backend the test case class sets up."""
    COMPUTES = 2

    def setUp(self):
        super().setUp()
        CONF.set_override('shelved_offload_time', -1)
        self.addCleanup(CONF.clear_override, 'shelved_offload_time')
        net = self.network('moving', cidrs=('10.120.0.0/24',))
        mine = self.post('port', network_id=net['id'], name='mine')
        server = self.cloud.create_server(
            'mover', token=self.token, networks=[{'uuid': net['id']}, {'port': mine['id']}])
        self.server_id = server['id']
        self.addCleanup(self.cloud.request, 'DELETE', f'/v2.1/servers/{self.server_id}',
                        token=ADMIN)
        self.source = self.cloud.wait_for_status(self.server_id, 'ACTIVE'
                                                 )['OS-EXT-SRV-ATTR:host']
        self.other = next(h for h in HOSTS if h != self.source)
        self.assertEqual([self.source] * 2, self.bindings())

    # --- helpers -------------------------------------------------------------------------
    def ports_of(self, server_id: str) -> list[dict]:
        return self.call('GET', f'/v2.0/ports?device_id={server_id}', token=ADMIN
                         ).json['ports']

    def bindings(self) -> list[str]:
        """binding:host_id of each of the server's ports, as the network service shows
        them."""
        return [p['binding:host_id'] for p in self.ports_of(self.server_id)]

    def assert_bound_to(self, host: str) -> None:
        # An external Neutron is told once the conductor's transaction has committed:
        # just after the server shows its new state.
        deadline = time.monotonic() + 10
        while self.bindings() != [host] * 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual([host] * 2, self.bindings())

    def act(self, body, code: int = 202, token: str | None = None,
            version: str | None = None) -> None:
        resp = self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                  token=token or self.token, json=body, version=version)
        self.assertEqual(code, resp.status_code, resp.get_data(True))

    def wait_idle(self, status: str) -> dict:
        return self.cloud.wait_settled(self.server_id, status)

    def force_down(self, host: str, down: bool = True) -> None:
        with session.transaction() as s:
            s.execute(sa.update(models.Service).where(models.Service.host == host)
                      .values(forced_down=down, updated_at=models.utcnow()))
        if down:
            self.addCleanup(self.force_down, host, False)

    # --- the moves -----------------------------------------------------------------------
    def test_cold_migration_then_revert(self):
        self.act({'migrate': None}, token=ADMIN)
        server = self.wait_idle('VERIFY_RESIZE')
        self.assertEqual(self.other, server['OS-EXT-SRV-ATTR:host'])
        self.assert_bound_to(self.other)
        self.act({'revertResize': None})
        server = self.wait_idle('ACTIVE')
        self.assertEqual(self.source, server['OS-EXT-SRV-ATTR:host'])
        self.assert_bound_to(self.source)

    def test_cold_migration_confirmed_stays_bound_to_the_new_host(self):
        self.act({'migrate': None}, token=ADMIN)
        self.wait_idle('VERIFY_RESIZE')
        self.act({'confirmResize': None}, 204)
        self.assertEqual(self.other, self.wait_idle('ACTIVE')['OS-EXT-SRV-ATTR:host'])
        self.assert_bound_to(self.other)

    def test_shelve_offload_unbinds_and_unshelve_binds(self):
        self.act({'shelve': None})
        self.wait_idle('SHELVED')
        # Still on its host: still bound there.
        self.assertEqual([self.source] * 2, self.bindings())
        self.act({'shelveOffload': None}, token=ADMIN)
        self.wait_idle('SHELVED_OFFLOADED')
        self.assert_bound_to('')
        # (A member's unshelve: the conductor binds the ports as its service user.)
        self.act({'unshelve': None})
        self.assert_bound_to(self.wait_idle('ACTIVE')['OS-EXT-SRV-ATTR:host'])

    def test_evacuation(self):
        self.force_down(self.source)
        self.act({'evacuate': {}}, 200, token=ADMIN, version='2.94')
        self.assertEqual(self.other, self.wait_idle('ACTIVE')['OS-EXT-SRV-ATTR:host'])
        self.assert_bound_to(self.other)

    def test_failed_evacuation_binds_back_to_the_source(self):
        self.force_down(self.source)
        driver = next(a for a in self.cloud.agents if a.host == self.other).driver
        original = driver.spawn
        placed = []

        def broken(build):
            # The ports were bound to this host before it was asked to rebuild.
            placed.append(self.bindings())
            raise RuntimeError('disk on fire')
        driver.spawn = broken
        self.addCleanup(setattr, driver, 'spawn', original)
        self.act({'evacuate': {'host': self.other}}, 200, token=ADMIN, version='2.29')
        self.assertEqual(self.source, self.wait_idle('ERROR')['OS-EXT-SRV-ATTR:host'])
        self.assertEqual([[self.other] * 2], placed)
        self.assert_bound_to(self.source)


class TestPortBindingThroughNeutron(PortBindingCase, NeutronAPITestCase):

    def test_neutron_down_is_logged_not_raised(self):
        # The server has moved either way: the conductor says what did not follow.
        CONF.set_override('endpoint', f'http://127.0.0.1:{free_port()}', 'neutron')
        self.addCleanup(CONF.set_override, 'endpoint', self.api.endpoint, 'neutron')
        log = self.useFixture(fixtures.FakeLogger(name='kumo_conductor.ports'))
        with session.transaction() as s:
            server_ports.bind(s, self.server_id, self.other, self.ctxt())
        self.assertIn(f'Could not bind the ports of instance {self.server_id} to '
                      f'{self.other}', log.output)
        self.assertEqual([self.source] * 2, self.bindings())

    def test_the_network_service_takes_binding_host_id(self):
        port_id = self.ports_of(self.server_id)[0]['id']
        for sent, shown in (('elsewhere', 'elsewhere'), (None, ''), ('again', 'again'),
                            ('', '')):
            port = self.call('PUT', f'/v2.0/ports/{port_id}', token=ADMIN,
                             json={'port': {'binding:host_id': sent}}).json['port']
            self.assertEqual((shown, 'ovs' if shown else 'unbound'),
                             (port['binding:host_id'], port['binding:vif_type']))
        self.call('PUT', f'/v2.0/ports/{port_id}', token=ADMIN, status=400,
                  json={'port': {'binding:host_id': 7}})


class TestBindingIsTheServicesPart(NeutronAPITestCase):
    """Neutron lets only admins and services set binding:host_id (Kumo's network
    service too): a member's server is built and bound all the same, the conductor
    binding its ports as the [neutron] service user, as Nova's admin client does."""

    def test_a_member_may_not_bind_a_port(self):
        net = self.network('mine-only', cidrs=('10.121.0.0/24',))
        resp = self.call('POST', '/v2.0/ports', status=403, json={'port': {
            'network_id': net['id'], 'binding:host_id': 'compute1'}})
        self.assertEqual(('PolicyNotAuthorized',
                          '(rule:create_port:binding:host_id) is disallowed by policy'),
                         self.error(resp))
        port = self.post('port', network_id=net['id'])
        resp = self.call('PUT', f"/v2.0/ports/{port['id']}", status=403,
                         json={'port': {'binding:host_id': 'compute1'}})
        self.assertEqual(('PolicyNotAuthorized',
                          '(rule:update_port:binding:host_id) is disallowed by policy'),
                         self.error(resp))
        bound = self.call('PUT', f"/v2.0/ports/{port['id']}", token=ADMIN,
                          json={'port': {'binding:host_id': 'compute1'}}).json['port']
        self.assertEqual('compute1', bound['binding:host_id'])

    def test_a_members_server_is_bound_by_the_service_user(self):
        net = self.network('built', cidrs=('10.122.0.0/24',))
        mine = self.post('port', network_id=net['id'], name='given')
        server = self.cloud.create_server('bound', token=self.token,
                                          networks=[{'uuid': net['id']},
                                                    {'port': mine['id']}])
        host = self.cloud.wait_for_status(server['id'], 'ACTIVE')['OS-EXT-SRV-ATTR:host']
        self.assertEqual([host, host], [p['binding:host_id']
                                        for p in self.ports_of(server['id'])])


class TestPortBindingLocal(PortBindingCase, base.NetworkServiceTestCase):
    """The same moves with the local network service (no [neutron] endpoint): the
    conductor writes the ports' rows in its own transactions."""
