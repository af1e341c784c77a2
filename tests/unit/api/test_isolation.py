"""Isolation: another project cannot reach a project's things; a reader changes nothing.

The routes come from the app's url_map (kumo_api.openapi.described_rules), so a new
route is covered the day it is registered: the matrix fails if it does not know
what to put in one of its path parameters (PATH_VALUES) or what body to send to a
write (BODIES), rather than skip it.

* Another project: every route that names a resource, called by a member of project
  B with project A's server, private flavor, key pair, server group, ..., answers as
  it would for a resource that does not exist (404, or 403 for admin-only routes),
  except where Nova refuses by policy instead (CROSS_PROJECT_403). Lists never show
  A's things to B; another project's id in the URL is a 400.
* A reader of project A: every POST/PUT/PATCH/DELETE route, with a valid body and A's
  own resources, is a 403 (but key pairs, which Nova lets any user manage for
  themselves: READER_MAY_WRITE).
* Afterwards A's things are exactly as they were.
"""
from __future__ import annotations

import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kumo_api import openapi
from kumo_api.resources import server_actions
from tests.fixtures import cloud
from tests.unit.api import roles

VERSION = '2.100'
WRITES = ('POST', 'PUT', 'PATCH', 'DELETE')

# Routes without a resource of another project in them: B's own scope (lists,
# creates), version discovery. Checked by test_lists_hide_other_projects instead.
OWN_SCOPE = {
    'versions.versions_index', 'versions.version_v21', 'versions.version_v20',
    'openapi.openapi_document',
    'version_show.show_version', 'extensions.list_extensions',
    'extensions.show_extension',
    'servers.create_server', 'servers.list_servers', 'servers.list_servers_detail',
    'keypairs.list_keypairs', 'keypairs.create_keypair', 'limits.show_limits',
    'flavors.list_flavors', 'flavors.list_flavors_detail', 'flavors.create_flavor',
    'server_groups.list_server_groups', 'server_groups.create_server_group',
    'scheduler.dry_run', 'scheduler.capabilities', 'availability_zones.list_zones',
    'availability_zones.list_zones_detail', 'images.list_images',
    'images.list_images_detail', 'services.list_services', 'hypervisors.list_hypervisors',
    'hypervisors.list_hypervisors_detail', 'hypervisors.hypervisor_statistics',
    'aggregates.list_aggregates', 'aggregates.create_aggregate', 'hosts.list_hosts',
    'network_proxies.list_networks', 'network_proxies.list_tenant_networks',
    'security_groups.list_security_groups', 'security_groups.create_security_group',
    # The defaults are every project's (Nova's policy: anyone).
    'quota_sets.show_defaults',
}
# Nova refuses these by policy on the resource's project (403), not as missing.
CROSS_PROJECT_403 = {'server_groups.show_server_group', 'server_groups.delete_server_group'}
# Nova: key pairs belong to the user ("admin or user_id:%(user_id)s"), whatever role.
READER_MAY_WRITE = {'keypairs.create_keypair', 'keypairs.delete_keypair'}


def _removed_at(endpoint: str, version: str) -> bool:
    """Whether the endpoint is gone (404 for everyone) at this microversion."""
    removed = openapi.OPERATIONS[endpoint].removed
    return removed is not None and tuple(map(int, version.split('.'))) >= removed


def _public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode()


def _network_of(project_id: str) -> str:
    """A network of the project's own (not shared), made in the database."""
    from kumo_common.db import networks as network_db
    from kumo_common.db import session
    with session.transaction() as s:
        return network_db.add_network(s, name='owned', project_id=project_id).id


def _port_of(server_id: str) -> str:
    """The server's port (an os-interface path's port_id)."""
    from kumo_common.db import network_cache, session
    with session.reader() as s:
        return network_cache.ports(s, server_id)[0].id


def _security_group_of(project_id: str) -> dict[str, str]:
    """The project's default security group and one of its rules, made in the
    database (the proxies' path values)."""
    from kumo_common.db import security_groups as sg_db
    from kumo_common.db import session
    sg_db.ensure_default(project_id)
    with session.reader() as s:
        group = s.get(sg_db.Group, sg_db.default_group_id(project_id))
        return {'security_group_id': group.id, 'rule_id': group.rules[0].id}


