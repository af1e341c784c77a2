"""os-simple-tenant-usage end to end: Nova's hours and totals over a period, the
list (admins; detailed or not) and a project's show, the period's validation, 2.40
paging with its next links, 2.75's strict query, and policy.

Servers are booted through the API; their launched_at/terminated_at are then moved
into a period of the past that belongs to one test. Each test's period is a day
before the previous test's: the servers of the tests before it (still running, but
launched later) and those booted by other means (launched now) are outside it.
"""
from __future__ import annotations

import datetime
import itertools
import json
import urllib.parse
import uuid

import sqlalchemy as sa

from kumo_common.db import models, session
from tests.fixtures import cloud
from tests.unit.api import roles

ADMIN = cloud.ADMIN_TOKEN
HOUR = datetime.timedelta(hours=1)
# Each test's period starts on a day of its own, earlier than the previous one's.
_DAYS = itertools.count()
# The keys of a server_usages item and of a project's summary (Nova's schema).
ITEM_KEYS = {'ended_at', 'flavor', 'hours', 'instance_id', 'local_gb', 'memory_mb', 'name',
             'started_at', 'state', 'tenant_id', 'uptime', 'vcpus'}
SUMMARY_KEYS = {'start', 'stop', 'tenant_id', 'total_hours', 'total_local_gb_usage',
                'total_memory_mb_usage', 'total_vcpus_usage'}


def _text(at: datetime.datetime) -> str:
    return at.strftime('%Y-%m-%dT%H:%M:%S.%f')


def _project(token: str) -> str:
    return token.split(':')[1]


class UsageCase(cloud.CloudTestCase):
    COMPUTES = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        roles.allow_role_override(cls.cloud.app)

    def setUp(self):
        super().setUp()
        self.base = datetime.datetime(2015, 3, 1) - datetime.timedelta(days=next(_DAYS))

    def boot(self, token: str, launched: datetime.datetime | None,
             terminated: datetime.datetime | None = None, deleted: bool = False,
             flavor: str = cloud.FLAVOR_TINY) -> str:
        """An ACTIVE server (deleted through the API if `deleted`) whose times are then
        set to `launched`/`terminated`; its id."""
        server_id = self.cloud.create_server('used', token=token, flavorRef=flavor)['id']
        self.cloud.wait_for_status(server_id, 'ACTIVE')
        if deleted:
            resp = self.cloud.request('DELETE', f'/v2.1/servers/{server_id}', token=token)
            self.assertEqual(204, resp.status_code, resp.get_data(True))
            self.cloud.wait_for_status(server_id, 'DELETED')
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(models.Instance.uuid == server_id)
                      .values(launched_at=launched, terminated_at=terminated))
        return server_id

    def get(self, path: str, token: str = ADMIN, version: str = '2.1', code: int = 200,
            **query):
        url = f'/v2.1/{path}'
        if query:
            url += '?' + urllib.parse.urlencode(query)
        resp = self.cloud.request('GET', url, token=token, version=version)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json

    def period(self, hours: int = 10) -> dict:
        return {'start': _text(self.base), 'end': _text(self.base + hours * HOUR)}

    def assert_fault(self, body: dict, name: str, message: str) -> None:
        self.assertEqual(message, body[name]['message'])


