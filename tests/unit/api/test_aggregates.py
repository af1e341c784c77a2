"""os-aggregates end to end: CRUD and actions against the samples (2.1, 2.41, 2.81),
Nova's zone rules, hosts with servers, image pre-caching, policy."""
from __future__ import annotations

import uuid

from tests.fixtures import cloud
from tests.unit.api import api_samples

ADMIN = cloud.ADMIN_TOKEN
VOLATILE = ('created_at', 'updated_at', 'id', 'uuid', 'hosts', 'name',
            'availability_zone', 'metadata')


class AggregateTestCase(cloud.CloudTestCase):

    def call(self, method, path='', body=None, version=None, token=ADMIN, code=200):
        resp = self.cloud.request(method, f'/v2.1/os-aggregates{path}', token=token,
                                  version=version, json=body)
        self.assertEqual(code, resp.status_code,
                         f'{method} {path} {body}: {resp.get_data(True)}')
        return resp

    def create(self, name=None, zone=None, version=None):
        body = {'name': name or f'agg-{uuid.uuid4().hex[:8]}'}
        if zone is not None:
            body['availability_zone'] = zone
        agg = self.call('POST', body={'aggregate': body}, version=version).json['aggregate']
        self.addCleanup(self._drop, agg['id'])
        return agg

    def _drop(self, agg_id):
        shown = self.cloud.request('GET', f'/v2.1/os-aggregates/{agg_id}', token=ADMIN)
        if shown.status_code != 200:
            return
        for host in shown.json['aggregate']['hosts']:
            self.action(agg_id, {'remove_host': {'host': host}})
        self.call('DELETE', f'/{agg_id}')

    def action(self, agg_id, body, version=None, code=200, token=ADMIN):
        return self.call('POST', f'/{agg_id}/action', body, version, token, code)


class TestAggregateViews(AggregateTestCase):

    def test_crud_and_actions_match_samples(self):
        for version, folder in (('2.1', ''), ('2.41', 'v2.41/'), ('2.81', 'v2.81/')):
            def sample(name, folder=folder):
                return api_samples.load(f'os-aggregates/{folder}{name}')

            req = sample('aggregate-post-req.json')
            req['aggregate']['name'] = f"{req['aggregate']['name']}-{version}"
            created = self.call('POST', body=req, version=version).json
            agg_id = created['aggregate']['id']
            self.addCleanup(self._drop, agg_id)
            api_samples.assert_like(self, sample('aggregate-post-resp.json'), created,
                                    skip=VOLATILE)
            zone = req['aggregate']['availability_zone']
            self.assertEqual((zone, None), (created['aggregate']['availability_zone'],
                                            created['aggregate']['updated_at']))

            shown = self.call('GET', f'/{agg_id}', version=version).json
            api_samples.assert_like(self, sample('aggregates-get-resp.json'), shown,
                                    skip=VOLATILE)
            self.assertEqual(({'availability_zone': zone}, []),
                             (shown['aggregate']['metadata'], shown['aggregate']['hosts']))

            listed = [a for a in self.call('GET', version=version).json['aggregates']
                      if a['id'] == agg_id]
            api_samples.assert_like(self, sample('aggregates-list-get-resp.json'),
                                    {'aggregates': listed}, skip=VOLATILE)
            self.assertEqual(shown['aggregate'], listed[0])

            body = dict(sample('aggregate-add-host-post-req.json'))
            body['add_host'] = {'host': 'compute1'}
            added = self.action(agg_id, body, version).json
            api_samples.assert_like(self, sample('aggregates-add-host-post-resp.json'),
                                    added, skip=VOLATILE)
            self.assertEqual(['compute1'], added['aggregate']['hosts'])

            meta = self.action(agg_id, sample('aggregate-metadata-post-req.json'),
                               version).json
            api_samples.assert_like(self, sample('aggregates-metadata-post-resp.json'), meta,
                                    skip=VOLATILE)
            self.assertEqual({'availability_zone': zone, 'key': 'value'},
                             meta['aggregate']['metadata'])
            self.assertIsNotNone(meta['aggregate']['updated_at'])

            removed = self.action(agg_id, {'remove_host': {'host': 'compute1'}},
                                  version).json
            api_samples.assert_like(self, sample('aggregates-remove-host-post-resp.json'),
                                    removed, skip=VOLATILE)
            self.assertEqual([], removed['aggregate']['hosts'])

            update = sample('aggregate-update-post-req.json')
            update['aggregate']['name'] = f"{update['aggregate']['name']}-{version}"
            updated = self.call('PUT', f'/{agg_id}', update, version).json
            api_samples.assert_like(self, sample('aggregate-update-post-resp.json'), updated,
                                    skip=VOLATILE)
            self.assertEqual((update['aggregate']['name'], 'nova2'),
                             (updated['aggregate']['name'],
                              updated['aggregate']['availability_zone']))

            resp = self.call('DELETE', f'/{agg_id}', version=version)
            self.assertEqual(b'', resp.get_data())
            self.call('GET', f'/{agg_id}', code=404)

    def test_uuid_from_2_41(self):
        agg = self.create(version='2.41')
        self.assertTrue(uuid.UUID(agg['uuid']))
        self.assertNotIn('uuid', self.call('GET', f'/{agg["id"]}', version='2.40')
                         .json['aggregate'])
        self.assertEqual(agg['uuid'], self.call('GET', f'/{agg["id"]}', version='2.100')
                         .json['aggregate']['uuid'])

    def test_aggregate_without_zone(self):
        agg = self.create()
        self.assertIsNone(agg['availability_zone'])
        shown = self.call('GET', f'/{agg["id"]}').json['aggregate']
        self.assertEqual(({}, None), (shown['metadata'], shown['availability_zone']))

    def test_admin_only(self):
        agg = self.create()
        for token in (self.new_token(), 'demo:demo'):
            self.call('GET', token=token, code=403)
            self.call('POST', body={'aggregate': {'name': 'x'}}, token=token, code=403)
            self.call('GET', f'/{agg["id"]}', token=token, code=403)
            self.call('PUT', f'/{agg["id"]}', {'aggregate': {'name': 'y'}}, token=token,
                      code=403)
            self.call('DELETE', f'/{agg["id"]}', token=token, code=403)
            for body in ({'add_host': {'host': 'compute1'}},
                         {'remove_host': {'host': 'compute1'}},
                         {'set_metadata': {'metadata': {'a': 'b'}}}):
                self.action(agg['id'], body, token=token, code=403)
            self.call('POST', f'/{agg["id"]}/images', {'cache': [{'id': cloud.IMAGE_ID}]},
                      '2.81', token=token, code=403)
        self.assertEqual(([], {}), (self.call('GET', f'/{agg["id"]}').json['aggregate']
                                    ['hosts'], self.call('GET', f'/{agg["id"]}')
                                    .json['aggregate']['metadata']))


