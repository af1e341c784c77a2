"""os-server-groups end to end: create/show/list/delete against the samples of 2.1,
2.13 and 2.64, validation per microversion, policy and scoping, members, and the
server_groups / server_group_members quotas (also under concurrency, on SQLite,
PostgreSQL and MariaDB)."""
from __future__ import annotations

import json
import threading
import uuid

import sqlalchemy as sa
import testtools

from kumo_common.db import models, session
from tests.fixtures import cloud, database
from tests.unit.api import api_samples, roles
from tests.unit.api.test_quotas import ApiOnly

ADMIN = cloud.ADMIN_TOKEN
# The samples' owner: a member of the samples' project, so ids of people match.
SAMPLE_OWNER = f'fake:{api_samples.SAMPLE_PROJECT}'


def _replace(sample, old: str, new: str):
    """The sample with one id string replaced everywhere (ids differ by nature)."""
    return json.loads(json.dumps(sample).replace(old, new))


class GroupTestCase(cloud.CloudTestCase):
    COMPUTES = 1

    def setUp(self):
        super().setUp()
        roles.allow_role_override(self.cloud.app)
        self.token = self.new_token()
        self.project = self.token.split(':')[1]

    def call(self, method, path, token=None, version=None, json=None, status=200,
             headers=None):
        resp = self.cloud.request(method, '/v2.1' + path, token=token or self.token,
                                  version=version, json=json, headers=headers)
        self.assertEqual(status, resp.status_code, resp.get_data(True))
        return resp.json

    def create(self, name='group', policy='anti-affinity', version='2.64', token=None,
               rules=None, status=200):
        body = {'name': name, 'policy': policy}
        if int(version.split('.')[1]) < 64:
            body = {'name': name, 'policies': [policy]}
        if rules is not None:
            body['rules'] = rules
        return self.call('POST', '/os-server-groups', token=token, version=version,
                         json={'server_group': body}, status=status)

    @staticmethod
    def fault(body) -> str:
        return next(iter(body.values()))['message']


class TestSamples(GroupTestCase):

    def test_create_show_list_per_microversion(self):
        for version, folder in (('2.1', ''), ('2.12', ''), ('2.13', 'v2.13/'),
                                ('2.63', 'v2.13/'), ('2.64', 'v2.64/'), ('2.100', 'v2.64/')):
            token = f'fake:{uuid.uuid4().hex}'
            request = api_samples.load(f'os-server-groups/{folder}server-groups-post-req.json')
            created = self.call('POST', '/os-server-groups', token=token, version=version,
                                json=request)
            group_id = created['server_group']['id']
            ours = {'5bbcc3c4-1da2-4437-a48a-66f15b1b13f9': group_id,
                    '616fb98f-46ca-475e-917e-2563e5a8cd19': group_id,
                    api_samples.SAMPLE_PROJECT: token.split(':')[1]}
            shown = self.call('GET', f'/os-server-groups/{group_id}', token=token,
                              version=version)
            listed = self.call('GET', '/os-server-groups', token=token, version=version)
            for name, actual in (('server-groups-post-resp.json', created),
                                 ('server-groups-get-resp.json', shown),
                                 ('server-groups-list-resp.json', listed)):
                expected = api_samples.load(f'os-server-groups/{folder}{name}')
                for old, new in ours.items():
                    expected = _replace(expected, old, new)
                api_samples.assert_like(self, expected, actual, where=f'{name} {version}')

    def test_sample_of_servers_2_71(self):
        # The group the 2.71 server samples boot into, made by user "admin".
        token = f'admin:{api_samples.SAMPLE_PROJECT}'
        created = self.call('POST', '/os-server-groups', token=token, version='2.71',
                            json=api_samples.load('servers/v2.71/server-groups-post-req.json'))
        api_samples.assert_like(
            self, _replace(api_samples.load('servers/v2.71/server-groups-post-resp.json'),
                           'f3d86fe6-4246-4be8-b87c-eb894626c741',
                           created['server_group']['id']), created)


