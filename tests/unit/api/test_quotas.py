"""os-quota-sets against the samples, quota updates and their rules, policy, and
admission of servers: partial fit, per-user limits, release on delete, and no
overshoot under concurrency on SQLite, PostgreSQL and MariaDB."""
from __future__ import annotations

import contextlib
import io
import threading
import uuid

import fixtures
import sqlalchemy as sa
import testtools
from oslo_config import cfg

from kumo_api import policy
from kumo_common import context as kumo_context
from kumo_common import quota, rpc
from kumo_common.cmd import manage
from kumo_common.db import models, session
from tests.fixtures import cloud, database
from tests.unit.api import api_samples

CONF = cfg.CONF
ADMIN = cloud.ADMIN_TOKEN


class QuotaTestCase(cloud.CloudTestCase):
    COMPUTES = 1

    def call(self, method, path, token=ADMIN, version=None, json=None, status=200):
        resp = self.cloud.request(method, '/v2.1' + path, token=token, version=version,
                                  json=json)
        self.assertEqual(status, resp.status_code, resp.get_data(True))
        return resp.json

    def set_quota(self, project, values, user=None, version=None):
        query = f'?user_id={user}' if user else ''
        return self.call('PUT', f'/os-quota-sets/{project}{query}', version=version,
                         json={'quota_set': values})

    @staticmethod
    def fault(body) -> str:
        return next(iter(body.values()))['message']


class TestQuotaSetSamples(QuotaTestCase):

    def test_show_defaults_and_detail(self):
        for version, folder in (('2.1', ''), ('2.35', ''), ('2.36', 'v2.36/'),
                                ('2.56', 'v2.36/'), ('2.57', 'v2.57/'), ('2.100', 'v2.57/')):
            for path, sample in (('', 'quotas-show-get-resp.json'),
                                 ('/defaults', 'quotas-show-defaults-get-resp.json'),
                                 ('/detail', 'quotas-show-detail-get-resp.json')):
                body = self.call('GET', f'/os-quota-sets/fake_tenant{path}', version=version)
                api_samples.assert_like(
                    self, api_samples.load(f'os-quota-sets/{folder}{sample}'), body)
            body = self.call('GET', '/os-quota-sets/fake_tenant?user_id=fake',
                             version=version)
            api_samples.assert_like(
                self, api_samples.load(f'os-quota-sets/{folder}user-quotas-show-get-resp.json'),
                body)

    def test_updates(self):
        for version, folder in (('2.1', ''), ('2.36', 'v2.36/'), ('2.57', 'v2.57/')):
            for request, response, user in (
                    ('quotas-update-post-req.json', 'quotas-update-post-resp.json', None),
                    ('quotas-update-force-post-req.json',
                     'quotas-update-force-post-resp.json', None),
                    ('user-quotas-update-post-req.json',
                     'user-quotas-update-post-resp.json', 'fake')):
                project = f'p-{uuid.uuid4().hex[:8]}'
                query = f'?user_id={user}' if user else ''
                body = self.call('PUT', f'/os-quota-sets/{project}{query}', version=version,
                                 json=api_samples.load(f'os-quota-sets/{folder}{request}'))
                api_samples.assert_like(
                    self, api_samples.load(f'os-quota-sets/{folder}{response}'), body)


