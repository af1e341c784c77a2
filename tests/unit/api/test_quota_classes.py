"""os-quota-class-sets at 2.1, 2.50 and 2.57 (the keys of each window), its rules and policy,
and the 'default' class as the defaults of every project: quota-sets, limits and
admission of servers honour it, and a project's own limits still win."""
from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg

from kumo_common.db import models, session
from tests.fixtures import cloud
from tests.unit.api.test_quotas import QuotaTestCase

CONF = cfg.CONF
# At each edge of the windows that 2.50 and 2.57 draw (os-quota-class-sets.inc).
VERSIONS = ('2.1', '2.49', '2.50', '2.56', '2.57', '2.100')
NETWORK_KEYS = {'fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules'}
FILE_KEYS = {'injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'}
GROUP_KEYS = {'server_groups', 'server_group_members'}
ALL_KEYS = ({'cores', 'instances', 'key_pairs', 'metadata_items', 'ram'}
            | NETWORK_KEYS | FILE_KEYS | GROUP_KEYS)


def _keys(version: str) -> set[str]:
    """The limits a quota class shows at a microversion: 2.50 drops the network
    quotas and adds the server group ones, 2.57 drops the injected files."""
    minor = int(version.split('.')[1])
    keys = ALL_KEYS - (GROUP_KEYS if minor < 50 else NETWORK_KEYS)
    return keys - FILE_KEYS if minor >= 57 else keys


def _drop_class(class_name: str) -> None:
    # No REST call removes a class's limits (Nova has none either).
    with session.transaction() as s:
        s.execute(sa.delete(models.QuotaClass).where(
            models.QuotaClass.class_name == class_name))


class QuotaClassTestCase(QuotaTestCase):

    def set_class(self, class_name, values, version=None, status=200):
        if class_name == 'default':
            self.addCleanup(_drop_class, 'default')
        return self.call('PUT', f'/os-quota-class-sets/{class_name}', version=version,
                         json={'quota_class_set': values}, status=status)


class TestQuotaClassShape(QuotaClassTestCase):
    """The keys of each microversion window, with Nova's values: the network quotas
    -1 before 2.50 unless set (as Nova's database driver keeps them), no `id` in an
    update's answer."""

    def expected(self, version: str, limits: dict, with_id: bool) -> dict:
        keys = _keys(version)
        body = {key: (limits.get(key, -1) if key in NETWORK_KEYS else limits[key])
                for key in keys}
        if with_id:
            body['id'] = 'test_class'
        return {'quota_class_set': body}

    def test_show(self):
        # Nova's option for the path limit has another name than the quota.
        option = {'injected_file_path_bytes': 'injected_file_path_length'}
        defaults = {key: getattr(CONF.quota, option.get(key, key)) for key in ALL_KEYS
                    if key not in NETWORK_KEYS}
        for version in VERSIONS:
            body = self.call('GET', '/os-quota-class-sets/test_class', version=version)
            self.assertEqual(self.expected(version, defaults, with_id=True), body, version)

    def test_update(self):
        for version in VERSIONS:
            wanted = {key: 40 + n for n, key in enumerate(sorted(_keys(version)))}
            class_name = f'class-{version}'
            body = self.call('PUT', f'/os-quota-class-sets/{class_name}', version=version,
                             json={'quota_class_set': wanted})
            self.assertEqual(self.expected(version, wanted, with_id=False), body, version)
            # Stored: shown again, with the class id.
            shown = self.call('GET', f'/os-quota-class-sets/{class_name}',
                              version=version)['quota_class_set']
            self.assertEqual(class_name, shown.pop('id'))
            self.assertEqual(body['quota_class_set'], shown)


