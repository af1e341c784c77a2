"""os-instance-actions end to end: the actions create, delete and other server
operations record, per microversion against the samples (2.21 deleted servers,
2.51 events for owners, 2.58 paging and updated_at, 2.62 host/hostId, 2.84 details),
and who sees what."""
from __future__ import annotations

import datetime
import hashlib
import time
import urllib.parse

import fixtures
import sqlalchemy as sa
from oslo_config import cfg

from kumo_common import lifecycle, objects
from kumo_common.db import models, session
from kumo_conductor.manager import ConductorManager
from tests.fixtures import cloud
from tests.unit.api import api_samples, roles

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN
VOLATILE = ('instance_uuid', 'project_id', 'request_id', 'start_time', 'user_id',
            'updated_at', 'finish_time', 'hostId', 'host', 'action', 'event', 'events')


class ActionsTestCase(cloud.CloudTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls.new_token()
        cls.user, cls.project = cls.token.split(':')
        server = cls.cloud.create_server(token=cls.token)
        cls.server = cls.cloud.wait_for_status(server['id'], 'ACTIVE')
        cls.server_id = server['id']
        cls.host = cls.server['OS-EXT-SRV-ATTR:host']
        for action in ('lock', 'unlock'):
            resp = cls.cloud.request('POST', f'/v2.1/servers/{server["id"]}/action',
                                     token=cls.token, json={action: None})
            assert resp.status_code == 202, resp.get_data(True)

    def actions(self, version=None, query='', token=None, code=200, server_id=None):
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{server_id or self.server_id}/os-instance-actions{query}',
            token=token or self.token, version=version)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json

    def action(self, request_id, version=None, token=None, code=200, server_id=None):
        resp = self.cloud.request(
            'GET',
            f'/v2.1/servers/{server_id or self.server_id}/os-instance-actions/{request_id}',
            token=token or self.token, version=version)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json

    def request_id(self, name):
        return next(a['request_id'] for a in self.actions()['instanceActions']
                    if a['action'] == name)


