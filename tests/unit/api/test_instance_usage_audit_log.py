"""os-instance_usage_audit_log end to end: Nova's report for a period no compute host
has audited (Kumo runs no usage audit), made from the cloud's real compute services;
the period (the last completed month before the time asked, as Nova's
last_completed_audit_period), the 400 for a bad timestamp, and the admin policy."""
from __future__ import annotations

import datetime
import urllib.parse

from oslo_utils import timeutils

from kumo_common.db import services as service_db
from kumo_common.db import session
from tests.fixtures import cloud

ADMIN = cloud.ADMIN_TOKEN
PATH = '/v2.1/os-instance_usage_audit_log'
KEYS = {'hosts_not_run', 'log', 'num_hosts', 'num_hosts_done', 'num_hosts_not_run',
        'num_hosts_running', 'overall_status', 'period_beginning', 'period_ending',
        'total_errors', 'total_instances'}


class TestInstanceUsageAuditLog(cloud.CloudTestCase):
    COMPUTES = 2

    def get(self, path: str, token: str = ADMIN, code: int = 200, version: str = '2.1'):
        resp = self.cloud.request('GET', path, token=token, version=version)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp.json

    def show(self, before: str) -> dict:
        # Quoted as Tempest sends it (the space and the colons).
        return self.get(f'{PATH}/{urllib.parse.quote(before)}')['instance_usage_audit_log']

    def period(self, before: str) -> tuple[str, str]:
        log = self.show(before)
        return log['period_beginning'], log['period_ending']

    def test_every_compute_host_not_run(self):
        log = self.get(PATH)['instance_usage_audit_logs']
        self.assertEqual(KEYS, set(log))
        self.assertEqual({
            'hosts_not_run': ['compute1', 'compute2'], 'log': {}, 'num_hosts': 2,
            'num_hosts_done': 0, 'num_hosts_not_run': 2, 'num_hosts_running': 0,
            'overall_status': '0 of 2 hosts done. 0 errors.', 'total_errors': 0,
            'total_instances': 0}, {k: v for k, v in log.items() if not k.startswith('period')})
        # The same at the newest microversion: the API was never removed.
        self.assertEqual(log, self.get(PATH, version='2.100')['instance_usage_audit_logs'])

    def test_disabled_hosts_are_counted(self):
        # As Nova's (a disabled host may still have servers to audit).
        with session.transaction() as s:
            service = service_db.get_by_host_and_binary(s, 'compute2',
                                                        service_db.COMPUTE_BINARY)
            service_db.update(s, service, {'disabled': True})
        self.addCleanup(self._enable, 'compute2')
        log = self.show('2026-05-05 05:05:05')
        self.assertEqual((2, ['compute1', 'compute2']),
                         (log['num_hosts'], log['hosts_not_run']))

    def _enable(self, host: str) -> None:
        with session.transaction() as s:
            service = service_db.get_by_host_and_binary(s, host, service_db.COMPUTE_BINARY)
            service_db.update(s, service, {'disabled': False})

    def test_list_is_the_month_before_now(self):
        now = timeutils.utcnow()
        log = self.get(PATH)['instance_usage_audit_logs']
        end = datetime.datetime(now.year, now.month, 1)
        begin = (end - datetime.timedelta(days=1)).replace(day=1)
        self.assertEqual((str(begin), str(end)),
                         (log['period_beginning'], log['period_ending']))

    def test_period_is_the_last_completed_month(self):
        self.assertEqual(('2026-02-01 00:00:00', '2026-03-01 00:00:00'),
                         self.period('2026-03-15 10:20:30'))
        # Across a year.
        self.assertEqual(('2025-12-01 00:00:00', '2026-01-01 00:00:00'),
                         self.period('2026-01-10 00:00:00'))
        self.assertEqual(('2025-11-01 00:00:00', '2025-12-01 00:00:00'),
                         self.period('2025-12-31 23:59:59'))
        # A month ending exactly at the time asked has not completed before it.
        self.assertEqual(('2026-01-01 00:00:00', '2026-02-01 00:00:00'),
                         self.period('2026-03-01 00:00:00'))
        self.assertEqual(('2025-11-01 00:00:00', '2025-12-01 00:00:00'),
                         self.period('2026-01-01 00:00:00'))
        # Fractions of a second are accepted (and then it has ended).
        self.assertEqual(('2026-02-01 00:00:00', '2026-03-01 00:00:00'),
                         self.period('2026-03-01 00:00:00.000001'))

    def test_bad_timestamp(self):
        for before in ('invalid_time', '2026-13-01 00:00:00', '2026-03-01T00:00:00',
                       '2026-03-01', '2026-03-01 00:00:00.x', '2026-03-01 00:00:00Z'):
            body = self.get(f'{PATH}/{urllib.parse.quote(before)}', code=400)
            self.assertEqual({'badRequest': {
                'code': 400, 'message': f'Invalid timestamp for date {before}'}}, body)

    def test_admin_only(self):
        member = self.new_token()
        for path, rule in ((PATH, 'list'), (f'{PATH}/2026-03-01%2000:00:00', 'show'),
                           # The policy is checked before the timestamp is read.
                           (f'{PATH}/invalid_time', 'show')):
            body = self.get(path, token=member, code=403)
            self.assertEqual({'forbidden': {'code': 403, 'message': (
                "Policy doesn't allow os_compute_api:os-instance-usage-audit-log:"
                f"{rule} to be performed.")}}, body)
