"""POST /os-server-external-events against the real app: Nova's validation per
microversion, its per-event answers (200/400/404/422) and overall 200/207, its policy
(admin or the service role), and what Kumo does with the events: network info read
again (local service and an external Neutron), power-update's state changes and the
instance actions Nova records."""
from __future__ import annotations

import uuid

from oslo_config import cfg

from kumo_common import objects, states
from kumo_common.db import instances as instance_db
from kumo_common.db import network_cache, session
from tests.fixtures import cloud, served
from tests.fixtures.stack import free_port
from tests.unit.api import roles
from tests.unit.network_service import base as network_base

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN
PATH = '/v2.1/os-server-external-events'
# Each name and the first microversion that takes it.
NEWER_NAMES = {'volume-extended': '2.51', 'power-update': '2.76',
               'accelerator-request-bound': '2.82', 'volume-reimaged': '2.93'}


def _before(version: str) -> str:
    major, minor = version.split('.')
    return f'{major}.{int(minor) - 1}'


class EventsCase(cloud.CloudTestCase):
    COMPUTES = 1

    def post(self, events, version: str = '2.93', token: str = ADMIN, code: int = 200,
             headers: dict | None = None):
        body = events if isinstance(events, dict) else {'events': events}
        resp = self.cloud.request('POST', PATH, token=token, version=version, json=body,
                                  headers=headers)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp

    def bad(self, body, version: str = '2.93') -> str:
        return self.post(body, version=version, code=400).json['badRequest']['message']

    def active_server(self) -> dict:
        server = self.cloud.create_server(token=self.new_token())
        return self.cloud.wait_settled(server['id'], 'ACTIVE')


class TestValidation(EventsCase):
    COMPUTES = 0

    def test_bodies_nova_refuses(self):
        sid = str(uuid.uuid4())
        self.assertIn("'events' is a required property", self.bad({'foo': 'bar'}))
        self.assertIn("'foo' is not of type 'array'", self.bad({'events': 'foo'}))
        self.assertIn('Invalid input for field/attribute events. Value: []. ',
                      self.bad({'events': []}))
        message = self.bad([{'name': 'network-changed', 'server_uuid': sid,
                             'status': 'foo'}])
        self.assertIn('Invalid input for field/attribute events/0/status. Value: foo.',
                      message)
        self.assertIn("'foo' is not one of ['failed', 'completed', 'in-progress']",
                      message)
        self.assertIn("Additional properties are not allowed ('foobar' was unexpected)",
                      self.bad([{'name': 'network-changed', 'server_uuid': sid,
                                 'foobar': 'bad stuff'}]))
        self.assertIn("'server_uuid' is a required property",
                      self.bad([{'name': 'network-changed'}]))
        self.assertIn("'not-a-uuid' is not a 'uuid'",
                      self.bad([{'name': 'network-changed', 'server_uuid': 'not-a-uuid'}]))
        self.assertIn('is too long', self.bad([{'name': 'network-changed',
                                                'server_uuid': sid, 'tag': 'x' * 256}]))
        self.assertIn("'unknown_event' is not one of",
                      self.bad([{'name': 'unknown_event', 'server_uuid': sid}]))

    def test_each_name_from_its_microversion(self):
        sid = str(uuid.uuid4())
        for name, since in NEWER_NAMES.items():
            event = {'name': name, 'server_uuid': sid, 'tag': 'foo'}
            message = self.bad([event], version=_before(since))
            self.assertIn(f'Invalid input for field/attribute events/0/name. Value: '
                          f'{name}.', message)
            self.assertIn(f"'{name}' is not one of ['network-changed', "
                          "'network-vif-plugged', 'network-vif-unplugged', "
                          "'network-vif-deleted'", message)
            # Beyond Nova: the microversion that would take it.
            self.assertTrue(message.endswith(f'(available from microversion {since})'),
                            message)
            # From its microversion on it is taken (the server is unknown: 404 in it).
            answer = self.post([event], version=since, code=207).json
            self.assertEqual({'events': [{**event, 'code': 404, 'status': 'failed'}]},
                             answer)
        for name in ('network-changed', 'network-vif-plugged', 'network-vif-unplugged',
                     'network-vif-deleted'):
            self.post([{'name': name, 'server_uuid': sid}], version='2.1', code=207)

    def test_policy_admin_or_service(self):
        roles.allow_role_override(self.cloud.app)
        event = [{'name': 'network-changed', 'server_uuid': str(uuid.uuid4())}]
        resp = self.post(event, token=self.new_token(), code=403)
        self.assertEqual("Policy doesn't allow os_compute_api:os-server-external-events:"
                         "create to be performed.", resp.json['forbidden']['message'])
        self.post(event, token=self.new_token(), code=403,
                  headers={'X-Test-Roles': 'member,reader,manager'})
        # The service role (another service's user) or an admin.
        self.post(event, token=self.new_token('neutron'), code=207,
                  headers={'X-Test-Roles': 'service'})
        self.post(event, token=ADMIN, code=207)
        # As Nova, the body is checked before the policy.
        self.post({'events': []}, token=self.new_token(), code=400)