def _server_body() -> dict:
    return {'server': {'name': 'vm', 'flavorRef': cloud.FLAVOR_TINY,
                       'imageRef': cloud.IMAGE_ID, 'networks': 'auto'}}


# A valid body for every write route (so that a refusal is not a 400); `key` is the
# metadata / extra spec key in the path.
BODIES = {
    'servers.create_server': lambda v: _server_body(),
    'servers.update_server': lambda v: {'server': {'name': 'renamed'}},
    'scheduler.dry_run': lambda v: _server_body(),
    'server_metadata.update_metadata': lambda v: {'metadata': {'other': 'x'}},
    'server_metadata.replace_metadata': lambda v: {'metadata': {'other': 'x'}},
    'server_metadata.update_metadata_item': lambda v: {'meta': {v['key']: 'changed'}},
    'server_tags.replace_tags': lambda v: {'tags': ['other']},
    'flavors.create_flavor': lambda v: {'flavor': {'name': f'f-{uuid.uuid4().hex[:6]}',
                                                   'ram': 64, 'vcpus': 1, 'disk': 1}},
    'flavors.update_flavor': lambda v: {'flavor': {'description': 'changed'}},
    'flavor_access.flavor_action': lambda v: {'addTenantAccess': {'tenant': 'intruder'}},
    'flavor_extra_specs.create_extra_specs': lambda v: {'extra_specs': {'other': 'x'}},
    'flavor_extra_specs.update_extra_spec': lambda v: {v['key']: 'changed'},
    'keypairs.create_keypair': lambda v: {'keypair': {'name': f'k-{uuid.uuid4().hex[:6]}',
                                                      'public_key': _public_key()}},
    'quota_sets.update_quota_set': lambda v: {'quota_set': {'instances': 1}},
    'quota_class_sets.update_quota_class_set': lambda v: {
        'quota_class_set': {'instances': 1}},
    'services.update_service': lambda v: {'status': 'disabled'},
    'hosts.update_host': lambda v: {'status': 'enable'},
    'aggregates.create_aggregate': lambda v: {'aggregate': {'name': 'intruder'}},
    'aggregates.update_aggregate': lambda v: {'aggregate': {'name': 'intruder'}},
    'aggregates.aggregate_action': lambda v: {'set_metadata': {'metadata': {'a': 'b'}}},
    'aggregates.cache_images': lambda v: {'cache': [{'id': cloud.IMAGE_ID}]},
    'server_groups.create_server_group': lambda v: {'server_group': {
        'name': 'g', 'policy': 'affinity'}},
    'image_metadata.update_image_metadata': lambda v: {'metadata': {'other': 'x'}},
    'image_metadata.replace_image_metadata': lambda v: {'metadata': {'other': 'x'}},
    'image_metadata.update_image_metadata_item': lambda v: {'meta': {v['key']: 'x'}},
    'volume_attachments.attach_volume': lambda v: {'volumeAttachment': {
        'volumeId': v['volume_id']}},
    'volume_attachments.update_volume_attachment': lambda v: {'volumeAttachment': {
        'volumeId': v['volume_id']}},
    'attach_interfaces.attach_interface': lambda v: {'interfaceAttachment': {
        'port_id': v['port_id']}},
    'server_external_events.create_events': lambda v: {'events': [
        {'name': 'network-changed', 'server_uuid': v['server_id']}]},
    'security_groups.create_security_group': lambda v: {'security_group': {
        'name': 'intruder', 'description': ''}},
    'security_groups.update_security_group': lambda v: {'security_group': {
        'name': 'renamed', 'description': ''}},
    'remote_consoles.create_remote_console': lambda v: {'remote_console': {
        'protocol': 'serial', 'type': 'serial'}},
    'security_groups.create_security_group_rule': lambda v: {'security_group_rule': {
        'parent_group_id': v['security_group_id'], 'ip_protocol': 'tcp', 'from_port': 22,
        'to_port': 22, 'cidr': '10.0.0.0/8'}},
    'migrations.server_migration_action': lambda v: {'force_complete': None},
}
# Writes that take no body.
NO_BODY = {'servers.delete_server', 'server_metadata.delete_metadata_item',
           'server_tags.delete_all_tags', 'server_tags.add_tag', 'server_tags.delete_tag',
           'flavors.delete_flavor', 'flavor_extra_specs.delete_extra_spec',
           'keypairs.delete_keypair', 'quota_sets.delete_quota_set',
           'services.delete_service', 'aggregates.delete_aggregate',
           'server_groups.delete_server_group', 'images.delete_image',
           'image_metadata.delete_image_metadata_item',
           'server_password.clear_password', 'volume_attachments.detach_volume',
           'attach_interfaces.detach_interface', 'security_groups.delete_security_group',
           'security_groups.delete_security_group_rule', 'migrations.abort_server_migration'}