class TestAggregateRules(AggregateTestCase):

    def test_names(self):
        agg = self.create(name='unique-name')
        resp = self.call('POST', body={'aggregate': {'name': 'unique-name'}}, code=409)
        self.assertEqual('Aggregate unique-name already exists.',
                         resp.json['conflictingRequest']['message'])
        other = self.create()
        self.call('PUT', f'/{other["id"]}', {'aggregate': {'name': 'unique-name'}}, code=409)
        # Renaming to its own name is fine, and changes nothing (as Nova's unsaved row).
        renamed = self.call('PUT', f'/{agg["id"]}', {'aggregate': {'name': 'unique-name'}})
        self.assertIsNone(renamed.json['aggregate']['updated_at'])
        # A new name may have spaces at its ends (unlike on create): they are stripped.
        renamed = self.call('PUT', f'/{other["id"]}', {'aggregate': {'name': '  spaced  '}})
        self.assertEqual('spaced', renamed.json['aggregate']['name'])
        self.assertIsNotNone(renamed.json['aggregate']['updated_at'])
        resp = self.call('PUT', f'/{other["id"]}', {'aggregate': {'name': '   '}}, code=400)
        self.assertEqual("An invalid 'name' value was provided. The name must be: printable "
                         "characters with at least one non space character",
                         resp.json['badRequest']['message'])
        resp = self.call('POST', body={'aggregate': {'name': ' padded'}}, code=400)
        self.assertEqual("An invalid 'name' value was provided. The name must be: printable "
                         "characters. Can not start or end with whitespace.",
                         resp.json['badRequest']['message'])

    def test_bad_requests(self):
        agg = self.create()
        for body in ({}, {'aggregate': {}}, {'aggregate': {'name': ''}},
                     {'aggregate': {'name': 'x', 'extra': 1}},
                     {'aggregate': {'name': ' padded'}},
                     {'aggregate': {'name': 'x', 'availability_zone': 'a:b'}}):
            self.call('POST', body=body, code=400)
        self.call('PUT', f'/{agg["id"]}', {'aggregate': {}}, code=400)
        resp = self.call('GET', '/abc', code=400)
        self.assertEqual('Invalid input received: id must be an integer',
                         resp.json['badRequest']['message'])
        resp = self.call('GET', '/999999', code=404)
        self.assertEqual('Aggregate 999999 could not be found.',
                         resp.json['itemNotFound']['message'])
        self.call('GET', '/99999999999999999999', code=404)
        self.call('PUT', '/999999', {'aggregate': {'name': 'n'}}, code=404)
        self.call('DELETE', '/999999', code=404)
        self.action(999999, {'add_host': {'host': 'compute1'}}, code=404)
        # As Nova: the host is looked up first.
        resp = self.action(999999, {'add_host': {'host': 'nowhere'}}, code=404)
        self.assertEqual('Compute host nowhere could not be found.',
                         resp.json['itemNotFound']['message'])
        resp = self.action(agg['id'], {'add_host': {'host': 'compute1'},
                                       'remove_host': {'host': 'compute1'}}, code=400)
        self.assertEqual('Malformed request body', resp.json['badRequest']['message'])
        resp = self.action(agg['id'], {'reboot': {}}, code=400)
        self.assertEqual('There is no such action: reboot', resp.json['badRequest']['message'])
        self.action(agg['id'], {'add_host': {}}, code=400)
        self.action(agg['id'], {'set_metadata': {'metadata': {'bad/key': 'v'}}}, code=400)

    def test_hosts(self):
        agg = self.create(zone='zone-h')
        resp = self.action(agg['id'], {'add_host': {'host': 'nowhere'}}, code=404)
        self.assertEqual('Compute host nowhere could not be found.',
                         resp.json['itemNotFound']['message'])
        self.action(agg['id'], {'add_host': {'host': 'compute1'}})
        resp = self.action(agg['id'], {'add_host': {'host': 'compute1'}}, code=409)
        self.assertEqual(f'Aggregate {agg["id"]} already has host compute1.',
                         resp.json['conflictingRequest']['message'])
        resp = self.action(agg['id'], {'remove_host': {'host': 'compute2'}}, code=404)
        self.assertEqual(f'Cannot remove host compute2 in aggregate {agg["id"]}',
                         resp.json['itemNotFound']['message'])
        self.action(agg['id'], {'remove_host': {'host': 'nowhere'}}, code=404)
        # The same host may be in several aggregates of the same zone, or without one.
        same = self.create(zone='zone-h')
        self.action(same['id'], {'add_host': {'host': 'compute1'}})
        plain = self.create()
        self.action(plain['id'], {'add_host': {'host': 'compute1'}})
        # ... but not in two zones.
        other = self.create(zone='zone-other')
        resp = self.action(other['id'], {'add_host': {'host': 'compute1'}}, code=409)
        self.assertEqual(f"Cannot add host to aggregate {other['id']}. Reason: One or more "
                         "hosts already in availability zone(s) ['zone-h'].",
                         resp.json['conflictingRequest']['message'])
        # A non-empty aggregate cannot be deleted.
        resp = self.call('DELETE', f'/{agg["id"]}', code=400)
        self.assertEqual(f'Cannot remove host from aggregate {agg["id"]}. Reason: Host '
                         'aggregate is not empty.', resp.json['badRequest']['message'])

    def test_zone_changes(self):
        first = self.create(zone='zone-1')
        self.action(first['id'], {'add_host': {'host': 'compute2'}})
        second = self.create()
        self.action(second['id'], {'add_host': {'host': 'compute2'}})
        # Giving the second aggregate another zone would put compute2 in two.
        resp = self.call('PUT', f'/{second["id"]}',
                         {'aggregate': {'availability_zone': 'zone-2'}}, code=400)
        self.assertEqual(f"Cannot update aggregate {second['id']}. Reason: One or more hosts "
                         "already in availability zone(s) ['zone-1'].",
                         resp.json['badRequest']['message'])
        resp = self.action(second['id'], {'set_metadata': {'metadata': {
            'availability_zone': 'zone-2'}}}, code=400)
        self.assertIn('Cannot update metadata of aggregate', resp.json['badRequest']['message'])
        # The same zone is fine; an empty or null zone is not.
        self.call('PUT', f'/{second["id"]}', {'aggregate': {'availability_zone': 'zone-1'}})
        resp = self.call('PUT', f'/{first["id"]}',
                         {'aggregate': {'availability_zone': None}}, code=400)
        self.assertIn('does not support empty named availability zone',
                      resp.json['badRequest']['message'])
        self.action(first['id'], {'set_metadata': {'metadata': {'availability_zone': None}}},
                    code=400)
        # Metadata: null removes a key, others are set or replaced.
        meta = self.action(first['id'], {'set_metadata': {'metadata': {'a': '1', 'b': '2'}}})
        self.assertEqual({'availability_zone': 'zone-1', 'a': '1', 'b': '2'},
                         meta.json['aggregate']['metadata'])
        meta = self.action(first['id'], {'set_metadata': {'metadata': {'a': None, 'b': '3',
                                                                       'gone': None}}})
        self.assertEqual({'availability_zone': 'zone-1', 'b': '3'},
                         meta.json['aggregate']['metadata'])