class TestQuotaSetRules(QuotaTestCase):

    def test_update_keeps_usage(self):
        token = self.new_token()
        project = token.split(':')[1]
        self.cloud.create_server(token=token)
        body = self.call('PUT', f'/os-quota-sets/{project}',
                         json={'quota_set': {'instances': 0}}, status=400)
        self.assertEqual('Quota limit 0 for instances must be greater than or equal to '
                         'already used and reserved 1.', self.fault(body))
        body = self.set_quota(project, {'instances': 0, 'force': True})
        self.assertEqual(0, body['quota_set']['instances'])
        self.set_quota(project, {'instances': -1})
        self.set_quota(project, {'cores': '7', 'ram': 1024})
        detail = self.call('GET', f'/os-quota-sets/{project}/detail')['quota_set']
        self.assertEqual({'in_use': 1, 'limit': -1, 'reserved': 0}, detail['instances'])
        self.assertEqual({'in_use': 1, 'limit': 7, 'reserved': 0}, detail['cores'])
        self.assertEqual({'in_use': 512, 'limit': 1024, 'reserved': 0}, detail['ram'])

    def test_bad_values(self):
        project = f'p-{uuid.uuid4().hex[:8]}'
        body = self.call('PUT', f'/os-quota-sets/{project}',
                         json={'quota_set': {'instances': '-5'}}, status=400)
        self.assertEqual('Quota limit -5 for instances must be -1 or greater.',
                         self.fault(body))
        for values in ({'instances': -2}, {'instances': 'many'}, {'nope': 1},
                       {'instances': 1.5}, {'force': 'maybe'}):
            self.call('PUT', f'/os-quota-sets/{project}', json={'quota_set': values},
                      status=400)
        # Network and personality quotas go with their microversions.
        self.set_quota(project, {'floating_ips': 3}, version='2.35')
        self.call('PUT', f'/os-quota-sets/{project}', version='2.36',
                  json={'quota_set': {'floating_ips': 3}}, status=400)
        self.set_quota(project, {'injected_files': 3}, version='2.56')
        self.call('PUT', f'/os-quota-sets/{project}', version='2.57',
                  json={'quota_set': {'injected_files': 3}}, status=400)
        self.assertEqual(3, self.call('GET', f'/os-quota-sets/{project}',
                                      version='2.35')['quota_set']['floating_ips'])

    def test_user_quotas(self):
        project = f'p-{uuid.uuid4().hex[:8]}'
        self.set_quota(project, {'instances': 10})
        body = self.call('PUT', f'/os-quota-sets/{project}?user_id=u1',
                         json={'quota_set': {'instances': 11}}, status=400)
        self.assertEqual('Quota limit 11 for instances must be less than or equal to 10.',
                         self.fault(body))
        self.set_quota(project, {'instances': 6}, user='u1')
        # What other users were given is no longer the project's to hand out.
        body = self.call('PUT', f'/os-quota-sets/{project}?user_id=u2',
                         json={'quota_set': {'instances': 5}}, status=400)
        self.assertEqual('Quota limit 5 for instances must be less than or equal to 4.',
                         self.fault(body))
        self.set_quota(project, {'instances': 4}, user='u2')
        self.assertEqual(6, self.call('GET', f'/os-quota-sets/{project}?user_id=u1')
                         ['quota_set']['instances'])
        self.assertEqual(10, self.call('GET', f'/os-quota-sets/{project}')
                         ['quota_set']['instances'])
        # Deleting a user's quotas: back to the project's; the project's: all of them.
        self.call('DELETE', f'/os-quota-sets/{project}?user_id=u1', status=202)
        self.assertEqual(10, self.call('GET', f'/os-quota-sets/{project}?user_id=u1')
                         ['quota_set']['instances'])
        self.assertEqual(4, self.call('GET', f'/os-quota-sets/{project}?user_id=u2')
                         ['quota_set']['instances'])
        self.call('DELETE', f'/os-quota-sets/{project}', status=202)
        for query in ('', '?user_id=u2'):
            self.assertEqual(CONF.quota.instances,
                             self.call('GET', f'/os-quota-sets/{project}{query}')
                             ['quota_set']['instances'])

    def test_policy_over_http(self):
        token = self.new_token()
        project = token.split(':')[1]
        self.call('GET', f'/os-quota-sets/{project}', token=token)
        self.call('GET', f'/os-quota-sets/{project}/detail', token=token)
        self.call('GET', '/os-quota-sets/another/defaults', token=token)
        for method, path in (('GET', '/os-quota-sets/another'),
                             ('GET', '/os-quota-sets/another/detail'),
                             ('DELETE', f'/os-quota-sets/{project}')):
            body = self.call(method, path, token=token, status=403)
            self.assertIn("Policy doesn't allow os_compute_api:os-quota-sets:",
                          self.fault(body))
        body = self.call('PUT', f'/os-quota-sets/{project}', token=token,
                         json={'quota_set': {'instances': 100}}, status=403)
        self.assertEqual("Policy doesn't allow os_compute_api:os-quota-sets:update to be "
                         'performed.', self.fault(body))
        self.call('GET', '/os-quota-sets/x?foo=1', version='2.75', status=400)