# Every action of POST /servers/{id}/action, each with a valid body.
_ACTION_BODIES = {'reboot': {'type': 'SOFT'}, 'changePassword': {'adminPass': 'pw'},
                  'createImage': {'name': 'snap'},
                  'createBackup': {'name': 'b', 'backup_type': 'daily', 'rotation': 1},
                  'rebuild': {'imageRef': '70a599e0-31e7-49b7-b260-868f441e862b'},
                  'os-resetState': {'state': 'active'}, 'rescue': {'adminPass': 'pw'},
                  'os-migrateLive': {'host': None, 'block_migration': 'auto'},
                  'os-getConsoleOutput': {'length': 5}, 'resize': {'flavorRef': '2'},
                  'addSecurityGroup': {'name': 'default'},
                  'removeSecurityGroup': {'name': 'default'},
                  'evacuate': {'host': 'compute1'}}


def action_bodies() -> dict[str, dict]:
    # (Actions gone by VERSION, e.g. the pre-2.6 console actions, are a 404 for all.)
    return {name: {name: _ACTION_BODIES.get(name)}
            for name, (_handler, windows) in server_actions.ACTIONS.items()
            if windows[-1][1] >= tuple(map(int, VERSION.split('.')))}


def _path(rule, values: dict[str, str]) -> str:
    path = rule.rule
    for argument in rule.arguments:
        if argument not in values:
            raise AssertionError(f'{rule.rule}: no value for <{argument}>; add one to '
                                 'the owner\'s resources in test_isolation.py')
        path = path.replace(f'<{argument}>', values[argument])
    return path