class TestValidation(GroupTestCase):

    def test_policies_per_microversion(self):
        for version, policy, status in (
                ('2.1', 'affinity', 200), ('2.1', 'anti-affinity', 200),
                ('2.14', 'soft-affinity', 400), ('2.15', 'soft-affinity', 200),
                ('2.15', 'soft-anti-affinity', 200), ('2.64', 'soft-affinity', 200),
                ('2.64', 'other', 400), ('2.1', 'other', 400)):
            self.create(policy=policy, version=version, status=status)

    def test_policies_list_shape(self):
        for policies in ([], ['affinity', 'anti-affinity'], ['affinity', 'affinity'],
                         'affinity'):
            body = self.call('POST', '/os-server-groups', version='2.15', status=400,
                             json={'server_group': {'name': 'g', 'policies': policies}})
            self.assertIn('policies', self.fault(body))

    def test_policy_and_policies_by_microversion(self):
        body = self.call('POST', '/os-server-groups', version='2.64', status=400,
                         json={'server_group': {'name': 'g', 'policies': ['affinity']}})
        # jsonschema's best error (as in Nova) is the missing one; the hint still helps.
        self.assertIn("'policy' is a required property ('policies' is available up to "
                      'microversion 2.63)', self.fault(body))
        body = self.call('POST', '/os-server-groups', version='2.64', status=400,
                         json={'server_group': {'name': 'g', 'policy': 'affinity',
                                                'policies': ['affinity']}})
        self.assertIn("('policies' was unexpected) (available up to microversion 2.63)",
                      self.fault(body))
        body = self.call('POST', '/os-server-groups', version='2.63', status=400,
                         json={'server_group': {'name': 'g', 'policies': ['affinity'],
                                                'rules': {}}})
        self.assertIn("('rules' was unexpected) (available from microversion 2.64)",
                      self.fault(body))

    def test_rules(self):
        group = self.create(rules={'max_server_per_host': '2'})['server_group']
        self.assertEqual({'max_server_per_host': 2}, group['rules'])
        self.assertEqual({}, self.create(policy='affinity', rules={})['server_group']['rules'])
        body = self.create(policy='affinity', rules={'max_server_per_host': 2}, status=400)
        self.assertEqual('Only anti-affinity policy supports rules.', self.fault(body))
        for rules in ({'max_server_per_host': 0}, {'max_server_per_host': -1},
                      {'max_server_per_host': 'x'}, {'other': 1}):
            self.create(rules=rules, status=400)

    def test_names(self):
        for name in ('', ' lead', 'trail ', 'x' * 256, 'line\nbreak'):
            body = self.create(name=name, status=400)
            self.assertIn('name', self.fault(body))
        self.assertEqual('x' * 255, self.create(name='x' * 255)['server_group']['name'])
        self.call('POST', '/os-server-groups', version='2.64', status=400,
                  json={'server_group': {'policy': 'affinity'}})
        self.call('POST', '/os-server-groups', version='2.64', status=400,
                  json={'server_group': {'name': 'g', 'policy': 'affinity', 'extra': 1}})


class TestListing(GroupTestCase):

    def test_scoping_and_all_projects(self):
        mine = self.create(name='mine')['server_group']['id']
        other_token = self.new_token()
        theirs = self.create(name='theirs', token=other_token)['server_group']['id']
        listed = [g['id'] for g in
                  self.call('GET', '/os-server-groups', version='2.13')['server_groups']]
        self.assertEqual([mine], listed)
        # A member asking for all projects gets their own (Nova ignores it for them).
        listed = [g['id'] for g in self.call('GET', '/os-server-groups?all_projects=True',
                                             version='2.13')['server_groups']]
        self.assertEqual([mine], listed)
        every = [g['id'] for g in self.call('GET', '/os-server-groups?all_projects',
                                            token=ADMIN)['server_groups']]
        self.assertIn(mine, every)
        self.assertIn(theirs, every)
        own = [g['id'] for g in self.call('GET', '/os-server-groups',
                                          token=ADMIN)['server_groups']]
        self.assertNotIn(mine, own)

    def test_limit_and_offset(self):
        ids = [self.create(name=f'g{n}')['server_group']['id'] for n in range(4)]
        page = self.call('GET', '/os-server-groups?limit=2&offset=1')['server_groups']
        self.assertEqual(ids[1:3], [g['id'] for g in page])
        page = self.call('GET', '/os-server-groups?offset=3')['server_groups']
        self.assertEqual(ids[3:], [g['id'] for g in page])
        self.assertEqual([], self.call('GET', '/os-server-groups?limit=0')['server_groups'])
        for query in ('limit=-1', 'limit=x', 'offset=-1', 'offset=', 'limit='):
            body = self.call('GET', f'/os-server-groups?{query}', status=400)
            self.assertIn('Invalid input for query parameters', self.fault(body))

    def test_unknown_query_parameters(self):
        self.call('GET', '/os-server-groups?foo=1', version='2.74')
        body = self.call('GET', '/os-server-groups?foo=1', version='2.75', status=400)
        self.assertIn("'foo' was unexpected", self.fault(body))