class TestHostsWithServers(AggregateTestCase):
    """A host's servers never change zone under them (409/400, as Nova)."""

    def test_no_zone_change_under_servers(self):
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        host = self.cloud.wait_for_status(server['id'], 'ACTIVE')['OS-EXT-SRV-ATTR:host']
        zoned = self.create(zone='zone-s')
        resp = self.action(zoned['id'], {'add_host': {'host': host}}, code=409)
        self.assertIn(f'Host {host} has servers', resp.json['conflictingRequest']['message'])
        # Without a zone the host may join; renaming that aggregate's zone may not
        # happen, since the servers would move.
        plain = self.create()
        self.action(plain['id'], {'add_host': {'host': host}})
        self.call('PUT', f'/{plain["id"]}', {'aggregate': {'name': 'renamed-s'}})
        resp = self.call('PUT', f'/{plain["id"]}',
                         {'aggregate': {'availability_zone': 'zone-t'}}, code=400)
        self.assertIn('One or more hosts contain instances in this zone',
                      resp.json['badRequest']['message'])
        self.action(plain['id'], {'remove_host': {'host': host}})

        self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=token)
        self.cloud.wait_for_status(server['id'], 'DELETED')
        self.action(zoned['id'], {'add_host': {'host': host}})
        self.action(zoned['id'], {'remove_host': {'host': host}})

    def test_remove_under_servers(self):
        zoned = self.create(zone='zone-r')
        self.action(zoned['id'], {'add_host': {'host': 'compute1'}})
        self.action(zoned['id'], {'add_host': {'host': 'compute2'}})
        token = self.new_token()
        server = self.cloud.create_server(token=token, availability_zone='zone-r')
        host = self.cloud.wait_for_status(server['id'], 'ACTIVE')['OS-EXT-SRV-ATTR:host']
        resp = self.action(zoned['id'], {'remove_host': {'host': host}}, code=409)
        self.assertEqual(f'Cannot remove host {host} in aggregate {zoned["id"]}',
                         resp.json['conflictingRequest']['message'])
        idle = 'compute2' if host == 'compute1' else 'compute1'
        self.action(zoned['id'], {'remove_host': {'host': idle}})
        self.assertEqual([host], self.call('GET', f'/{zoned["id"]}').json['aggregate']
                         ['hosts'])
        self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=token)
        self.cloud.wait_for_status(server['id'], 'DELETED')


class TestImageCaching(AggregateTestCase):

    def test_images_from_2_81(self):
        agg = self.create()
        path = f'/{agg["id"]}/images'
        body = api_samples.load('os-aggregates/v2.81/aggregate-images-post-req.json')
        body['cache'][0]['id'] = cloud.IMAGE_ID
        resp = self.call('POST', path, body, '2.81', code=202)
        self.assertEqual(b'', resp.get_data())
        self.call('POST', path, body, '2.80', code=404)
        self.call('POST', path, {'cache': [{'id': cloud.IMAGE_ID}] * 2}, '2.81', code=400)
        resp = self.call('POST', path, {'cache': [{'id': str(uuid.uuid4())}]}, '2.81',
                         code=400)
        self.assertIn('could not be found', resp.json['badRequest']['message'])
        self.call('POST', path, {'cache': []}, '2.81', code=400)
        self.call('POST', path, {'cache': [{'id': 'not-a-uuid'}]}, '2.81', code=400)
        self.call('POST', '/999999/images', body, '2.81', code=404)