class TestReports(UsageCase):

    def test_show_hours_totals_and_items(self):
        token = self.new_token()
        flavor = self.make_flavor()
        b = self.base
        running = self.boot(token, b + HOUR, flavor=flavor['id'])
        gone = self.boot(token, b - 2 * HOUR, b + 3 * HOUR, deleted=True)
        self.boot(token, b + 20 * HOUR)                   # after the period
        self.boot(token, b - 5 * HOUR, b - HOUR)          # over before it
        self.boot(token, None)                            # never launched

        body = self.get(f'os-simple-tenant-usage/{_project(token)}', token=token,
                        **self.period())
        self.assertEqual(['tenant_usage'], list(body))
        usage = body['tenant_usage']
        self.assertEqual(SUMMARY_KEYS | {'server_usages'}, set(usage))
        self.assertEqual((_project(token), _text(b), _text(b + 10 * HOUR)),
                         (usage['tenant_id'], usage['start'], usage['stop']))
        # 9 hours of the 2-vCPU flavor (256 MiB, 1+2 GB) and 3 of m1.tiny (512 MiB, 1 GB).
        self.assertEqual((12.0, 2 * 9 + 3.0, 256 * 9 + 512 * 3.0, 3 * 9 + 3.0),
                         (usage['total_hours'], usage['total_vcpus_usage'],
                          usage['total_memory_mb_usage'], usage['total_local_gb_usage']))
        items = {item['instance_id']: item for item in usage['server_usages']}
        self.assertEqual({running, gone}, set(items))
        self.assertEqual(sorted(items), [i['instance_id'] for i in usage['server_usages']])
        for item in items.values():
            self.assertEqual(ITEM_KEYS, set(item))
        self.assertEqual({'hours': 3.0, 'flavor': 'm1.tiny', 'instance_id': gone,
                          'name': 'used', 'tenant_id': _project(token), 'memory_mb': 512,
                          'local_gb': 1, 'vcpus': 1, 'started_at': _text(b - 2 * HOUR),
                          'ended_at': _text(b + 3 * HOUR), 'state': 'terminated',
                          'uptime': 5 * 3600}, items[gone])
        item = items[running]
        self.assertEqual((9.0, flavor['name'], 256, 3, 2, None, 'active', _text(b + HOUR)),
                         (item['hours'], item['flavor'], item['memory_mb'],
                          item['local_gb'], item['vcpus'], item['ended_at'],
                          item['state'], item['started_at']))
        # A running server's uptime runs to now, whatever the period.
        since = (datetime.datetime.utcnow() - (b + HOUR)).total_seconds()
        self.assertTrue(since - 60 < item['uptime'] <= since, item['uptime'])

    def make_flavor(self) -> dict:
        resp = self.cloud.request('POST', '/v2.1/flavors', token=ADMIN, json={'flavor': {
            'name': f'usage-{uuid.uuid4().hex[:6]}', 'ram': 256, 'vcpus': 2, 'disk': 1,
            'OS-FLV-EXT-DATA:ephemeral': 2}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return resp.json['flavor']

    def test_partial_overlaps_and_a_period_ending_in_the_future(self):
        token = self.new_token()
        b = self.base
        early = self.boot(token, b - HOUR, b + HOUR + datetime.timedelta(minutes=30))
        late = self.boot(token, b + 9 * HOUR)
        usage = self.get(f'os-simple-tenant-usage/{_project(token)}', token=token,
                         **self.period())['tenant_usage']
        hours = {i['instance_id']: i['hours'] for i in usage['server_usages']}
        self.assertEqual({early: 1.5, late: 1.0}, hours)
        self.assertEqual(2.5, usage['total_hours'])
        # An end after now is clamped to now; the still-running server runs to it.
        start = datetime.datetime.utcnow() - 2 * HOUR
        with session.transaction() as s:
            s.execute(sa.update(models.Instance).where(models.Instance.uuid == late)
                      .values(launched_at=start))
        usage = self.get(f'os-simple-tenant-usage/{_project(token)}', token=token,
                         start=_text(start),
                         end=_text(start + 48 * HOUR))['tenant_usage']
        stop = datetime.datetime.strptime(usage['stop'], '%Y-%m-%dT%H:%M:%S.%f')
        now = datetime.datetime.utcnow()
        self.assertTrue(now - datetime.timedelta(seconds=30) < stop <= now, usage['stop'])
        (item,) = usage['server_usages']
        self.assertAlmostEqual((stop - start).total_seconds() / 3600.0, item['hours'])

    def test_the_period_is_compared_at_whole_seconds(self):
        # As Nova's, whose database layer gets the period as ISO text without the
        # fraction: launched in the last fraction of a second before the end is out;
        # terminated in the first one before the start is in, with 0 hours.
        token = self.new_token()
        second = datetime.timedelta(seconds=1)
        end = self.base + 10 * HOUR + 0.7 * second
        self.boot(token, self.base + 10 * HOUR + 0.2 * second)
        brief = self.boot(token, self.base - HOUR, self.base + 0.3 * second)
        usage = self.get(f'os-simple-tenant-usage/{_project(token)}', token=token,
                         start=_text(self.base + 0.5 * second),
                         end=_text(end))['tenant_usage']
        self.assertEqual([(brief, 0)], [(i['instance_id'], i['hours'])
                                        for i in usage['server_usages']])
        self.assertEqual('0', json.dumps(usage['total_hours']))

    def test_list_every_project_detailed_or_not(self):
        one, two = self.new_token(), self.new_token()
        first = self.boot(one, self.base)
        second = self.boot(two, self.base + 5 * HOUR, self.base + 7 * HOUR, deleted=True)
        body = self.get('os-simple-tenant-usage', **self.period())
        self.assertEqual(['tenant_usages'], list(body))
        summaries = body['tenant_usages']
        # One summary per project, in project order.
        self.assertEqual(sorted([_project(one), _project(two)]),
                         [u['tenant_id'] for u in summaries])
        by_project = {u['tenant_id']: u for u in summaries}
        for summary in summaries:
            self.assertEqual(SUMMARY_KEYS, set(summary))
        self.assertEqual((10.0, 5120.0), (by_project[_project(one)]['total_hours'],
                                          by_project[_project(one)]['total_memory_mb_usage']))
        self.assertEqual(2.0, by_project[_project(two)]['total_hours'])

        detailed = self.get('os-simple-tenant-usage', detailed='1',
                            **self.period())['tenant_usages']
        items = {u['tenant_id']: [i['instance_id'] for i in u['server_usages']]
                 for u in detailed}
        self.assertEqual({_project(one): [first], _project(two): [second]}, items)
        # Anything but "1" is not detailed, as Nova's.
        for value in ('true', '0'):
            listed = self.get('os-simple-tenant-usage', detailed=value,
                              **self.period())['tenant_usages']
            self.assertNotIn('server_usages', listed[0])

    def test_a_project_without_usage_gets_an_empty_object(self):
        token = self.new_token()
        body = self.get(f'os-simple-tenant-usage/{_project(token)}', token=token,
                        **self.period())
        self.assertEqual({'tenant_usage': {}}, body)
        self.assertEqual({'tenant_usages': []},
                         self.get('os-simple-tenant-usage', version='2.40',
                                  start=_text(self.base - 200 * 24 * HOUR),
                                  end=_text(self.base - 199 * 24 * HOUR)))

    def test_the_project_id_form_of_the_url(self):
        token = self.new_token()
        self.boot(token, self.base)
        project = _project(token)
        body = self.get(f'{project}/os-simple-tenant-usage/{project}', token=token,
                        version='2.40', limit='1', **self.period())
        self.assertEqual(1, len(body['tenant_usage']['server_usages']))
        href = body['tenant_usage_links'][0]['href']
        self.assertTrue(href.startswith(
            f'http://localhost/v2.1/{project}/os-simple-tenant-usage/{project}?'), href)


class TestPolicy(UsageCase):

    def test_list_is_for_admins(self):
        token = self.new_token()
        for headers in ({}, roles.READER):
            resp = self.cloud.request('GET', '/v2.1/os-simple-tenant-usage?detailed=1',
                                      token=token, headers=headers)
            self.assertEqual(403, resp.status_code, resp.get_data(True))
            self.assert_fault(resp.json, 'forbidden', "Policy doesn't allow "
                              'os_compute_api:os-simple-tenant-usage:list to be performed.')

    def test_show_is_for_the_project_and_admins(self):
        owner, other = self.new_token(), self.new_token()
        server = self.boot(owner, self.base)
        path = f'os-simple-tenant-usage/{_project(owner)}'
        for token, headers in ((owner, {}), (owner, roles.READER), (ADMIN, {})):
            resp = self.cloud.request('GET', f'/v2.1/{path}?' + urllib.parse.urlencode(
                self.period()), token=token, headers=headers)
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            self.assertEqual([server], [i['instance_id'] for i in
                                        resp.json['tenant_usage']['server_usages']])
        body = self.get(path, token=other, code=403, **self.period())
        self.assert_fault(body, 'forbidden', "Policy doesn't allow "
                          'os_compute_api:os-simple-tenant-usage:show to be performed.')

    def test_empty_tenant_id_is_not_found(self):
        # Tempest's test_get_usage_tenant_with_empty_tenant_id.
        self.get('os-simple-tenant-usage/', code=404, **self.period())


class TestPeriod(UsageCase):

    def show(self, code: int = 200, version: str = '2.1', **query):
        token = f'user:{self.project}'
        return self.get(f'os-simple-tenant-usage/{self.project}', token=token,
                        version=version, code=code, **query)

    def setUp(self):
        super().setUp()
        self.project = f'project-{uuid.uuid4().hex[:12]}'

    def test_nova_time_formats(self):
        for start in ('2015-03-01T00:00:00', '2015-03-01T00:00:00.5',
                      '2015-03-01 00:00:00.123456'):
            self.assertEqual({}, self.show(start=start, end='2015-03-02T00:00:00')
                             ['tenant_usage'], start)
        # Without an end the period ends now.
        self.show(start='2015-03-01T00:00:00')

    def test_bad_times(self):
        for value in ('2015-03-01', '2015-03-01T00:00:00Z', '2015-03-01T00:00:00+00:00',
                      '2015-03-01 00:00:00', 'yesterday', '2015-13-01T00:00:00'):
            for name in ('start', 'end'):
                query = {'start': '2015-03-01T00:00:00', 'end': '2015-03-02T00:00:00',
                         name: value}
                self.assert_fault(self.show(code=400, **query), 'badRequest',
                                  'Invalid datetime string: Datetime is in invalid format')
        message = 'Invalid start time. The start time cannot occur after the end time.'
        for start, end in (('2015-03-02T00:00:00', '2015-03-01T00:00:00'),
                           ('2015-03-01T00:00:00', '2015-03-01T00:00:00.000000')):
            self.assert_fault(self.show(code=400, start=start, end=end), 'badRequest',
                              message)
            body = self.get('os-simple-tenant-usage', code=400, start=start, end=end)
            self.assert_fault(body, 'badRequest', message)
        # A start in the future is after the end, which defaults to now.
        self.assert_fault(self.show(code=400, start='2999-01-01T00:00:00'), 'badRequest',
                          message)

    def test_unknown_parameters_refused_from_2_75(self):
        period = {'start': '2015-03-01T00:00:00', 'end': '2015-03-02T00:00:00'}
        self.show(version='2.74', other='x', **period)
        self.show(version='2.74', detailed='1', **period)
        body = self.show(code=400, version='2.75', other='x', **period)
        self.assertIn("'other' was unexpected", body['badRequest']['message'])
        # The show has no `detailed`.
        self.show(code=400, version='2.75', detailed='1', **period)
        self.get('os-simple-tenant-usage', version='2.75', detailed='1', **period)
        self.get('os-simple-tenant-usage', code=400, version='2.75', other='x', **period)

    def test_limit_must_be_a_non_negative_integer_from_2_40(self):
        for limit in ('-1', 'abc', ''):
            self.show(code=400, version='2.40', limit=limit)
            self.get('os-simple-tenant-usage', code=400, version='2.40', limit=limit)
        # Before 2.40 it is an unknown parameter, ignored.
        self.show(version='2.39', limit='abc', start='2015-03-01T00:00:00')


class TestPaging(UsageCase):

    def setUp(self):
        super().setUp()
        one, two = self.new_token(), self.new_token()
        self.project = _project(one)
        self.servers = [(_project(t), self.boot(t, self.base + n * HOUR))
                        for n, t in enumerate((one, one, two))]
        # Nova's order: project, then uuid.
        self.order = [sid for _project_id, sid in sorted(self.servers)]

    def walk(self, path: str, links_key: str, usages_key: str, **query) -> list[str]:
        """The server ids of every page, following the next links."""
        seen: list[str] = []
        url = f'/v2.1/{path}?' + urllib.parse.urlencode({**self.period(), **query})
        for _page in range(10):
            resp = self.cloud.request('GET', url, token=ADMIN, version='2.40')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            usages = resp.json[usages_key]
            if isinstance(usages, dict):
                usages = [usages] if usages else []
            ids = [i['instance_id'] for u in usages for i in u.get('server_usages', [])]
            seen.extend(ids)
            links = resp.json.get(links_key)
            if not links:
                return seen
            self.assertEqual([ids[-1]], [urllib.parse.parse_qs(urllib.parse.urlsplit(
                links[0]['href']).query)['marker'][0]])
            url = links[0]['href'].removeprefix('http://localhost')
        raise AssertionError('too many pages')

    def test_list_pages_with_next_links(self):
        self.assertEqual(self.order, self.walk('os-simple-tenant-usage',
                                               'tenant_usages_links', 'tenant_usages',
                                               detailed='1', limit='1'))
        self.assertEqual(self.order, self.walk('os-simple-tenant-usage',
                                               'tenant_usages_links', 'tenant_usages',
                                               detailed='1', limit='2'))
        body = self.get('os-simple-tenant-usage', version='2.40', limit='1',
                        **self.period())
        (summary,) = body['tenant_usages']
        # The servers were launched 0, 1 and 2 hours into the 10-hour period.
        launched = [sid for _project_id, sid in self.servers].index(self.order[0])
        self.assertEqual(10.0 - launched, summary['total_hours'])
        href = body['tenant_usages_links'][0]['href']
        expected = urllib.parse.urlencode(sorted(
            {**self.period(), 'limit': '1', 'marker': self.order[0]}.items()))
        self.assertEqual(f'http://localhost/v2.1/os-simple-tenant-usage?{expected}', href)

    def test_show_pages_with_next_links(self):
        mine = [sid for project, sid in sorted(self.servers) if project == self.project]
        path = f'os-simple-tenant-usage/{self.project}'
        self.assertEqual(mine, self.walk(path, 'tenant_usage_links', 'tenant_usage',
                                         limit='1'))
        body = self.get(path, version='2.40', limit='1', **self.period())
        expected = urllib.parse.urlencode(sorted(
            {**self.period(), 'limit': '1', 'marker': mine[0]}.items()))
        self.assertEqual([{'rel': 'next',
                           'href': f'http://localhost/v2.1/{path}?{expected}'}],
                         body['tenant_usage_links'])

    def test_marker(self):
        after_first = self.get('os-simple-tenant-usage', version='2.40', detailed='1',
                               marker=self.order[0], **self.period())
        self.assertEqual(self.order[1:], [i['instance_id'] for u in
                                          after_first['tenant_usages']
                                          for i in u['server_usages']])
        self.assertNotIn('tenant_usages_links', after_first)
        # The last server as marker: nothing after it (Nova's bug 1796689).
        self.assertEqual({'tenant_usages': []},
                         self.get('os-simple-tenant-usage', version='2.40',
                                  marker=self.order[-1], **self.period()))
        unknown = str(uuid.uuid4())
        body = self.get('os-simple-tenant-usage', version='2.40', code=400, marker=unknown,
                        **self.period())
        self.assert_fault(body, 'badRequest', f'Marker {unknown} could not be found.')

    def test_no_paging_before_2_40(self):
        body = self.get('os-simple-tenant-usage', version='2.39', detailed='1', limit='1',
                        marker=str(uuid.uuid4()), **self.period())
        self.assertEqual(['tenant_usages'], list(body))
        self.assertEqual(self.order, [i['instance_id'] for u in body['tenant_usages']
                                      for i in u['server_usages']])
