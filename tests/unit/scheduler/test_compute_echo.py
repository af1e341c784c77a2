"""ComputeFilter: a host whose agent failed the conductor's RPC echo is down too, and
the scheduling report says so; an old failure (older than service_down_time) or a
late heartbeat's own reason take no part."""
from __future__ import annotations

import datetime

from kumo_common.db import models
from kumo_scheduler.filters import compute as compute_filter
from tests.unit.scheduler.test_filters import _ConfTestCase, host_state, request


def _ago(seconds: float) -> datetime.datetime:
    return models.utcnow() - datetime.timedelta(seconds=seconds)


class TestComputeFilterEcho(_ConfTestCase):

    def setUp(self):
        super().setUp()
        self.flags(service_down_time=60)
        self.filter = compute_filter.ComputeFilter()

    def test_failed_echo_rejects_with_its_reason(self):
        host = host_state(echo_at=_ago(5), echo_error='no answer within 10s')
        verdict = self.filter.passes(host, request())
        self.assertFalse(verdict.passed)
        self.assertEqual('compute.echo_failed', verdict.code)
        self.assertEqual('compute service down: RPC echo failed (no answer within 10s)',
                         verdict.reason)
        passed, rejected = self.filter.filter_all([host, host_state('compute2')],
                                                  request())
        self.assertEqual(['compute2'], [h.host for h in passed])
        self.assertEqual([('compute1', 'compute.echo_failed')],
                         [(h.host, v.code) for h, v in rejected])

    def test_answered_or_old_echo_passes(self):
        for host in (host_state(echo_at=_ago(5), echo_error=None),
                     host_state(echo_at=_ago(120), echo_error='no answer within 10s')):
            self.assertTrue(self.filter.passes(host, request()).passed)
            self.assertEqual(1, len(self.filter.filter_all([host], request())[0]))