class TestActionViews(ActionsTestCase):

    def test_list_per_version(self):
        for version, path in (('2.1', 'instance-actions-list-resp.json'),
                              ('2.21', 'v2.21/instance-actions-list-resp.json'),
                              ('2.51', 'v2.51/instance-actions-list-resp.json'),
                              ('2.58', 'v2.58/instance-actions-list-resp.json'),
                              ('2.62', 'v2.62/instance-actions-list-resp.json'),
                              ('2.84', 'v2.84/instance-actions-list-resp.json')):
            body = self.actions(version)
            self.assertEqual(['unlock', 'lock', 'create'],
                             [a['action'] for a in body['instanceActions']], version)
            sample = api_samples.load(f'os-instance-actions/{path}')
            for action in body['instanceActions']:
                api_samples.assert_like(self, sample['instanceActions'][0], action,
                                        skip=VOLATILE, where=version)
                self.assertEqual((self.server_id, self.project, self.user),
                                 (action['instance_uuid'], action['project_id'],
                                  action['user_id']))
                self.assertRegex(action['request_id'], r'^req-[0-9a-f-]{36}$')

    def test_create_is_recorded_with_its_build_event(self):
        create = self.action(self.request_id('create'), '2.84', token=ADMIN)
        event = create['instanceAction']['events']
        self.assertEqual(1, len(event))
        self.assertEqual(('compute__do_build_and_run_instance', 'Success', self.host, None,
                          None),
                         (event[0]['event'], event[0]['result'], event[0]['host'],
                          event[0]['traceback'], event[0]['details']))
        self.assertLessEqual(event[0]['start_time'], event[0]['finish_time'])
        self.assertIsNone(create['instanceAction']['message'])
        # updated_at is the last event's time.
        self.assertEqual(event[0]['finish_time'], create['instanceAction']['updated_at'])

    def test_show_per_version_and_audience(self):
        request_id = self.request_id('create')
        host_id = hashlib.sha224((self.project + self.host).encode()).hexdigest()
        cases = [
            ('2.1', 'instance-action-get-resp.json', ADMIN),
            ('2.21', 'v2.21/instance-action-get-resp.json', ADMIN),
            ('2.51', 'v2.51/instance-action-get-resp.json', ADMIN),
            ('2.51', 'v2.51/instance-action-get-non-admin-resp.json', None),
            ('2.58', 'v2.58/instance-action-get-resp.json', ADMIN),
            ('2.58', 'v2.58/instance-action-get-non-admin-resp.json', None),
            ('2.62', 'v2.62/instance-action-get-resp.json', ADMIN),
            ('2.62', 'v2.62/instance-action-get-non-admin-resp.json', None),
            ('2.66', 'v2.66/instance-action-get-resp.json', ADMIN),
            ('2.66', 'v2.66/instance-action-get-non-admin-resp.json', None),
            ('2.84', 'v2.84/instance-action-get-resp.json', ADMIN),
            ('2.84', 'v2.84/instance-action-get-non-admin-resp.json', None),
        ]
        for version, path, token in cases:
            body = self.action(request_id, version, token=token)
            sample = api_samples.load(f'os-instance-actions/{path}')
            api_samples.assert_like(self, {**sample['instanceAction'], 'events': []},
                                    {**body['instanceAction'], 'events': []},
                                    skip=VOLATILE, where=path)
            api_samples.assert_like(self, sample['instanceAction']['events'][0],
                                    body['instanceAction']['events'][0], skip=VOLATILE,
                                    where=path)
            event = body['instanceAction']['events'][0]
            if 'hostId' in event:
                self.assertEqual(host_id, event['hostId'])
            if 'host' in event:
                self.assertEqual(self.host, event['host'])
        # Before 2.51 only admins see the events.
        self.assertNotIn('events', self.action(request_id, '2.50')['instanceAction'])

    def test_deleted_servers_from_2_21(self):
        server = self.cloud.create_server(token=self.token)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=self.token)
        self.cloud.wait_for_status(server['id'], 'DELETED')
        self.actions('2.20', server_id=server['id'], code=404)
        body = self.actions('2.21', server_id=server['id'])
        self.assertEqual(['delete', 'create'],
                         [a['action'] for a in body['instanceActions']])
        delete = self.action(body['instanceActions'][0]['request_id'], '2.62', token=ADMIN,
                             server_id=server['id'])['instanceAction']
        self.assertEqual([('compute_terminate_instance', 'Success')],
                         [(e['event'], e['result']) for e in delete['events']])

    def test_scoping(self):
        self.actions(token=self.new_token(), code=404)
        self.action(self.request_id('lock'), token=self.new_token(), code=404)
        self.actions(server_id='00000000-0000-0000-0000-000000000000', code=404)
        resp = self.action('req-nope', code=404)
        self.assertEqual('Action req-nope not found', resp['itemNotFound']['message'])
        # A reader of the project may look; the admin may look at any project's.
        roles.allow_role_override(self.cloud.app)
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{self.server_id}/os-instance-actions', token=self.token,
            headers=roles.READER)
        self.assertEqual(200, resp.status_code)
        self.assertEqual(3, len(self.actions(token=ADMIN)['instanceActions']))