class TestIsolation(cloud.CloudTestCase):
    COMPUTES = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        roles.allow_role_override(cls.cloud.app)

    def setUp(self):
        super().setUp()
        suffix = uuid.uuid4().hex[:8]
        self.project_a, self.project_b = f'proj-a-{suffix}', f'proj-b-{suffix}'
        self.owner = f'alice-{suffix}:{self.project_a}'
        self.other = f'bob-{suffix}:{self.project_b}'
        self.values = self._owner_resources()

    # --- A's things --------------------------------------------------------------------
    def req(self, method, path, token, json=None, headers=None):
        return self.cloud.request(method, path, token=token, version=VERSION, json=json,
                                  headers=headers)

    def ok(self, resp, *codes):
        self.assertIn(resp.status_code, codes or (200,), resp.get_data(True))
        return resp.json if resp.data and resp.mimetype == 'application/json' else None

    def _owner_resources(self) -> dict[str, str]:
        admin = cloud.ADMIN_TOKEN
        server = self.cloud.create_server('owned', token=self.owner, version=VERSION)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        sid = server['id']
        self.ok(self.req('PUT', f'/v2.1/servers/{sid}/metadata/owned-key', self.owner,
                         {'meta': {'owned-key': 'v'}}))
        self.ok(self.req('PUT', f'/v2.1/servers/{sid}/tags/owned-tag', self.owner), 201)
        actions = self.ok(self.req('GET', f'/v2.1/servers/{sid}/os-instance-actions',
                                   self.owner))['instanceActions']
        flavor = self.ok(self.req('POST', '/v2.1/flavors', admin, {'flavor': {
            'name': f'private-{uuid.uuid4().hex[:6]}', 'ram': 64, 'vcpus': 1, 'disk': 1,
            'os-flavor-access:is_public': False}}))['flavor']
        self.ok(self.req('POST', f"/v2.1/flavors/{flavor['id']}/action", admin,
                         {'addTenantAccess': {'tenant': self.project_a}}))
        self.ok(self.req('POST', f"/v2.1/flavors/{flavor['id']}/os-extra_specs", admin,
                         {'extra_specs': {'owned-key': 'v'}}))
        keypair = f'owned-{uuid.uuid4().hex[:6]}'
        self.ok(self.req('POST', '/v2.1/os-keypairs', self.owner, {'keypair': {
            'name': keypair, 'public_key': _public_key()}}), 201)
        group = self.ok(self.req('POST', '/v2.1/os-server-groups', self.owner, {
            'server_group': {'name': 'owned', 'policy': 'affinity'}}))['server_group']
        aggregate = self.ok(self.req('POST', '/v2.1/os-aggregates', admin, {'aggregate': {
            'name': f'agg-{uuid.uuid4().hex[:6]}'}}))['aggregate']
        hypervisor = self.ok(self.req('GET', '/v2.1/os-hypervisors', admin))['hypervisors'][0]
        service = self.ok(self.req('GET', '/v2.1/os-services', admin))['services'][0]
        return {'server_id': sid, 'key': 'owned-key', 'tag': 'owned-tag',
                'request_id': actions[0]['request_id'], 'flavor_id': flavor['id'],
                'name': keypair, 'group_id': group['id'], 'aggregate_id': str(aggregate['id']),
                'hypervisor_id': str(hypervisor['id']), 'service_id': str(service['id']),
                'tenant_id': self.project_a, 'pattern': hypervisor['hypervisor_hostname'],
                'host_name': hypervisor['hypervisor_hostname'],
                'image_id': cloud.IMAGE_ID, 'class_name': 'default', 'migration_id': '1',
                'network_label': 'private', 'network_id': _network_of(self.project_a),
                'before_timestamp': '2026-01-01 00:00:00', 'volume_id': str(uuid.uuid4()),
                'port_id': _port_of(sid), 'token': 'no-such-console-token',
                'version_id': 'v2.1', 'alias': 'os-keypairs',
                **_security_group_of(self.project_a)}

    def _missing(self) -> dict[str, str]:
        """The same values with A's own things replaced by things that do not exist."""
        return {**self.values, 'server_id': str(uuid.uuid4()), 'flavor_id': 'no-such-flavor',
                'name': 'no-such-keypair', 'group_id': str(uuid.uuid4()),
                'request_id': f'req-{uuid.uuid4()}'}

    def _snapshot(self) -> dict:
        """What A can see of its things (compared before and after)."""
        v, a = self.values, self.owner
        server = self.ok(self.req('GET', f"/v2.1/servers/{v['server_id']}", a))['server']
        flavor = self.ok(self.req('GET', f"/v2.1/flavors/{v['flavor_id']}", a))['flavor']
        return {
            'server': {k: server[k] for k in ('name', 'status', 'locked', 'metadata',
                                              'tags', 'OS-EXT-STS:task_state')},
            'flavor': flavor,
            'keypair': self.ok(self.req('GET', f"/v2.1/os-keypairs/{v['name']}",
                                        a))['keypair'],
            'group': self.ok(self.req('GET', f"/v2.1/os-server-groups/{v['group_id']}",
                                      a))['server_group'],
            'quota': self.ok(self.req('GET', f'/v2.1/os-quota-sets/{self.project_a}',
                                      cloud.ADMIN_TOKEN))['quota_set'],
        }

    def _calls(self, values: dict[str, str], methods=None):
        """(endpoint, method, path, body) of every route, actions one by one."""
        for rule in sorted(openapi.described_rules(self.cloud.app), key=lambda r: r.rule):
            for method in openapi.methods_of(rule):
                if methods is not None and method not in methods:
                    continue
                path = _path(rule, values)
                if rule.endpoint == 'server_actions.server_action':
                    for body in action_bodies().values():
                        yield rule.endpoint, method, path, body
                    continue
                if method in WRITES and rule.endpoint not in NO_BODY:
                    self.assertIn(rule.endpoint, BODIES,
                                  f'{method} {rule.rule}: add a valid body to BODIES')
                    yield rule.endpoint, method, path, BODIES[rule.endpoint](values)
                else:
                    yield rule.endpoint, method, path, None

    # --- the matrix ----------------------------------------------------------------------
    def test_other_project_gets_not_found(self):
        before = self._snapshot()
        pairs = zip(self._calls(self.values), self._calls(self._missing()), strict=True)
        checked = 0
        for (endpoint, method, path, body), (_e, _m, missing_path, _b) in pairs:
            if endpoint in OWN_SCOPE:
                continue
            resp = self.req(method, path, self.other, json=body)
            where = f'{method} {path} as another project ({endpoint})'
            if endpoint in CROSS_PROJECT_403:
                self.assertEqual(403, resp.status_code, where)
            else:
                self.assertIn(resp.status_code, (403, 404), f'{where}: {resp.get_data(True)}')
                unknown = self.req(method, missing_path, self.other, json=body)
                self.assertEqual(unknown.status_code, resp.status_code,
                                 f'{where}: not answered as for a missing resource '
                                 f'({unknown.status_code}): {resp.get_data(True)}')
            self.assertEqual(1, len(resp.json), where)  # a Nova fault
            checked += 1
        self.assertGreater(checked, 30)
        self.assertEqual(before, self._snapshot())

    def test_other_project_id_in_url_is_refused(self):
        sid = self.values['server_id']
        for method, path in (('GET', f'/v2.1/{self.project_a}/servers'),
                             ('GET', f'/v2.1/{self.project_a}/servers/{sid}'),
                             ('DELETE', f'/v2.1/{self.project_a}/servers/{sid}')):
            resp = self.req(method, path, self.other)
            self.assertEqual(400, resp.status_code, resp.get_data(True))
            self.assertIn("doesn't match Context's project_id", resp.json['badRequest']
                          ['message'])
        # The owner's own project id in the URL is fine.
        self.ok(self.req('GET', f'/v2.1/{self.project_a}/servers/{sid}', self.owner))
        self.ok(self.req('GET', f'/v2.1/{self.project_a}/servers/{sid}', self.owner))

    def test_lists_hide_other_projects(self):
        v, b = self.values, self.other
        for path in ('/v2.1/servers', '/v2.1/servers/detail'):
            ids = [s['id'] for s in self.ok(self.req('GET', path, b))['servers']]
            self.assertNotIn(v['server_id'], ids)
            self.assertEqual(403, self.req('GET', path + '?all_tenants=1', b).status_code)
            # Another project's id as a filter changes nothing for a non-admin.
            ids = [s['id'] for s in self.ok(self.req(
                'GET', f"{path}?project_id={self.project_a}&tenant_id={self.project_a}",
                b))['servers']]
            self.assertNotIn(v['server_id'], ids)
        flavors = self.ok(self.req('GET', '/v2.1/flavors', b))['flavors']
        self.assertNotIn(v['flavor_id'], [f['id'] for f in flavors])
        self.assertIn(v['flavor_id'], [f['id'] for f in self.ok(
            self.req('GET', '/v2.1/flavors', self.owner))['flavors']])
        keypairs = self.ok(self.req('GET', '/v2.1/os-keypairs', b))['keypairs']
        self.assertEqual([], keypairs)
        for query in ('', '?all_projects=1'):
            groups = self.ok(self.req('GET', f'/v2.1/os-server-groups{query}',
                                      b))['server_groups']
            self.assertEqual([], groups)
        owner_user = self.owner.split(':')[0]
        self.assertEqual(403, self.req('GET', f'/v2.1/os-keypairs?user_id={owner_user}',
                                       b).status_code)
        self.assertEqual(403, self.req('GET', f'/v2.1/limits?tenant_id={self.project_a}',
                                       b).status_code)

    def test_reader_cannot_change_anything(self):
        before = self._snapshot()
        checked = 0
        for endpoint, method, path, body in self._calls(self.values, methods=WRITES):
            if endpoint in READER_MAY_WRITE or _removed_at(endpoint, VERSION):
                continue
            resp = self.req(method, path, self.owner, json=body, headers=roles.READER)
            self.assertEqual(403, resp.status_code,
                             f'{method} {path} ({endpoint}) as a reader of the owning '
                             f'project, body {body}: {resp.get_data(True)}')
            self.assertIn('forbidden', resp.json)
            checked += 1
        self.assertGreater(checked, 30)
        self.assertEqual(before, self._snapshot())
        # The same writes from a member are allowed (the 403s were the reader's).
        sid = self.values['server_id']
        self.ok(self.req('PUT', f'/v2.1/servers/{sid}', self.owner,
                         {'server': {'name': 'renamed'}}))