class TestQuotaClassRules(QuotaClassTestCase):

    def test_keys_per_microversion(self):
        self.set_class('gold', {'server_groups': 3, 'injected_files': 2}, version='2.1')
        old = self.call('GET', '/os-quota-class-sets/gold', version='2.49')
        self.assertNotIn('server_groups', old['quota_class_set'])
        self.assertEqual(2, old['quota_class_set']['injected_files'])
        new = self.call('GET', '/os-quota-class-sets/gold', version='2.50')
        self.assertEqual(3, new['quota_class_set']['server_groups'])
        # A class without a limit of its own shows the default.
        self.assertEqual(CONF.quota.server_group_members,
                         new['quota_class_set']['server_group_members'])
        self.assertNotIn('injected_files',
                         self.call('GET', '/os-quota-class-sets/gold',
                                   version='2.57')['quota_class_set'])

    def test_bad_values(self):
        for version, values in (
                ('2.1', {'instances': -2}), ('2.1', {'instances': 'many'}),
                ('2.1', {'instances': 1.5}), ('2.1', {'nope': 1}),
                ('2.1', {'force': True}), ('2.1', {'instances': 2147483648}),
                ('2.50', {'floating_ips': 1}), ('2.50', {'networks': 1}),
                ('2.57', {'injected_files': 1})):
            self.set_class('bad', values, version=version, status=400)
        self.call('PUT', '/os-quota-class-sets/bad', json={'quota_set': {}}, status=400)
        body = self.set_class('x' * 256, {'instances': 1}, status=400)
        self.assertEqual('quota_class_name has 256 characters, more than 255.',
                         self.fault(body))
        # Accepted where the microversion knows them, and kept, as Nova's database
        # quota driver keeps them (Tempest's test_update_default_quotas sends them).
        body = self.set_class('bad', {'floating_ips': 5, 'networks': 3, 'instances': '7'},
                              version='2.49')
        self.assertEqual((5, 7), (body['quota_class_set']['floating_ips'],
                                  body['quota_class_set']['instances']))
        shown = self.call('GET', '/os-quota-class-sets/bad', version='2.49')
        self.assertEqual(5, shown['quota_class_set']['floating_ips'])

    def test_policy(self):
        token = self.new_token()
        body = self.call('GET', '/os-quota-class-sets/default', token=token, status=403)
        self.assertEqual("Policy doesn't allow os_compute_api:os-quota-class-sets:show to "
                         'be performed.', self.fault(body))
        body = self.call('PUT', '/os-quota-class-sets/default', token=token,
                         json={'quota_class_set': {'instances': 100}}, status=403)
        self.assertEqual("Policy doesn't allow os_compute_api:os-quota-class-sets:update "
                         'to be performed.', self.fault(body))
        self.assertEqual(CONF.quota.instances,
                         self.call('GET', '/os-quota-class-sets/default')
                         ['quota_class_set']['instances'])


class TestDefaultClass(QuotaClassTestCase):
    """The 'default' class replaces the [quota] options for every project."""

    def setUp(self):
        super().setUp()
        self.token = self.new_token()
        self.project = self.token.split(':')[1]

    def test_defaults_show_and_limits_follow_it(self):
        self.set_class('default', {'instances': 4, 'cores': 6, 'key_pairs': 7})
        for path in (f'/os-quota-sets/{self.project}',
                     f'/os-quota-sets/{self.project}/defaults',
                     f'/os-quota-sets/{self.project}?user_id=someone'):
            quota_set = self.call('GET', path, token=self.token)['quota_set']
            self.assertEqual((4, 6, 7, CONF.quota.ram),
                             (quota_set['instances'], quota_set['cores'],
                              quota_set['key_pairs'], quota_set['ram']), path)
        detail = self.call('GET', f'/os-quota-sets/{self.project}/detail')['quota_set']
        self.assertEqual({'in_use': 0, 'limit': 4, 'reserved': 0}, detail['instances'])
        absolute = self.call('GET', '/limits', token=self.token)['limits']['absolute']
        self.assertEqual((4, 6, 7), (absolute['maxTotalInstances'],
                                     absolute['maxTotalCores'],
                                     absolute['maxTotalKeypairs']))
        # A project's own limit still wins over the class.
        self.set_quota(self.project, {'instances': 9})
        self.assertEqual(9, self.call('GET', f'/os-quota-sets/{self.project}')
                         ['quota_set']['instances'])
        self.assertEqual(4, self.call('GET', f'/os-quota-sets/{self.project}/defaults')
                         ['quota_set']['instances'])
        other = self.new_token()
        self.assertEqual(4, self.call('GET', '/limits', token=other)
                         ['limits']['absolute']['maxTotalInstances'])
        # Other classes are used for nothing.
        self.set_class('gold', {'instances': 1})
        self.assertEqual(4, self.call('GET', '/limits', token=other)
                         ['limits']['absolute']['maxTotalInstances'])

    def test_lowered_default_class_blocks_a_create(self):
        self.cloud.create_server(token=self.token)
        self.set_class('default', {'instances': 1})
        body = self.cloud.request('POST', '/v2.1/servers', token=self.token, version='2.37',
                                  json={'server': {'name': 'vm2',
                                                   'flavorRef': cloud.FLAVOR_TINY,
                                                   'imageRef': cloud.IMAGE_ID,
                                                   'networks': 'auto'}})
        self.assertEqual(403, body.status_code, body.get_data(True))
        self.assertEqual('Quota exceeded for instances: Requested 1, but already used 1 of '
                         '1 instances', self.fault(body.json))
        # Raised again (a project override would do too): the create goes through.
        self.set_class('default', {'instances': 2})
        self.cloud.create_server(name='vm2', token=self.token)

    def test_lowered_default_class_blocks_keypairs_and_groups(self):
        self.set_class('default', {'key_pairs': 0, 'server_groups': 0}, version='2.50')
        body = self.call('POST', '/os-keypairs', token=self.token, version='2.2',
                         json={'keypair': {'name': 'k'}}, status=403)
        self.assertEqual('Quota exceeded, too many key pairs.', self.fault(body))
        body = self.call('POST', '/os-server-groups', token=self.token,
                         json={'server_group': {'name': 'g', 'policies': ['affinity']}},
                         status=403)
        self.assertEqual('Quota exceeded, too many server groups.', self.fault(body))