class TestPolicyDefaults(testtools.TestCase):
    """Nova's defaults for admin, member and reader (noauth2 cannot make a reader)."""

    ROLES = {'admin': ['admin', 'member', 'reader'], 'member': ['member', 'reader'],
             'reader': ['reader']}
    # rule, target project (or None: the caller's), who may
    MATRIX = [
        ('os_compute_api:os-flavor-manage:create', None, {'admin'}),
        ('os_compute_api:os-flavor-manage:update', None, {'admin'}),
        ('os_compute_api:os-flavor-manage:delete', None, {'admin'}),
        ('os_compute_api:os-flavor-access', None, {'admin'}),
        ('os_compute_api:os-flavor-access:add_tenant_access', None, {'admin'}),
        ('os_compute_api:os-flavor-access:remove_tenant_access', None, {'admin'}),
        ('os_compute_api:os-flavor-extra-specs:index', None, {'admin', 'member', 'reader'}),
        ('os_compute_api:os-flavor-extra-specs:show', None, {'admin', 'member', 'reader'}),
        ('os_compute_api:os-flavor-extra-specs:create', None, {'admin'}),
        ('os_compute_api:os-flavor-extra-specs:update', None, {'admin'}),
        ('os_compute_api:os-flavor-extra-specs:delete', None, {'admin'}),
        ('os_compute_api:os-quota-sets:show', None, {'admin', 'member', 'reader'}),
        ('os_compute_api:os-quota-sets:show', 'other', {'admin'}),
        ('os_compute_api:os-quota-sets:detail', None, {'admin', 'member', 'reader'}),
        ('os_compute_api:os-quota-sets:detail', 'other', {'admin'}),
        ('os_compute_api:os-quota-sets:defaults', 'other', {'admin', 'member', 'reader'}),
        ('os_compute_api:os-quota-sets:update', None, {'admin'}),
        ('os_compute_api:os-quota-sets:delete', None, {'admin'}),
        ('os_compute_api:limits', None, {'admin', 'member', 'reader'}),
        ('os_compute_api:limits:other_project', 'other', {'admin'}),
    ]

    def setUp(self):
        super().setUp()
        cloud.ensure_conf_parsed()
        policy.reset()
        self.addCleanup(policy.reset)

    def _context(self, who: str, user: str = 'u1') -> kumo_context.RequestContext:
        return kumo_context.RequestContext(user_id=user, project_id='mine',
                                           roles=self.ROLES[who])

    def test_matrix(self):
        for rule, project, allowed in self.MATRIX:
            for who in self.ROLES:
                target = {'project_id': project or 'mine', 'user_id': 'u1'}
                self.assertEqual(who in allowed,
                                 policy.authorize(self._context(who), rule, target,
                                                  fatal=False), (rule, project, who))

    def test_keypairs_are_the_users(self):
        for action in ('index', 'create', 'delete', 'show'):
            rule = f'os_compute_api:os-keypairs:{action}'
            for who in self.ROLES:
                own = policy.authorize(self._context(who), rule,
                                       {'user_id': 'u1', 'project_id': 'mine'}, fatal=False)
                other = policy.authorize(self._context(who), rule,
                                         {'user_id': 'u2', 'project_id': 'mine'}, fatal=False)
                self.assertEqual((True, who == 'admin'), (own, other), (rule, who))


class TestAdmission(QuotaTestCase):
    """How many servers a create gets, and the 403s, in Nova's words."""

    def setUp(self):
        super().setUp()
        self.token = self.new_token()
        self.project = self.token.split(':')[1]

    def create(self, token=None, status=202, **server):
        body = {'name': 'vm', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID,
                'networks': 'auto', **server}
        return self.call('POST', '/servers', token=token or self.token, version='2.37',
                         json={'server': body}, status=status)

    def count(self, token=None) -> int:
        return len(self.call('GET', '/servers', token=token or self.token)['servers'])

    def test_partial_fit(self):
        self.set_quota(self.project, {'instances': 3})
        self.create(min_count=2, max_count=5)
        self.assertEqual(3, self.count())
        body = self.create(status=403)
        self.assertEqual('Quota exceeded for instances: Requested 1, but already used 3 of '
                         '3 instances', self.fault(body))
        body = self.create(min_count=2, max_count=3, status=403)
        self.assertEqual('Quota exceeded for instances: Requested 2-3, but already used 3 '
                         'of 3 instances', self.fault(body))
        self.assertEqual(3, self.count())

    def test_cores_and_ram_bind(self):
        self.set_quota(self.project, {'cores': 3})
        self.create(flavorRef='3', min_count=1, max_count=4)   # 2 vCPUs each: one fits
        self.assertEqual(1, self.count())
        body = self.create(flavorRef='3', min_count=2, max_count=2, status=403)
        self.assertEqual('Quota exceeded for cores: Requested 4, but already used 2 of 3 '
                         'cores', self.fault(body))
        self.set_quota(self.project, {'cores': 100, 'ram': 5000})
        body = self.create(flavorRef='2', min_count=1, max_count=2, status=403)
        self.assertEqual('Quota exceeded for ram: Requested 4096, but already used 4096 of '
                         '5000 ram', self.fault(body))
        self.set_quota(self.project, {'cores': 2, 'ram': 4096})
        body = self.create(flavorRef='2', status=403)
        self.assertEqual('Quota exceeded for cores, ram: Requested 1, 2048, but already used '
                         '2, 4096 of 2, 4096 cores, ram', self.fault(body))

    def test_user_quota(self):
        self.set_quota(self.project, {'instances': 1}, user='alice')
        alice = f'alice:{self.project}'
        self.create(token=alice)
        body = self.create(token=alice, status=403)
        self.assertEqual('Quota exceeded for instances: Requested 1, but already used 1 of '
                         '1 instances', self.fault(body))
        # Bob's limit is the project's.
        self.create(token=f'bob:{self.project}', min_count=2, max_count=2)
        detail = self.call('GET', f'/os-quota-sets/{self.project}/detail?user_id=alice')
        self.assertEqual({'in_use': 1, 'limit': 1, 'reserved': 0},
                         detail['quota_set']['instances'])
        detail = self.call('GET', f'/os-quota-sets/{self.project}/detail')
        self.assertEqual(3, detail['quota_set']['instances']['in_use'])

    def test_delete_gives_back(self):
        self.set_quota(self.project, {'instances': 1})
        server = self.create()['server']
        self.create(status=403)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.call('DELETE', f'/servers/{server["id"]}', token=self.token, status=204)
        self.cloud.wait_for_status(server['id'], 'DELETED')
        self.create()
        with session.reader() as s:
            self.assertEqual(1, quota.usage(s, self.project)['instances'])

    def test_metadata_items(self):
        self.set_quota(self.project, {'metadata_items': 1})
        body = self.create(metadata={'a': '1', 'b': '2'}, status=403)
        self.assertEqual('Maximum number of metadata items exceeds 1', self.fault(body))
        self.create(metadata={'a': '1'})

    def test_unlimited(self):
        self.set_quota(self.project, {'instances': -1, 'cores': -1, 'ram': -1})
        self.create(min_count=12, max_count=12)
        self.assertEqual(12, self.count())


