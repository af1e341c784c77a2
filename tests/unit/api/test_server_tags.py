"""Server tags (2.26+) end to end: the six calls against the samples, tag rules, the
50-tag limit, vm_state rule, policy and scoping."""
from __future__ import annotations

import urllib.parse

from tests.fixtures import cloud
from tests.unit.api import api_samples, roles
from tests.unit.api.test_server_metadata import set_vm_state

ADMIN = cloud.ADMIN_TOKEN


class TagsTestCase(cloud.CloudTestCase):

    def boot(self, token=None, **server):
        token = token or self.new_token()
        created = self.cloud.create_server(token=token, **server)
        self.cloud.wait_for_status(created['id'], 'ACTIVE')
        return token, created['id']

    def call(self, method, server_id, path='', body=None, token=ADMIN, code=200,
             version='2.26', headers=None):
        resp = self.cloud.request(method, f'/v2.1/servers/{server_id}/tags{path}',
                                  token=token, json=body, version=version, headers=headers)
        self.assertEqual(code, resp.status_code,
                         f'{method} {path} {body}: {resp.get_data(True)}')
        return resp


class TestTagCalls(TagsTestCase):

    def test_calls_match_samples(self):
        token, server_id = self.boot()
        self.assertEqual({'tags': []}, self.call('GET', server_id, token=token).json)
        req = api_samples.load('os-server-tags/v2.26/server-tags-put-all-req.json')
        resp = self.call('PUT', server_id, '', req, token)
        self.assertEqual(api_samples.load('os-server-tags/v2.26/server-tags-put-all-resp.json'),
                         resp.json)
        self.assertEqual(api_samples.load('os-server-tags/v2.26/server-tags-index-resp.json'),
                         self.call('GET', server_id, token=token).json)
        # Check one: 204 or 404, no body.
        self.assertEqual(b'', self.call('GET', server_id, '/tag1', token=token,
                                        code=204).get_data())
        resp = self.call('GET', server_id, '/tag3', token=token, code=404)
        self.assertEqual(f"Server {server_id} has no tag 'tag3'",
                         resp.json['itemNotFound']['message'])
        # Add one: 201 with its Location, then 204 when it is there already.
        resp = self.call('PUT', server_id, '/tag 3', token=token, code=201)
        self.assertEqual(f'http://localhost/v2.1/servers/{server_id}/tags/'
                         f'{urllib.parse.quote("tag 3")}', resp.headers['Location'])
        self.assertEqual(b'', resp.get_data())
        self.call('PUT', server_id, '/tag 3', token=token, code=204)
        self.assertEqual(['tag 3', 'tag1', 'tag2'],
                         self.call('GET', server_id, token=token).json['tags'])
        # The server views carry them from 2.26.
        server = self.cloud.get_server(server_id, token=token, version='2.26')
        self.assertEqual(['tag 3', 'tag1', 'tag2'], server['tags'])
        # Delete one, then all.
        self.call('DELETE', server_id, '/tag1', token=token, code=204)
        resp = self.call('DELETE', server_id, '/tag1', token=token, code=404)
        self.assertEqual(f"Instance {server_id} has no tag 'tag1'",
                         resp.json['itemNotFound']['message'])
        self.assertEqual(b'', self.call('DELETE', server_id, token=token,
                                        code=204).get_data())
        self.assertEqual([], self.call('GET', server_id, token=token).json['tags'])
        # Replacing keeps one of each.
        resp = self.call('PUT', server_id, '', {'tags': ['b', 'a', 'b']}, token)
        self.assertEqual(['a', 'b'], resp.json['tags'])
        resp = self.call('PUT', server_id, '', {'tags': ['c', 'a']}, token)
        self.assertEqual(['a', 'c'], resp.json['tags'])

    def test_not_before_2_26(self):
        token, server_id = self.boot()
        for method, path, body in (('GET', '', None), ('PUT', '', {'tags': ['a']}),
                                   ('DELETE', '', None), ('GET', '/a', None),
                                   ('PUT', '/a', None), ('DELETE', '/a', None)):
            self.call(method, server_id, path, body, token, code=404, version='2.25')
        self.assertEqual([], self.call('GET', server_id, token=token).json['tags'])

    def test_tag_rules(self):
        token, server_id = self.boot()
        for bad in ('a,b', 'x' * 61):
            resp = self.call('PUT', server_id, f'/{urllib.parse.quote(bad)}', token=token,
                             code=400)
            self.assertIn(f"Tag '{bad}' is invalid. It must be a non empty string without "
                          "characters '/' and ','.", resp.json['badRequest']['message'])
        for body in ({'tags': ['a,b']}, {'tags': ['a/b']}, {'tags': ['']},
                     {'tags': ['x' * 61]}, {'tags': 'a'}, {}, {'tags': [], 'extra': 1},
                     {'tags': [f't{i}' for i in range(51)]}):
            self.call('PUT', server_id, '', body, token, code=400)
        self.call('PUT', server_id, '/a', {'tag': 'a'}, token, code=400)
        self.call('PUT', server_id, '/' + 'x' * 60, token=token, code=201)
        # At most 50 tags.
        fifty = [f't{i:02d}' for i in range(50)]
        self.call('PUT', server_id, '', {'tags': fifty}, token)
        resp = self.call('PUT', server_id, '/one-more', token=token, code=400)
        self.assertEqual('The number of tags exceeded the per-server limit 50',
                         resp.json['badRequest']['message'])
        self.assertEqual(fifty, self.call('GET', server_id, token=token).json['tags'])