class TestPolicy(GroupTestCase):

    def test_other_projects_group(self):
        group_id = self.create()['server_group']['id']
        other = self.new_token()
        for method, action in (('GET', 'show'), ('DELETE', 'delete')):
            body = self.call(method, f'/os-server-groups/{group_id}', token=other,
                             status=403)
            self.assertEqual(f"Policy doesn't allow os_compute_api:os-server-groups:{action} "
                             'to be performed.', self.fault(body))
        self.call('GET', f'/os-server-groups/{group_id}', token=ADMIN)
        self.call('DELETE', f'/os-server-groups/{group_id}', token=ADMIN, status=204)
        self.call('GET', f'/os-server-groups/{group_id}', status=404)

    def test_reader(self):
        group_id = self.create()['server_group']['id']
        self.call('GET', '/os-server-groups', headers=roles.READER)
        self.call('GET', f'/os-server-groups/{group_id}', headers=roles.READER)
        for method, path, json_body in (
                ('POST', '/os-server-groups',
                 {'server_group': {'name': 'g', 'policies': ['affinity']}}),
                ('DELETE', f'/os-server-groups/{group_id}', None)):
            body = self.call(method, path, json=json_body, headers=roles.READER, status=403)
            self.assertIn("Policy doesn't allow os_compute_api:os-server-groups:",
                          self.fault(body))

    def test_not_found(self):
        missing = str(uuid.uuid4())
        for method in ('GET', 'DELETE'):
            body = self.call(method, f'/os-server-groups/{missing}', status=404)
            self.assertEqual(f'Instance group {missing} could not be found.',
                             self.fault(body))


class TestMembers(GroupTestCase):
    COMPUTES = 2

    def boot(self, group_id, token=None, status=202, **server):
        body = {'name': 'member', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID,
                'networks': 'none', **server}
        return self.call('POST', '/servers', token=token, version='2.37', status=status,
                         json={'server': body, 'os:scheduler_hints': {'group': group_id}})

    def test_members_come_and_go(self):
        group_id = self.create(policy='anti-affinity')['server_group']['id']
        first = self.boot(group_id)['server']['id']
        second = self.boot(group_id)['server']['id']
        for server_id in (first, second):
            self.cloud.wait_for_status(server_id, 'ACTIVE')
        shown = self.call('GET', f'/os-server-groups/{group_id}')['server_group']
        self.assertEqual([first, second], shown['members'])
        self.assertEqual([group_id], self.cloud.get_server(first, version='2.71')
                         ['server_groups'])
        hosts = {self.cloud.get_server(s)['OS-EXT-SRV-ATTR:host'] for s in (first, second)}
        self.assertEqual(2, len(hosts))
        self.call('DELETE', f'/servers/{first}', status=204)
        self.cloud.wait_for_status(first, 'DELETED')
        listed = self.call('GET', '/os-server-groups')['server_groups']
        self.assertEqual([second], listed[0]['members'])
        # Deleting the group leaves its servers alone.
        self.call('DELETE', f'/os-server-groups/{group_id}', status=204)
        self.assertEqual([], self.cloud.get_server(second, version='2.71')['server_groups'])

    def test_group_of_another_project(self):
        group_id = self.create(token=self.new_token())['server_group']['id']
        body = self.boot(group_id, status=400)
        self.assertEqual(f'Instance group {group_id} could not be found.', self.fault(body))