class TestAnswers(EventsCase):

    def test_all_accepted_is_200(self):
        server = self.active_server()
        sid = server['id']
        events = [{'name': 'network-vif-plugged', 'tag': 'foo', 'server_uuid': sid,
                   'status': 'completed'},
                  {'name': 'network-changed', 'server_uuid': sid},
                  {'name': 'network-vif-unplugged', 'tag': 'bar', 'server_uuid': sid,
                   'status': 'in-progress'},
                  {'name': 'accelerator-request-bound', 'tag': str(uuid.uuid4()),
                   'server_uuid': sid, 'status': 'failed'},
                  {'name': 'volume-reimaged', 'tag': str(uuid.uuid4()),
                   'server_uuid': sid}]
        answer = self.post(events, code=200).json
        self.assertEqual({'events': [{**e, 'code': 200, 'status': 'completed'}
                                     for e in events]}, answer)
        # Only logged: the server is as it was.
        self.assertEqual(server['addresses'], self.cloud.get_server(sid)['addresses'])
        self.assertEqual('ACTIVE', self.cloud.get_server(sid)['status'])

    def test_some_failed_is_207(self):
        sid = self.active_server()['id']
        unknown = str(uuid.uuid4())
        events = [{'name': 'network-vif-plugged', 'tag': 'foo', 'server_uuid': sid},
                  {'name': 'network-changed', 'server_uuid': unknown},
                  {'name': 'volume-extended', 'server_uuid': sid},          # no tag
                  {'name': 'power-update', 'server_uuid': sid},             # no tag
                  {'name': 'accelerator-request-bound', 'server_uuid': sid},
                  # An unknown server is a 404 whether or not a tag is missing.
                  {'name': 'power-update', 'server_uuid': unknown}]
        answer = self.post(events, code=207).json['events']
        self.assertEqual([(200, 'completed'), (404, 'failed'), (400, 'failed'),
                          (400, 'failed'), (400, 'failed'), (404, 'failed')],
                         [(e['code'], e['status']) for e in answer])
        self.assertEqual(events, [{k: v for k, v in e.items() if k not in ('code', 'status')}
                                  for e in answer])

    def test_none_found_is_207_too(self):
        # Nova's since bug 1855752 (once 404): the codes are in the events.
        events = [{'name': 'network-changed', 'server_uuid': str(uuid.uuid4())},
                  {'name': 'network-vif-deleted', 'server_uuid': str(uuid.uuid4()),
                   'tag': 'port'}]
        answer = self.post(events, code=207).json['events']
        self.assertEqual([404, 404], [e['code'] for e in answer])

    def test_a_server_on_no_host_is_422(self):
        sid = self.active_server()['id']
        with session.transaction() as s:   # as a shelved-offloaded server is
            self.assertTrue(instance_db.update_if(s, sid, {
                'vm_state': states.SHELVED_OFFLOADED, 'host': None, 'node': None}))
        answer = self.post([{'name': 'network-changed', 'server_uuid': sid},
                            {'name': 'power-update', 'server_uuid': sid}], code=207).json
        self.assertEqual([(422, 'failed'), (400, 'failed')],
                         [(e['code'], e['status']) for e in answer['events']])

    def test_a_deleted_server_is_known(self):
        # As Nova's (its database keeps it): Neutron tells of a deleted server's ports.
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        self.cloud.wait_settled(server['id'], 'ACTIVE')
        self.assertEqual(204, self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}',
                                                 token=token).status_code)
        self.cloud.wait_for_status(server['id'], 'DELETED')
        answer = self.post([{'name': 'network-vif-deleted', 'tag': 'p',
                             'server_uuid': server['id']}], code=200).json
        self.assertEqual('completed', answer['events'][0]['status'])


