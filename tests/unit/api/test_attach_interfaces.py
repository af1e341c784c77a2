"""os-interface against the real app, Kumo's own network tables and fake-driver
agents: list/show per microversion, attach by network (a port made, deleted on
detach) or by port (bound, only unbound on detach), the guest's NICs on its agent,
the server's addresses and instance actions following, Nova's errors, the rollback
of a failed hot-plug, and policy."""
from __future__ import annotations

import uuid

from kumo_common.db import models, session
from kumo_common.db import networks as network_db
from tests.fixtures import cloud
from tests.unit.api import roles

ADMIN = cloud.ADMIN_TOKEN
ATTACHMENT_KEYS = {'net_id', 'port_id', 'mac_addr', 'port_state', 'fixed_ips'}


class TestAttachInterfaces(roles.OwnServerTestCase):
    # --- helpers --------------------------------------------------------------------
    def req(self, method: str, path: str = '', json=None, version: str | None = None,
            token: str | None = None):
        return self.cloud.request(method, f'/v2.1/servers/{self.server_id}/os-interface'
                                  f'{path}', token=token or self.token, json=json,
                                  version=version)

    def network(self, cidr: str = '10.77.0.0/24') -> str:
        with session.transaction() as s:
            return network_db.create_network(s, f'net-{uuid.uuid4().hex[:6]}', cidr,
                                             project_id=self.project, shared=False).id

    def user_port(self, network_id: str, project: str | None = None) -> str:
        """A port made through the network API (kept when a server lets it go)."""
        port = network_db.allocate_port(session.transaction, network_id, None,
                                        project or self.project, preserve_on_delete=True)
        return port.id

    def port_row(self, port_id: str) -> models.Port | None:
        with session.reader() as s:
            return s.get(models.Port, port_id)

    def guest_macs(self) -> list[str]:
        driver = self.cloud.agents[0].driver
        return [p.mac_address for p in driver.ports.get(self.server_id, [])]

    def addresses(self) -> dict:
        return self.cloud.get_server(self.server_id)['addresses']

    def ok(self, resp, code: int = 200):
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json

    def error(self, resp, code: int, message: str) -> None:
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        fault = next(iter(resp.json.values()))
        self.assertEqual({'code': code, 'message': message}, fault)

    # --- list and show --------------------------------------------------------------
    def test_list_and_show_per_microversion(self):
        body = self.ok(self.req('GET', version='2.69'))
        [item] = body['interfaceAttachments']
        self.assertEqual(ATTACHMENT_KEYS, set(item))
        self.assertEqual('ACTIVE', item['port_state'])
        [fixed] = item['fixed_ips']
        self.assertEqual({'subnet_id', 'ip_address'}, set(fixed))
        self.assertEqual(self.guest_macs(), [item['mac_addr']])
        [item70] = self.ok(self.req('GET', version='2.70'))['interfaceAttachments']
        self.assertEqual({**item, 'tag': None}, item70)
        shown = self.ok(self.req('GET', f"/{item['port_id']}"))['interfaceAttachment']
        self.assertEqual(item, shown)

    def test_tags_given_at_create_are_shown_from_2_70(self):
        net = self.network()
        server = self.cloud.create_server(token=self.token, version='2.70', networks=[
            {'uuid': net, 'tag': 'boot-nic'}])
        self.cloud.wait_settled(server['id'], 'ACTIVE')
        resp = self.cloud.request('GET', f"/v2.1/servers/{server['id']}/os-interface",
                                  token=self.token, version='2.70')
        [item] = self.ok(resp)['interfaceAttachments']
        self.assertEqual((net, 'boot-nic'), (item['net_id'], item['tag']))

    def test_show_errors(self):
        missing = str(uuid.uuid4())
        self.error(self.req('GET', f'/{missing}'), 404,
                   f'Port id {missing} could not be found.')
        other = self.user_port(self.network())
        self.error(self.req('GET', f'/{other}'), 404,
                   f'Instance {self.server_id} does not have a port with id {other}')
        gone = str(uuid.uuid4())
        resp = self.cloud.request('GET', f'/v2.1/servers/{gone}/os-interface',
                                  token=self.token)
        self.error(resp, 404, f'Instance {gone} could not be found.')

    # --- attach and detach ----------------------------------------------------------
    def test_attach_network_then_detach_deletes_the_port(self):
        net = self.network()
        body = self.ok(self.req('POST', json={'interfaceAttachment': {
            'net_id': net, 'fixed_ips': [{'ip_address': '10.77.0.50'}], 'tag': 'nic1'}},
            version='2.70'))['interfaceAttachment']
        self.assertEqual((net, [{'subnet_id': body['fixed_ips'][0]['subnet_id'],
                                 'ip_address': '10.77.0.50'}], 'nic1', 'ACTIVE'),
                         (body['net_id'], body['fixed_ips'], body['tag'],
                          body['port_state']))
        port_id = body['port_id']
        self.assertIn(body['mac_addr'], self.guest_macs())
        self.assertEqual(2, len(self.guest_macs()))
        self.assertIn('10.77.0.50', [a['addr'] for addrs in self.addresses().values()
                                     for a in addrs])
        listed = self.ok(self.req('GET', version='2.70'))['interfaceAttachments']
        self.assertEqual([None, 'nic1'], [i['tag'] for i in listed])
        self.assertEqual(self.server_id, self.port_row(port_id).device_id)

        resp = self.req('DELETE', f'/{port_id}')
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        self.assertEqual(b'', resp.data)
        self.assertIsNone(self.port_row(port_id))   # made for the server: deleted
        self.assertNotIn(body['mac_addr'], self.guest_macs())
        self.assertEqual(1, len(self.guest_macs()))
        self.assertNotIn('10.77.0.50', [a['addr'] for addrs in self.addresses().values()
                                        for a in addrs])
        actions = self.ok(self.cloud.request(
            'GET', f'/v2.1/servers/{self.server_id}/os-instance-actions', token=ADMIN))
        names = [a['action'] for a in actions['instanceActions']]
        self.assertEqual(['detach_interface', 'attach_interface', 'create'], names)
        request_id = actions['instanceActions'][1]['request_id']
        action = self.ok(self.cloud.request(
            'GET', f'/v2.1/servers/{self.server_id}/os-instance-actions/{request_id}',
            token=ADMIN, version='2.51'))['instanceAction']
        self.assertEqual([('compute_attach_interface', 'Success')],
                         [(e['event'], e['result']) for e in action['events']])

    def test_attach_users_port_then_detach_only_unbinds_it(self):
        port_id = self.user_port(self.network())
        body = self.ok(self.req('POST', json={'interfaceAttachment': {
            'port_id': port_id}}))['interfaceAttachment']
        self.assertEqual(port_id, body['port_id'])
        self.assertNotIn('tag', body)
        self.assertIn(body['mac_addr'], self.guest_macs())
        # In use now: another attach of it is Nova's 409.
        self.error(self.req('POST', json={'interfaceAttachment': {'port_id': port_id}}),
                   409, f'Port {port_id} is still in use.')
        self.assertEqual(202, self.req('DELETE', f'/{port_id}').status_code)
        row = self.port_row(port_id)
        self.assertEqual(('', 'DOWN'), (row.device_id, row.status))
        self.assertNotIn(body['mac_addr'], self.guest_macs())

    def test_attach_without_network_takes_the_only_one(self):
        # The seeded shared network is the project's only one; a second makes it
        # ambiguous.
        body = self.ok(self.req('POST', json={'interfaceAttachment': {}}))
        self.assertEqual(2, len(self.guest_macs()))
        self.assertEqual(body['interfaceAttachment']['port_id'],
                         self.ok(self.req('GET'))['interfaceAttachments'][1]['port_id'])
        self.network()
        self.error(self.req('POST', json={'interfaceAttachment': {}}), 400,
                   'Multiple possible networks found, use a Network ID to be more '
                   'specific.')

    def test_failed_hot_plug_rolls_back(self):
        net = self.network()
        driver = self.cloud.agents[0].driver
        driver.fail_next_attach = 'no free PCI slot'
        resp = self.req('POST', json={'interfaceAttachment': {'net_id': net}})
        self.error(resp, 500, f'Failed to attach network adapter device to '
                              f'{self.server_id}')
        with session.reader() as s:
            self.assertEqual([], list(s.scalars(
                models.Port.__table__.select().where(models.Port.network_id == net))))
        self.assertEqual(1, len(self.guest_macs()))
        port_id = self.user_port(net)
        driver.fail_next_attach = 'no free PCI slot'
        self.assertEqual(500, self.req('POST', json={'interfaceAttachment': {
            'port_id': port_id}}).status_code)
        row = self.port_row(port_id)
        self.assertEqual('', row.device_id)   # the user's port: unbound, not deleted
        self.assertEqual(1, len(self.ok(self.req('GET'))['interfaceAttachments']))

    # --- Nova's errors ------------------------------------------------------------------
    def test_body_errors(self):
        net, port = self.network(), str(uuid.uuid4())
        self.error(self.req('POST', json={'interfaceAttachment': {
            'net_id': net, 'port_id': port}}), 400,
            'Must not input both network_id and port_id')
        self.error(self.req('POST', json={'interfaceAttachment': {
            'fixed_ips': [{'ip_address': '10.77.0.9'}]}}), 400,
            'Must input network_id when request IP address')
        # Schema: the tag from 2.49, one fixed IP, uuids.
        self.assertEqual(400, self.req('POST', json={'interfaceAttachment': {
            'net_id': net, 'tag': 'x'}}, version='2.48').status_code)
        for bad in ({'net_id': 'nope'}, {'port_id': 1},
                    {'net_id': net, 'fixed_ips': []},
                    {'net_id': net, 'fixed_ips': [{'ip_address': 'x'}]},
                    {'net_id': net, 'other': 1}):
            resp = self.req('POST', json={'interfaceAttachment': bad}, version='2.49')
            self.assertEqual(400, resp.status_code, (bad, resp.get_data(True)))
        self.assertEqual(400, self.req('POST', json={'other': {}}).status_code)

    def test_network_errors(self):
        missing = str(uuid.uuid4())
        self.error(self.req('POST', json={'interfaceAttachment': {'net_id': missing}}),
                   404, f'Network {missing} could not be found.')
        self.error(self.req('POST', json={'interfaceAttachment': {'port_id': missing}}),
                   404, f'Port id {missing} could not be found.')
        net = self.network()
        self.error(self.req('POST', json={'interfaceAttachment': {
            'net_id': net, 'fixed_ips': [{'ip_address': '10.1.2.3'}]}}), 400,
            f'Fixed IP 10.1.2.3 is not a valid ip address for network {net}.')
        self.ok(self.req('POST', json={'interfaceAttachment': {
            'net_id': net, 'fixed_ips': [{'ip_address': '10.77.0.60'}]}}))
        self.error(self.req('POST', json={'interfaceAttachment': {
            'net_id': net, 'fixed_ips': [{'ip_address': '10.77.0.60'}]}}), 409,
            'Fixed IP 10.77.0.60 is already in use.')
        # Another project's port (an admin may see it; it is still not usable).
        theirs = self.user_port(net, project='someone-else')
        self.error(self.req('POST', json={'interfaceAttachment': {'port_id': theirs}},
                            token=f'admin:{self.project}'), 400,
                   f'Port {theirs} not usable for instance {self.server_id}.')
        self.error(self.req('DELETE', f'/{theirs}'), 404, f'Port {theirs} is not attached')

    def test_lock_and_state_are_409(self):
        net = self.network()
        self.ok(self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                   token=self.token, json={'lock': None}), 202)
        self.error(self.req('POST', json={'interfaceAttachment': {'net_id': net}}), 409,
                   f'Instance {self.server_id} is locked')
        self.ok(self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                   token=self.token, json={'unlock': None}), 202)
        self.ok(self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                   token=self.token, json={'suspend': None}), 202)
        self.cloud.wait_settled(self.server_id, 'SUSPENDED')
        self.error(self.req('POST', json={'interfaceAttachment': {'net_id': net}}), 409,
                   f"Cannot 'attach_interface' instance {self.server_id} while it is in "
                   'vm_state suspended')
        port = self.ok(self.req('GET'))['interfaceAttachments'][0]['port_id']
        self.error(self.req('DELETE', f'/{port}'), 409,
                   f"Cannot 'detach_interface' instance {self.server_id} while it is in "
                   'vm_state suspended')

    def test_stopped_server_gets_the_nic_too(self):
        self.ok(self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                   token=self.token, json={'os-stop': None}), 202)
        self.cloud.wait_settled(self.server_id, 'SHUTOFF')
        body = self.ok(self.req('POST', json={'interfaceAttachment': {
            'net_id': self.network()}}))['interfaceAttachment']
        self.assertIn(body['mac_addr'], self.guest_macs())

    # --- policy ---------------------------------------------------------------------
    def test_policy(self):
        reader = f"{self.token.split(':')[0]}:{self.project}"
        headers = {'X-Test-Roles': 'reader'}
        resp = self.cloud.request('GET', f'/v2.1/servers/{self.server_id}/os-interface',
                                  token=reader, headers=headers)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        resp = self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/os-interface',
                                  token=reader, headers=headers,
                                  json={'interfaceAttachment': {}})
        self.error(resp, 403, 'Policy doesn\'t allow os_compute_api:os-attach-interfaces:'
                              'create to be performed.')
        other = self.new_token()
        resp = self.cloud.request('GET', f'/v2.1/servers/{self.server_id}/os-interface',
                                  token=other)
        self.assertEqual(404, resp.status_code)