class TestTagRules(TagsTestCase):

    def test_vm_states(self):
        token, server_id = self.boot()
        self.call('PUT', server_id, '', {'tags': ['keep']}, token)
        for vm_state in ('paused', 'suspended', 'stopped', 'active'):
            set_vm_state(server_id, vm_state)
            self.call('PUT', server_id, f'/{vm_state}', token=token, code=201)
        for vm_state in ('error', 'building', 'shelved_offloaded'):
            set_vm_state(server_id, vm_state)
            resp = self.call('PUT', server_id, '/x', token=token, code=409)
            self.assertEqual(f"Cannot 'update tag' instance {server_id} while it is in "
                             f'vm_state {vm_state}', resp.json['conflictingRequest']['message'])
            for method, path, body, action in (('PUT', '', {'tags': []}, 'update tags'),
                                               ('DELETE', '', None, 'delete tags'),
                                               ('DELETE', '/keep', None, 'delete tag')):
                resp = self.call(method, server_id, path, body, token, code=409)
                self.assertIn(f"Cannot '{action}'", resp.json['conflictingRequest']['message'])
            self.call('GET', server_id, '/keep', token=token, code=204)
        set_vm_state(server_id, 'active')
        self.assertEqual(['active', 'keep', 'paused', 'stopped', 'suspended'],
                         self.call('GET', server_id, token=token).json['tags'])

    def test_lock_does_not_apply(self):
        # Nova does not check the server lock for tags (only for metadata).
        token, server_id = self.boot()
        resp = self.cloud.request('POST', f'/v2.1/servers/{server_id}/action', token=token,
                                  json={'lock': None})
        self.assertEqual(202, resp.status_code)
        self.call('PUT', server_id, '/while-locked', token=token, code=201)

    def test_policy_and_scoping(self):
        token, server_id = self.boot()
        self.call('PUT', server_id, '', {'tags': ['t']}, token)
        other = self.new_token()
        unknown = '00000000-0000-0000-0000-000000000000'
        # An unknown server has no mapping, as Nova says; another project's server
        # answers the same (Nova's policy check would make it a 403, telling B that
        # the server exists: issue 3 wants 404).
        for method, path, body in (('GET', '', None), ('PUT', '', {'tags': ['a']}),
                                   ('DELETE', '', None), ('GET', '/t', None),
                                   ('PUT', '/a', None), ('DELETE', '/t', None)):
            for target in (server_id, unknown):
                resp = self.call(method, target, path, body, other, code=404)
                self.assertEqual(f'Instance {target} has no mapping to a cell.',
                                 resp.json['itemNotFound']['message'])
        roles.allow_role_override(self.cloud.app)
        reader = roles.READER
        self.call('GET', server_id, token=token, headers=reader)
        self.call('GET', server_id, '/t', token=token, code=204, headers=reader)
        for method, path, body in (('PUT', '', {'tags': ['a']}), ('DELETE', '', None),
                                   ('PUT', '/a', None), ('DELETE', '/t', None)):
            resp = self.call(method, server_id, path, body, token, code=403, headers=reader)
            self.assertIn("Policy doesn't allow os_compute_api:os-server-tags:",
                          resp.json['forbidden']['message'])
        self.assertEqual(['t'], self.call('GET', server_id, token=token).json['tags'])
        self.call('PUT', server_id, '/by-admin', token=ADMIN, code=201)

    def test_deleted_server_is_not_found(self):
        # Its mapping outlives it in Nova: past the policy, the server is not found.
        token, server_id = self.boot()
        resp = self.cloud.request('DELETE', f'/v2.1/servers/{server_id}', token=token)
        self.assertEqual(204, resp.status_code)
        self.cloud.wait_for_status(server_id, 'DELETED')
        resp = self.call('GET', server_id, token=token, code=404)
        self.assertEqual(f'Instance {server_id} could not be found.',
                         resp.json['itemNotFound']['message'])