class ApiOnly(fixtures.Fixture):
    """The real API on a fresh database of `backend`; the RPC casts it makes go to an
    in-process transport nobody listens on (admission is all that is exercised)."""

    def __init__(self, backend: str, overrides: dict):
        super().__init__()
        self.backend = backend
        self.overrides = overrides

    def _setUp(self):
        cloud.ensure_conf_parsed()
        cloud.reset_rpc()
        self.addCleanup(cloud.reset_rpc)
        for (group, name), value in {(None, 'transport_url'): 'fake://',
                                     **self.overrides}.items():
            CONF.set_override(name, value, group=group)
            self.addCleanup(CONF.clear_override, name, group=group)
        self.useFixture(database.Database(self.backend))
        with contextlib.redirect_stdout(io.StringIO()):
            manage.cmd_seed(None)
        rpc.init()
        from kumo_api.app import create_app
        self.app = create_app()
        self.app.testing = True


class TestConcurrentAdmission(testtools.TestCase):
    """20 creates at once against a quota of 5 servers: exactly 5 get in."""

    THREADS = 20
    LIMIT = 5

    def _race(self, backend: str) -> None:
        database.require_backend(self, backend)
        api = self.useFixture(ApiOnly(backend, {('quota', 'instances'): self.LIMIT,
                                                ('database', 'max_overflow'): 30}))
        project = f'race-{uuid.uuid4().hex[:8]}'
        barrier = threading.Barrier(self.THREADS)
        statuses: list[int] = []
        messages: set[str] = set()
        lock = threading.Lock()

        def create(n: int) -> None:
            client = api.app.test_client()
            barrier.wait()
            resp = client.post('/v2.1/servers', json={'server': {
                'name': f'vm{n}', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID,
                'networks': 'auto'}}, headers={
                    # Four users of one project: the project's limit is what binds.
                    'X-Auth-Token': f'user{n % 4}:{project}',
                    'OpenStack-API-Version': 'compute 2.37'})
            with lock:
                statuses.append(resp.status_code)
                if resp.status_code == 403:
                    messages.add(resp.json['forbidden']['message'])

        threads = [threading.Thread(target=create, args=(n,)) for n in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual({202: self.LIMIT, 403: self.THREADS - self.LIMIT},
                         {code: statuses.count(code) for code in set(statuses)})
        self.assertEqual({'Quota exceeded for instances: Requested 1, but already used 5 '
                          'of 5 instances'}, messages)
        with session.reader() as s:
            live = s.scalar(sa.select(sa.func.count(models.Instance.id)).where(
                models.Instance.project_id == project, models.Instance.deleted == 0))
            ledger = dict(s.execute(sa.select(models.QuotaUsage.user_id,
                                              models.QuotaUsage.in_use).where(
                models.QuotaUsage.project_id == project,
                models.QuotaUsage.resource == 'instances')).all())
        self.assertEqual(self.LIMIT, live)
        self.assertEqual(self.LIMIT, ledger.pop(''))
        self.assertEqual(self.LIMIT, sum(ledger.values()))

    def test_sqlite(self):
        self._race('sqlite')

    def test_postgresql(self):
        self._race('postgresql')

    def test_mysql(self):
        self._race('mysql')
