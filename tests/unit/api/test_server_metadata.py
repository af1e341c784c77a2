"""Server metadata end to end: the six calls against the samples, validation, the
metadata_items quota, vm_state and lock rules, policy and scoping."""
from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg

from kumo_common.db import models, session
from tests.fixtures import cloud
from tests.unit.api import api_samples, roles

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN


def set_vm_state(server_id: str, vm_state: str) -> None:
    with session.transaction() as s:
        s.execute(sa.update(models.Instance).where(models.Instance.uuid == server_id)
                  .values(vm_state=vm_state, updated_at=models.utcnow()))


class MetadataTestCase(cloud.CloudTestCase):

    def boot(self, token=None, **server):
        token = token or self.new_token()
        created = self.cloud.create_server(token=token, **server)
        self.cloud.wait_for_status(created['id'], 'ACTIVE')
        return token, created['id']

    def call(self, method, server_id, path='', body=None, token=ADMIN, code=200,
             headers=None):
        resp = self.cloud.request(method, f'/v2.1/servers/{server_id}/metadata{path}',
                                  token=token, json=body, headers=headers)
        self.assertEqual(code, resp.status_code,
                         f'{method} {path} {body}: {resp.get_data(True)}')
        return resp


class TestMetadataCalls(MetadataTestCase):

    def test_calls_match_samples(self):
        token, server_id = self.boot(metadata={'initial': 'one'})
        sample = api_samples.load
        # POST merges.
        resp = self.call('POST', server_id, '',
                         sample('server-metadata/server-metadata-all-req.json'), token)
        self.assertEqual({'metadata': {'initial': 'one', 'foo': 'Foo Value'}}, resp.json)
        api_samples.assert_like(self, sample('server-metadata/server-metadata-all-resp.json'),
                                {'metadata': {'foo': resp.json['metadata']['foo']}})
        # PUT replaces everything.
        resp = self.call('PUT', server_id, '',
                         sample('server-metadata/server-metadata-all-req.json'), token)
        self.assertEqual(sample('server-metadata/server-metadata-all-resp.json'), resp.json)
        self.assertEqual(resp.json, self.call('GET', server_id, token=token).json)
        self.assertEqual({'meta': {'foo': 'Foo Value'}},
                         self.call('GET', server_id, '/foo', token=token).json)
        api_samples.assert_like(self, sample('server-metadata/server-metadata-resp.json'),
                                self.call('GET', server_id, '/foo', token=token).json)
        # PUT one key: create or replace it.
        resp = self.call('PUT', server_id, '/foo',
                         sample('server-metadata/server-metadata-req.json'), token)
        self.assertEqual(sample('server-metadata/server-metadata-req.json'), resp.json)
        resp = self.call('PUT', server_id, '/new key', {'meta': {'new key': 'v'}}, token)
        self.assertEqual({'meta': {'new key': 'v'}}, resp.json)
        self.assertEqual({'foo': 'Bar Value', 'new key': 'v'},
                         self.call('GET', server_id, token=token).json['metadata'])
        # DELETE one key.
        resp = self.call('DELETE', server_id, '/foo', token=token, code=204)
        self.assertEqual(b'', resp.get_data())
        resp = self.call('GET', server_id, '/foo', token=token, code=404)
        self.assertEqual('Metadata item was not found', resp.json['itemNotFound']['message'])
        self.call('DELETE', server_id, '/foo', token=token, code=404)
        # The server views show the same metadata.
        self.assertEqual({'new key': 'v'}, self.cloud.get_server(server_id)['metadata'])
        # An empty PUT clears it.
        self.call('PUT', server_id, '', {'metadata': {}}, token)
        self.assertEqual({}, self.call('GET', server_id, token=token).json['metadata'])

    def test_validation(self):
        token, server_id = self.boot()
        for body in ({}, {'metadata': []}, {'metadata': {'k': 1}},
                     {'metadata': {'bad/key': 'v'}}, {'metadata': {'': 'v'}},
                     {'metadata': {'k': 'v' * 256}}, {'metadata': {'k' * 256: 'v'}},
                     {'metadata': {}, 'extra': 1}):
            self.call('POST', server_id, '', body, token, code=400)
            self.call('PUT', server_id, '', body, token, code=400)
        for body in ({'meta': {}}, {'meta': {'a': '1', 'b': '2'}}, {'metadata': {'a': '1'}}):
            self.call('PUT', server_id, '/a', body, token, code=400)
        resp = self.call('PUT', server_id, '/a', {'meta': {'b': '1'}}, token, code=400)
        self.assertEqual('Request body and URI mismatch', resp.json['badRequest']['message'])
        self.assertEqual({}, self.call('GET', server_id, token=token).json['metadata'])

    def test_metadata_items_quota(self):
        self.addCleanup(CONF.clear_override, 'metadata_items', group='quota')
        CONF.set_override('metadata_items', 2, group='quota')
        token, server_id = self.boot()
        self.call('POST', server_id, '', {'metadata': {'a': '1', 'b': '2'}}, token)
        resp = self.call('POST', server_id, '', {'metadata': {'c': '3'}}, token, code=403)
        self.assertEqual('Maximum number of metadata items exceeds 2',
                         resp.json['forbidden']['message'])
        self.call('PUT', server_id, '/c', {'meta': {'c': '3'}}, token, code=403)
        self.call('PUT', server_id, '', {'metadata': {'a': '1', 'b': '2', 'c': '3'}}, token,
                  code=403)
        # Replacing a value, or replacing all with as many, stays within the quota.
        self.call('PUT', server_id, '/a', {'meta': {'a': 'x'}}, token)
        self.call('PUT', server_id, '', {'metadata': {'c': '3', 'd': '4'}}, token)
        self.assertEqual({'c': '3', 'd': '4'},
                         self.call('GET', server_id, token=token).json['metadata'])
        # A project's own quota (os-quota-sets) wins over the default.
        with session.transaction() as s:
            s.add(models.Quota(project_id=token.split(':')[1], user_id='',
                               resource='metadata_items', hard_limit=3))
        self.call('POST', server_id, '', {'metadata': {'e': '5'}}, token)
        CONF.set_override('metadata_items', -1, group='quota')
        self.call('POST', server_id, '', {'metadata': {'f': '6'}}, token, code=403)


