"""os-simple-tenant-usage reports: each instance's hours in the period and each
project's totals, with Nova's arithmetic (floats summed in its order, project by
project) and its times (naive ISO with microseconds)."""
from __future__ import annotations

import datetime

from kumo_api.views.times import iso_naive
from kumo_common.db.instance_usage import InstanceUsage


def hours_in_period(usage: InstanceUsage, start: datetime.datetime,
                    stop: datetime.datetime) -> float | int:
    """Hours the instance ran between start and stop (0, an int as Nova's, when none)."""
    if usage.terminated_at and usage.terminated_at < start:
        return 0
    if usage.launched_at > stop:
        return 0
    # Not charged before its launch, nor after its termination.
    began = max(usage.launched_at, start)
    ended = min(stop, usage.terminated_at) if usage.terminated_at else stop
    return (ended - began).total_seconds() / 3600.0


def server_usage(usage: InstanceUsage, start: datetime.datetime,
                 stop: datetime.datetime, now: datetime.datetime) -> dict:
    """One item of server_usages. A terminated instance's uptime is its whole life,
    a running one's runs to now, whatever the period (as Nova's)."""
    ended = usage.terminated_at
    uptime = (ended or now) - usage.launched_at
    return {'hours': hours_in_period(usage, start, stop), 'flavor': usage.flavor_name,
            'instance_id': usage.uuid, 'name': usage.name, 'tenant_id': usage.project_id,
            'memory_mb': usage.memory_mb, 'local_gb': usage.local_gb,
            'vcpus': usage.vcpus, 'started_at': iso_naive(usage.launched_at),
            'ended_at': iso_naive(ended),
            'state': 'terminated' if ended else usage.vm_state,
            'uptime': int(uptime.total_seconds())}


def tenant_usages(usages: list[InstanceUsage], start: datetime.datetime,
                  stop: datetime.datetime, detailed: bool,
                  now: datetime.datetime) -> tuple[list[dict], list[dict]]:
    """(one summary per project in the order met, every server_usage item); the
    summaries hold their items only when `detailed`."""
    summaries: dict[str, dict] = {}
    items = []
    for usage in usages:
        item = server_usage(usage, start, stop, now)
        summary = summaries.get(usage.project_id)
        if summary is None:
            summary = summaries[usage.project_id] = _summary(usage.project_id, start,
                                                             stop, detailed)
        hours = item['hours']
        summary['total_local_gb_usage'] += item['local_gb'] * hours
        summary['total_vcpus_usage'] += item['vcpus'] * hours
        summary['total_memory_mb_usage'] += item['memory_mb'] * hours
        summary['total_hours'] += hours
        items.append(item)
        if detailed:
            summary['server_usages'].append(item)
    return list(summaries.values()), items


def _summary(project_id: str, start: datetime.datetime, stop: datetime.datetime,
             detailed: bool) -> dict:
    summary: dict = {'tenant_id': project_id}
    if detailed:
        summary['server_usages'] = []
    summary.update(total_local_gb_usage=0, total_vcpus_usage=0, total_memory_mb_usage=0,
                   total_hours=0, start=iso_naive(start), stop=iso_naive(stop))
    return summary