class TestActionPaging(ActionsTestCase):

    def test_limit_and_marker(self):
        for version, sample in (('2.58', 'v2.58/instance-actions-list-with-limit-resp.json'),
                                ('2.84', 'v2.84/instance-actions-list-with-limit-resp.json')):
            first = self.actions(version, '?limit=1')
            api_samples.assert_like(self, api_samples.load(f'os-instance-actions/{sample}'),
                                    {**first, 'links': [{**first['links'][0],
                                                         'href': 'x'}]},
                                    skip=VOLATILE + ('href',))
            newest = first['instanceActions'][0]
            self.assertEqual('unlock', newest['action'])
            href = urllib.parse.urlsplit(first['links'][0]['href'])
            self.assertEqual(f'/v2.1/servers/{self.server_id}/os-instance-actions',
                             href.path)
            self.assertEqual({'limit': ['1'], 'marker': [newest['request_id']]},
                             urllib.parse.parse_qs(href.query))
            rest = self.actions(version, f'?marker={newest["request_id"]}')
            self.assertEqual(['lock', 'create'],
                             [a['action'] for a in rest['instanceActions']])
            self.assertNotIn('links', rest)
            bad = self.actions(version, '?marker=req-unknown', code=400)
            # Nova's message names None, not the marker (see the handler).
            self.assertEqual('Marker None could not be found.',
                             bad['badRequest']['message'])
        # Paging arrived in 2.58: before, limit is ignored.
        self.assertEqual(3, len(self.actions('2.57', '?limit=1')['instanceActions']))
        self.actions('2.58', '?limit=-1', code=400)
        self.actions('2.58', '?foo=1', code=400)

    def test_changes_since_and_before(self):
        with session.reader() as s:
            times = dict(s.execute(sa.select(models.InstanceAction.action,
                                             models.InstanceAction.updated_at).where(
                models.InstanceAction.instance_uuid == self.server_id)).all())
        since = times['lock'].isoformat() + 'Z'
        body = self.actions('2.58', f'?changes-since={urllib.parse.quote(since)}')
        self.assertEqual(['unlock', 'lock'], [a['action'] for a in body['instanceActions']])
        future = (datetime.datetime.now(datetime.UTC)
                  + datetime.timedelta(hours=1)).isoformat()
        self.assertEqual([], self.actions(
            '2.58', f'?changes-since={urllib.parse.quote(future)}')['instanceActions'])
        # changes-before from 2.66 (inclusive), and never before changes-since.
        self.actions('2.65', f'?changes-before={urllib.parse.quote(since)}', code=400)
        body = self.actions('2.66', f'?changes-before={urllib.parse.quote(since)}')
        self.assertEqual(['lock', 'create'], [a['action'] for a in body['instanceActions']])
        resp = self.actions('2.66', f'?changes-since={urllib.parse.quote(future)}'
                                    f'&changes-before={urllib.parse.quote(since)}', code=400)
        self.assertEqual('The value of changes-since must be less than or equal to '
                         'changes-before.', resp['badRequest']['message'])
        resp = self.actions('2.58', '?changes-since=yesterday', code=400)
        self.assertEqual("Invalid input for query parameters changes-since. Value: "
                         "yesterday. 'yesterday' is not a 'date-time'",
                         resp['badRequest']['message'])


class SpawnFailed(Exception):
    """What the patched driver raises: its name must reach the admin's traceback."""