class TestNetworkEvents(EventsCase):

    def test_network_changed_reads_the_cache_again(self):
        server = self.active_server()
        sid, before = server['id'], server['addresses']
        self.assertTrue(before)
        with session.transaction() as s:   # a cache gone stale
            network_cache.clear(s, sid)
        self.assertEqual({}, self.cloud.get_server(sid)['addresses'])
        self.post([{'name': 'network-changed', 'server_uuid': sid, 'tag': 'port'}],
                  version='2.1')
        self.assertEqual(before, self.cloud.get_server(sid)['addresses'])

    def test_network_vif_deleted_drops_the_port(self):
        server = self.active_server()
        sid, before = server['id'], server['addresses']
        gone = objects.PortSpec(id=str(uuid.uuid4()), network_id=str(uuid.uuid4()),
                                network_name='deleted-net', mac_address='fa:16:3e:00:00:01',
                                fixed_ips=[{'ip_address': '10.254.0.9', 'version': 4}])
        with session.transaction() as s:   # a port the network service no longer has
            network_cache.save(s, sid, network_cache.ports(s, sid) + [gone])
        self.assertIn('deleted-net', self.cloud.get_server(sid)['addresses'])
        self.post([{'name': 'network-vif-deleted', 'server_uuid': sid, 'tag': gone.id}])
        self.assertEqual(before, self.cloud.get_server(sid)['addresses'])


class TestNetworkEventsThroughNeutron(network_base.NetworkServiceTestCase):
    """An external Neutron (Kumo's network service on another port, reached over
    HTTP): a port bound to the server there reaches its addresses with the event."""

    def setUp(self):
        super().setUp()
        self.api = self.useFixture(served.network_service())

    def event(self, sid: str, tag: str | None = None):
        event = {'name': 'network-changed', 'server_uuid': sid}
        if tag:
            event['tag'] = tag
        resp = self.cloud.request('POST', PATH, token=ADMIN, version='2.93',
                                  json={'events': [event]})
        self.assertEqual(200, resp.status_code, resp.get_data(True))

    def test_a_port_bound_in_neutron(self):
        net = self.network('evented', cidrs=('10.61.0.0/24',))
        server = self.cloud.create_server('evented', token=self.token,
                                          networks=[{'uuid': net['id']}])
        sid = self.cloud.wait_for_status(server['id'], 'ACTIVE')['id']
        before = {a['addr'] for a in self.cloud.get_server(sid)['addresses']['evented']}
        port = self.post('port', network_id=net['id'], device_id=sid,
                         device_owner='compute:nova')
        added = port['fixed_ips'][0]['ip_address']
        # Neutron's change is not seen until Neutron says so.
        self.assertNotIn(added, {a['addr'] for a in
                                 self.cloud.get_server(sid)['addresses']['evented']})
        self.event(sid, tag=port['id'])
        self.assertEqual(before | {added}, {
            a['addr'] for a in self.cloud.get_server(sid)['addresses']['evented']})

    def test_neutron_down_keeps_the_cache(self):
        net = self.network('kept', cidrs=('10.62.0.0/24',))
        server = self.cloud.create_server('kept', token=self.token,
                                          networks=[{'uuid': net['id']}])
        sid = self.cloud.wait_for_status(server['id'], 'ACTIVE')['id']
        before = self.cloud.get_server(sid)['addresses']
        CONF.set_override('endpoint', f'http://127.0.0.1:{free_port()}', 'neutron')
        self.addCleanup(CONF.set_override, 'endpoint', self.api.endpoint, 'neutron')
        self.event(sid)   # accepted all the same, as Nova's answer
        self.assertEqual(before, self.cloud.get_server(sid)['addresses'])


