"""os-instance_usage_audit_log: how far the compute hosts got with auditing the
instance usage of the last completed audit period. GET /os-instance_usage_audit_log
(the period before now) and GET /os-instance_usage_audit_log/{before_timestamp}
(the period last completed before that time). Admins only, by default.

In Nova each compute host, when [DEFAULT] instance_usage_audit is on, sends every
server's usage notifications once per period and records that in a task_log row
(RUNNING, then DONE with its counts); this report sums those rows over the
compute services. Kumo sends no usage notifications, so no host ever runs the audit
and there are no such rows to keep: the report is Nova's for a period no host has
audited, made from Kumo's real compute services (disabled ones included, as Nova's):
every host not run, nothing done, no instances, no errors, an empty log.

The period is Nova's default [DEFAULT] instance_usage_audit_period, a calendar month
(UTC): the last one that ended before the given time.
"""
from __future__ import annotations

import datetime

from flask import Blueprint, g, jsonify
from oslo_utils import timeutils

from kumo_api import errors, policy
from kumo_common.db import services as service_db
from kumo_common.db import session

bp = Blueprint('instance_usage_audit_log', __name__)

_RULE = 'os_compute_api:os-instance-usage-audit-log:%s'


def last_completed_month(before: datetime.datetime) -> tuple[datetime.datetime,
                                                               datetime.datetime]:
    """(begin, end) of the last month that ended at or before `before` (a month
    ending exactly at `before` counts as ended, as in Nova)."""
    end = datetime.datetime(before.year, before.month, 1)
    if end >= before:
        end = _month_before(end)
    return _month_before(end), end


def _month_before(first: datetime.datetime) -> datetime.datetime:
    if first.month == 1:
        return first.replace(year=first.year - 1, month=12)
    return first.replace(month=first.month - 1)


def _parse_before(value: str) -> datetime.datetime:
    # Nova's two formats, with and without fractions of a second, no zone.
    fmt = '%Y-%m-%d %H:%M:%S.%f' if '.' in value else '%Y-%m-%d %H:%M:%S'
    try:
        return datetime.datetime.strptime(value, fmt)
    except ValueError as exc:
        raise errors.BadRequest(f'Invalid timestamp for date {value}') from exc


def _report(before: datetime.datetime) -> dict:
    begin, end = last_completed_month(before)
    with session.reader() as s:
        hosts = sorted({service.host for service in service_db.list_services(
            s, binary=service_db.COMPUTE_BINARY)})
    # Every host is one that has not run the audit (see the module's docstring); the
    # status reads "ALL hosts done" only when there are no hosts, as Nova's.
    done = 'ALL' if not hosts else f'0 of {len(hosts)}'
    return {'period_beginning': str(begin), 'period_ending': str(end),
            'num_hosts': len(hosts), 'num_hosts_done': 0, 'num_hosts_running': 0,
            'num_hosts_not_run': len(hosts), 'hosts_not_run': hosts,
            'total_instances': 0, 'total_errors': 0,
            'overall_status': f'{done} hosts done. 0 errors.', 'log': {}}


@bp.get('/os-instance_usage_audit_log')
def list_audit_logs():
    policy.authorize(g.context, _RULE % 'list', {})
    return jsonify({'instance_usage_audit_logs': _report(timeutils.utcnow())})


@bp.get('/os-instance_usage_audit_log/<before_timestamp>')
def show_audit_log(before_timestamp: str):
    policy.authorize(g.context, _RULE % 'show', {})
    return jsonify({'instance_usage_audit_log': _report(_parse_before(before_timestamp))})