class TestMetadataRules(MetadataTestCase):

    def test_vm_states(self):
        token, server_id = self.boot(metadata={'k': 'v'})
        for vm_state in ('active', 'paused', 'suspended', 'stopped'):
            set_vm_state(server_id, vm_state)
            self.call('POST', server_id, '', {'metadata': {vm_state: 'ok'}}, token)
        for vm_state in ('error', 'building', 'rescued', 'resized', 'shelved',
                         'soft-delete'):
            set_vm_state(server_id, vm_state)
            resp = self.call('POST', server_id, '', {'metadata': {'x': 'y'}}, token, code=409)
            self.assertEqual(f"Cannot 'update metadata' instance {server_id} while it is in "
                             f'vm_state {vm_state}', resp.json['conflictingRequest']['message'])
            self.call('PUT', server_id, '', {'metadata': {}}, token, code=409)
            self.call('PUT', server_id, '/k', {'meta': {'k': 'w'}}, token, code=409)
            resp = self.call('DELETE', server_id, '/k', token=token, code=409)
            self.assertIn("Cannot 'delete metadata'", resp.json['conflictingRequest']['message'])
            # Reading is always fine.
            self.call('GET', server_id, '/k', token=token)
        set_vm_state(server_id, 'active')
        self.assertEqual({'k': 'v', 'active': 'ok', 'paused': 'ok', 'suspended': 'ok',
                          'stopped': 'ok'},
                         self.call('GET', server_id, token=token).json['metadata'])

    def test_locked_server(self):
        token, server_id = self.boot()
        resp = self.cloud.request('POST', f'/v2.1/servers/{server_id}/action', token=token,
                                  json={'lock': None})
        self.assertEqual(202, resp.status_code)
        resp = self.call('POST', server_id, '', {'metadata': {'a': '1'}}, token, code=409)
        self.assertEqual(f'Instance {server_id} is locked',
                         resp.json['conflictingRequest']['message'])
        self.call('PUT', server_id, '/a', {'meta': {'a': '1'}}, token, code=409)
        # Admins are not held by locks.
        self.call('POST', server_id, '', {'metadata': {'a': '1'}}, ADMIN)
        self.call('DELETE', server_id, '/a', token=token, code=409)
        self.call('DELETE', server_id, '/a', token=ADMIN, code=204)

    def test_policy_and_scoping(self):
        token, server_id = self.boot(metadata={'k': 'v'})
        other = self.new_token()
        for method, path, body in (('GET', '', None), ('GET', '/k', None),
                                   ('POST', '', {'metadata': {'a': '1'}}),
                                   ('PUT', '', {'metadata': {'a': '1'}}),
                                   ('PUT', '/k', {'meta': {'k': '1'}}),
                                   ('DELETE', '/k', None)):
            resp = self.call(method, server_id, path, body, other, code=404)
            self.assertEqual(f'Instance {server_id} could not be found.',
                             resp.json['itemNotFound']['message'])
        roles.allow_role_override(self.cloud.app)
        reader = roles.READER
        self.call('GET', server_id, '', token=token, headers=reader)
        self.call('GET', server_id, '/k', token=token, headers=reader)
        for method, path, body in (('POST', '', {'metadata': {'a': '1'}}),
                                   ('PUT', '', {'metadata': {'a': '1'}}),
                                   ('PUT', '/k', {'meta': {'k': '1'}}),
                                   ('DELETE', '/k', None)):
            resp = self.call(method, server_id, path, body, token, code=403,
                             headers=reader)
            self.assertIn("Policy doesn't allow os_compute_api:server-metadata:",
                          resp.json['forbidden']['message'])
        self.assertEqual({'k': 'v'}, self.call('GET', server_id, token=token).json['metadata'])
        # The admin may act on any project's server.
        self.call('POST', server_id, '', {'metadata': {'by': 'admin'}}, ADMIN)
        self.call('GET', '00000000-0000-0000-0000-000000000000', token=token, code=404)

    def test_deleted_server(self):
        token, server_id = self.boot()
        self.cloud.request('DELETE', f'/v2.1/servers/{server_id}', token=token)
        self.cloud.wait_for_status(server_id, 'DELETED')
        self.call('GET', server_id, token=token, code=404)
        self.call('POST', server_id, '', {'metadata': {'a': '1'}}, token, code=404)