class TestFailedBuildEvents(cloud.CloudTestCase):
    """A build that fails records its events as 'Error', with the traceback (admins,
    per os_compute_api:os-instance-actions:events) and the message as 2.84 details."""
    COMPUTES = 1

    def setUp(self):
        super().setUp()
        self.token = self.new_token()
        self.project = self.token.split(':')[1]

        def failing_spawn(build):
            raise SpawnFailed(f'Disk image of {build.uuid} is corrupt')
        for agent in self.cloud.agents:
            self.useFixture(fixtures.MockPatchObject(agent.driver, 'spawn',
                                                     failing_spawn))

    def failed_create(self):
        server = self.cloud.create_server(token=self.token)
        self.cloud.wait_for_status(server['id'], 'ERROR')
        actions = self.cloud.request('GET', f'/v2.1/servers/{server["id"]}/'
                                     'os-instance-actions', token=self.token).json
        request_id = actions['instanceActions'][0]['request_id']
        return server['id'], request_id

    def events(self, server_id, request_id, version, token):
        resp = self.cloud.request(
            'GET', f'/v2.1/servers/{server_id}/os-instance-actions/{request_id}',
            token=token, version=version)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        action = resp.json['instanceAction']
        self.assertEqual('Error', action['message'])
        # Oldest first, to read like the build went.
        return sorted(action['events'], key=lambda e: (e['start_time'], e['event']))

    def assert_keys_of_sample(self, event, version, admin):
        folder = {'2.51': 'v2.51', '2.62': 'v2.62', '2.84': 'v2.84'}[version]
        name = 'instance-action-get-resp.json' if admin else \
            'instance-action-get-non-admin-resp.json'
        sample = api_samples.load(f'os-instance-actions/{folder}/{name}')
        self.assertEqual(sorted(sample['instanceAction']['events'][0]), sorted(event),
                         (version, admin))

    def test_spawn_error_then_no_valid_host(self):
        # One host, three attempts: the spawn fails there, the reschedule finds no host.
        # As Nova's: the build's event only (its conductor adds none to a reschedule
        # that finds no host); the fault tells the rest.
        server_id, request_id = self.failed_create()
        for version in ('2.51', '2.62', '2.84'):
            [build] = self.events(server_id, request_id, version, ADMIN)
            self.assert_keys_of_sample(build, version, admin=True)
            self.assertEqual('Error', build['result'])
            self.assertIsNotNone(build['finish_time'])
            self.assertEqual('compute__do_build_and_run_instance', build['event'])
            self.assertTrue(build['traceback'].startswith('Traceback (most recent call '
                                                          'last):'), build['traceback'])
            self.assertIn(f'SpawnFailed: Disk image of {server_id} is corrupt',
                          build['traceback'])
            self.assertIn('self.driver.spawn(build)', build['traceback'])
            if version != '2.51':
                self.assertEqual('compute1', build['host'])
            if version == '2.84':
                self.assertEqual(f'Disk image of {server_id} is corrupt', build['details'])
            # The owner sees the same events, without traceback, host or details.
            owner = self.events(server_id, request_id, version, self.token)
            self.assertEqual([(build['event'], build['result'])],
                             [(e['event'], e['result']) for e in owner])
            for event in owner:
                self.assert_keys_of_sample(event, version, admin=False)
                self.assertNotIn('traceback', event)
        # Nova's words: its reschedule found no alternate host left (MaxRetriesExceeded,
        # 500); the details (admins) are that exception's traceback.
        fault = self.cloud.get_server(server_id)['fault']
        self.assertEqual(500, fault['code'])
        self.assertEqual('Exceeded maximum number of retries. Exhausted all hosts '
                         f'available for retrying build failures for instance '
                         f'{server_id}.', fault['message'])
        self.assertTrue(fault['details'].startswith('Traceback (most recent call last):'),
                        fault['details'])
        self.assertIn('MaxRetriesExceeded: Exceeded maximum number of retries.',
                      fault['details'])
        self.assertNotIn('details', self.cloud.get_server(server_id, token=self.token)
                         ['fault'])

    def test_last_attempt_failing_finishes_its_event(self):
        CONF.set_override('max_attempts', 1, group='scheduler')
        self.addCleanup(CONF.clear_override, 'max_attempts', group='scheduler')
        server_id, request_id = self.failed_create()
        [build] = self.events(server_id, request_id, '2.84', ADMIN)
        self.assertEqual(('compute__do_build_and_run_instance', 'Error'),
                         (build['event'], build['result']))
        self.assertIsNotNone(build['finish_time'])
        self.assertIn('SpawnFailed', build['traceback'])
        self.assertEqual(f'Disk image of {server_id} is corrupt', build['details'])
        fault = self.cloud.get_server(server_id)['fault']
        # Rescheduling disabled: Nova's compute gives the error as it is.
        self.assertEqual(f'Disk image of {server_id} is corrupt', fault['message'])
        # The fault's details are that traceback too, for admins only (code 500).
        self.assertEqual(build['traceback'], fault['details'])
        self.assertNotIn('details', self.cloud.get_server(server_id, token=self.token)
                         ['fault'])

    def test_no_host_at_first_is_the_conductors_event(self):
        # Nova's conductor records conductor_schedule_and_build_instances (and
        # nothing else) when a create's scheduling finds no host (48 GB: more than the
        # fake host's 32, less than the quota's 50).
        flavor = f'huge-{self.project}'
        resp = self.cloud.request('POST', '/v2.1/flavors', token=ADMIN, json={'flavor': {
            'name': flavor, 'ram': 48 * 1024, 'vcpus': 1, 'disk': 1, 'id': flavor}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        server = self.cloud.create_server(token=self.token, flavorRef=flavor)
        self.cloud.wait_for_status(server['id'], 'ERROR')
        actions = self.cloud.request('GET', f'/v2.1/servers/{server["id"]}/'
                                     'os-instance-actions', token=self.token).json
        [schedule] = self.events(server['id'], actions['instanceActions'][0]['request_id'],
                                 '2.84', ADMIN)
        self.assertEqual(('conductor_schedule_and_build_instances', 'Error'),
                         (schedule['event'], schedule['result']))
        self.assertIn('NoValidHost', schedule['traceback'])
        # On the conductor's host, as Nova's EventReporter(self.host) records it.
        self.assertEqual(cfg.CONF.host, schedule['host'])
        self.assertTrue(schedule['hostId'])
        # Nova's words, for the event's details and the fault alike, then the one
        # line of Kumo's scheduling report (the whole report: admins).
        report = self.cloud.request('GET', f'/v2.1/servers/{server["id"]}/'
                                    'scheduling-report', token=ADMIN)
        self.assertEqual(200, report.status_code, report.get_data(True))
        summary = report.json['scheduling_report']['summary']
        self.assertIn('RamFilter', summary)
        nova_words = 'No valid host was found. There are not enough hosts available.'
        self.assertEqual(f'{nova_words} {summary}', schedule['details'])
        fault = self.cloud.get_server(server['id'], token=self.token)['fault']
        self.assertEqual((500, f'{nova_words} {summary}'), (fault['code'], fault['message']))
        self.assertNotIn('details', fault)
        self.assertIn('NoValidHost', self.cloud.get_server(server['id'])['fault']['details'])
        self.assertEqual('no_valid_host', report.json['scheduling_report']['result'])


class TestBuildOutOfAttempts(cloud.CloudTestCase):
    """Three hosts, [scheduler] max_attempts 3, every spawn fails: the third failure
    ends the build with Nova's MaxRetriesExceeded naming the attempts and the last
    host's error."""
    COMPUTES = 3

    def test_fault_names_the_attempts_and_the_last_error(self):
        CONF.set_override('max_attempts', 3, group='scheduler')
        self.addCleanup(CONF.clear_override, 'max_attempts', group='scheduler')
        tried = []

        def failing_spawn(build):
            tried.append(build.attempt)
            raise SpawnFailed(f'Disk image of {build.uuid} is corrupt (try {build.attempt})')
        for agent in self.cloud.agents:
            self.useFixture(fixtures.MockPatchObject(agent.driver, 'spawn', failing_spawn))
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        self.cloud.wait_for_status(server['id'], 'ERROR')
        self.assertEqual([1, 2, 3], sorted(tried))
        fault = self.cloud.get_server(server['id'])['fault']
        self.assertEqual(500, fault['code'])
        self.assertEqual(
            'Exceeded maximum number of retries. Exceeded max scheduling attempts 3 for '
            f'instance {server["id"]}. Last exception: Disk image of {server["id"]} is '
            'corrupt (try 3)', fault['message'])
        self.assertIn('MaxRetriesExceeded', fault['details'])
        self.assertNotIn('details', self.cloud.get_server(server['id'], token=token)
                         ['fault'])

    def test_a_failure_no_host_would_mend_is_a_build_abort(self):
        # (No agent reports one yet; the wording is Nova's BuildAbortException.)
        result = objects.BuildResult(instance_uuid='u-1', host='compute1', success=False,
                                     error='No disk space', reschedulable=False)
        self.assertEqual(('Build of instance u-1 aborted: No disk space', None),
                         ConductorManager._build_failure('u-1', result, False))


class TestFailedActionEvents(cloud.CloudTestCase):
    """A lifecycle action the agent fails: its event too carries the traceback."""
    COMPUTES = 1

    def test_failed_stop(self):
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')

        def failing_power_off(instance_uuid):
            raise SpawnFailed('The hypervisor refused to power off')
        self.useFixture(fixtures.MockPatchObject(self.cloud.agents[0].driver, 'power_off',
                                                 failing_power_off))
        resp = self.cloud.request('POST', f'/v2.1/servers/{server["id"]}/action',
                                  token=token, json={'os-stop': None})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        request_id = resp.headers['x-openstack-request-id']
        path = f'/v2.1/servers/{server["id"]}/os-instance-actions/{request_id}'

        def finished():
            events = self.cloud.request('GET', path, token=ADMIN,
                                        version='2.84').json['instanceAction']['events']
            return events if events and events[0]['finish_time'] else None
        deadline = time.monotonic() + 10
        while not (events := finished()):
            self.assertLess(time.monotonic(), deadline, 'stop never finished')
            time.sleep(0.05)
        event = lifecycle.get('stop').event
        self.assertEqual((event, 'Error', 'compute1', 'The hypervisor refused to power off'),
                         (events[0]['event'], events[0]['result'], events[0]['host'],
                          events[0]['details']))
        self.assertIn('SpawnFailed: The hypervisor refused to power off',
                      events[0]['traceback'])
        owner = self.cloud.request('GET', path, token=token,
                                   version='2.84').json['instanceAction']['events']
        self.assertEqual([(event, 'Error')], [(e['event'], e['result']) for e in owner])
        self.assertNotIn('traceback', owner[0])
        self.assertNotIn('details', owner[0])