class TestQuota(GroupTestCase):

    def set_quota(self, values):
        self.call('PUT', f'/os-quota-sets/{self.project}', token=ADMIN,
                  json={'quota_set': values})

    def boot(self, group_id, status=202, **server):
        body = {'name': 'member', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID,
                'networks': 'none', **server}
        return self.call('POST', '/servers', version='2.37', status=status,
                         json={'server': body, 'os:scheduler_hints': {'group': group_id}})

    def test_server_groups(self):
        self.set_quota({'server_groups': 2})
        first = self.create()['server_group']['id']
        self.create()
        body = self.create(status=403)
        self.assertEqual('Quota exceeded, too many server groups.', self.fault(body))
        # Quota before the rules check, as Nova.
        body = self.create(policy='affinity', rules={'max_server_per_host': 2}, status=403)
        self.assertEqual('Quota exceeded, too many server groups.', self.fault(body))
        limits = self.call('GET', '/limits')['limits']['absolute']
        self.assertEqual((2, 2), (limits['maxServerGroups'], limits['totalServerGroupsUsed']))
        self.call('DELETE', f'/os-server-groups/{first}', status=204)
        self.create()

    def test_server_group_members(self):
        self.set_quota({'server_group_members': 2})
        group_id = self.create(policy='soft-anti-affinity', version='2.15')['server_group']['id']
        body = self.boot(group_id, min_count=3, status=403)
        self.assertEqual('Quota exceeded, too many servers in group', self.fault(body))
        first = self.boot(group_id)['server']['id']
        self.boot(group_id)
        body = self.boot(group_id, status=403)
        self.assertEqual('Quota exceeded, too many servers in group', self.fault(body))
        # Nothing of the refused requests was kept.
        members = self.call('GET', f'/os-server-groups/{group_id}')['server_group']['members']
        self.assertEqual(2, len(members))
        self.assertEqual(2, len(self.call('GET', '/servers')['servers']))
        # A deleted member gives its place back; another group has its own count.
        self.cloud.wait_for_status(first, 'ACTIVE')
        self.call('DELETE', f'/servers/{first}', status=204)
        self.cloud.wait_for_status(first, 'DELETED')
        self.boot(group_id)
        other = self.create(policy='soft-affinity', version='2.15')['server_group']['id']
        self.boot(other, min_count=2)


class TestConcurrentGroupQuota(testtools.TestCase):
    """Creates at once against the group quotas: exactly the limit gets in."""

    THREADS = 12
    LIMIT = 3

    def _race(self, backend: str, members: bool) -> None:
        database.require_backend(self, backend)
        api = self.useFixture(ApiOnly(backend, {
            ('quota', 'server_groups'): self.LIMIT,
            ('quota', 'server_group_members'): self.LIMIT,
            ('database', 'max_overflow'): 30}))
        project = f'race-{uuid.uuid4().hex[:8]}'
        token = f'racer:{project}'
        group_id = None
        if members:
            resp = api.app.test_client().post(
                '/v2.1/os-server-groups', headers={'X-Auth-Token': token},
                json={'server_group': {'name': 'g', 'policies': ['anti-affinity']}})
            group_id = resp.json['server_group']['id']
        barrier = threading.Barrier(self.THREADS)
        statuses: list[int] = []
        lock = threading.Lock()

        def create(n: int) -> None:
            client = api.app.test_client()
            barrier.wait()
            if members:
                resp = client.post('/v2.1/servers', headers={
                    'X-Auth-Token': token, 'OpenStack-API-Version': 'compute 2.37'},
                    json={'server': {'name': f'vm{n}', 'flavorRef': '1',
                                     'imageRef': cloud.IMAGE_ID, 'networks': 'none'},
                          'os:scheduler_hints': {'group': group_id}})
            else:
                resp = client.post('/v2.1/os-server-groups', headers={'X-Auth-Token': token},
                                   json={'server_group': {'name': f'g{n}',
                                                          'policies': ['affinity']}})
            with lock:
                statuses.append(resp.status_code)

        threads = [threading.Thread(target=create, args=(n,)) for n in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        ok = 202 if members else 200
        self.assertEqual({ok: self.LIMIT, 403: self.THREADS - self.LIMIT},
                         {code: statuses.count(code) for code in set(statuses)})
        with session.reader() as s:
            if members:
                count = s.scalar(sa.select(sa.func.count(models.ServerGroupMember.id)))
            else:
                count = s.scalar(sa.select(sa.func.count(models.ServerGroup.id)).where(
                    models.ServerGroup.project_id == project))
        self.assertEqual(self.LIMIT, count)

    def test_groups_sqlite(self):
        self._race('sqlite', members=False)

    def test_groups_postgresql(self):
        self._race('postgresql', members=False)

    def test_groups_mysql(self):
        self._race('mysql', members=False)

    def test_members_sqlite(self):
        self._race('sqlite', members=True)

    def test_members_postgresql(self):
        self._race('postgresql', members=True)

    def test_members_mysql(self):
        self._race('mysql', members=True)