class TestPowerUpdate(EventsCase):

    def power_update(self, sid: str, tag: str, code: int = 200) -> str:
        resp = self.post([{'name': 'power-update', 'server_uuid': sid, 'tag': tag}],
                         version='2.76', code=code)
        self.assertEqual('completed', resp.json['events'][0]['status'])
        return resp.headers['x-openstack-request-id']

    def action(self, sid: str, request_id: str) -> dict | None:
        resp = self.cloud.request('GET', f'/v2.1/servers/{sid}/os-instance-actions/'
                                  f'{request_id}', token=ADMIN, version='2.62')
        return resp.json['instanceAction'] if resp.status_code == 200 else None

    def state(self, sid: str) -> tuple:
        server = self.cloud.get_server(sid)
        return (server['status'], server['OS-EXT-STS:vm_state'],
                server['OS-EXT-STS:power_state'], server['OS-EXT-STS:task_state'])

    def test_off_then_on(self):
        server = self.active_server()
        sid, host = server['id'], server['OS-EXT-SRV-ATTR:host']
        request_id = self.power_update(sid, 'POWER_OFF')
        self.assertEqual(('SHUTOFF', 'stopped', 4, None), self.state(sid))
        action = self.action(sid, request_id)
        self.assertEqual(('stop', 'admin'), (action['action'], action['user_id']))
        self.assertEqual([('compute_power_update', 'Success', host)],
                         [(e['event'], e['result'], e['host']) for e in action['events']])
        # Already off: recorded, nothing changes (Nova's no-op).
        request_id = self.power_update(sid, 'POWER_OFF')
        self.assertEqual(('SHUTOFF', 'stopped', 4, None), self.state(sid))
        self.assertEqual('stop', self.action(sid, request_id)['action'])

        request_id = self.power_update(sid, 'POWER_ON')
        self.assertEqual(('ACTIVE', 'active', 1, None), self.state(sid))
        self.assertEqual('start', self.action(sid, request_id)['action'])

    def test_a_task_under_way_wins(self):
        sid = self.active_server()['id']
        with session.transaction() as s:
            self.assertTrue(instance_db.update_if(s, sid, {'task_state': 'rebooting'}))
        self.power_update(sid, 'POWER_OFF')
        self.assertEqual(('REBOOT', 'active', 1, 'rebooting'), self.state(sid))

    def test_an_unknown_tag_does_nothing(self):
        sid = self.active_server()['id']
        request_id = self.power_update(sid, 'POWER_SAVE')
        self.assertEqual(('ACTIVE', 'active', 1, None), self.state(sid))
        self.assertIsNone(self.action(sid, request_id))

    def test_volume_extended_is_recorded(self):
        server = self.active_server()
        resp = self.post([{'name': 'volume-extended', 'server_uuid': server['id'],
                           'tag': str(uuid.uuid4())}], version='2.51')
        action = self.action(server['id'], resp.headers['x-openstack-request-id'])
        # Kumo attaches no volumes: the step ends at once, as Nova's for a volume
        # the server does not have.
        self.assertEqual('extend_volume', action['action'])
        self.assertEqual([('compute_extend_volume', 'Success')],
                         [(e['event'], e['result']) for e in action['events']])
