"""Views of scheduling reports, dry runs and scheduler capabilities."""
from __future__ import annotations

from oslo_config import cfg

from kumo_common import scheduler_hints as hint_table
from kumo_common.db import models

CONF = cfg.CONF

_FILTER_SETTINGS = {
    'ComputeFilter': lambda: {'service_down_time': CONF.service_down_time},
    'NumInstancesFilter': lambda: {
        'max_instances_per_host': CONF.filter_scheduler.max_instances_per_host},
    'RamFilter': lambda: {'ratio': 'per node (ram_allocation_ratio)'},
    'CoreFilter': lambda: {'ratio': 'per node (cpu_allocation_ratio)'},
    'DiskFilter': lambda: {'ratio': 'per node (disk_allocation_ratio)'},
    'AvailabilityZoneFilter': lambda: {
        'default_availability_zone': CONF.default_availability_zone},
}

_WEIGHER_OPTIONS = {
    'RAMWeigher': 'ram_weight_multiplier', 'CPUWeigher': 'cpu_weight_multiplier',
    'DiskWeigher': 'disk_weight_multiplier',
    'NumInstancesWeigher': 'num_instances_weight_multiplier',
    'ServerGroupSoftAffinityWeigher': 'soft_affinity_weight_multiplier',
    'ServerGroupSoftAntiAffinityWeigher': 'soft_anti_affinity_weight_multiplier',
    'BuildFailureWeigher': 'build_failure_weight_multiplier',
}


def report_view(row: models.SchedulingReport, attempts: int) -> dict:
    body = dict(row.report)
    body.update({'attempt': row.attempt, 'attempts': attempts, 'result': row.result,
                 'summary': row.summary})
    return body


def capabilities(hints: dict) -> dict:
    filters = hint_table.short_names(CONF.filter_scheduler.enabled_filters)
    by_filter: dict[str, list[str]] = {}
    for hint, name in hint_table.HINT_FILTERS.items():
        by_filter.setdefault(name, []).append(hint)
    for name in ('ServerGroupAffinityFilter', 'ServerGroupAntiAffinityFilter'):
        by_filter.setdefault(name, []).append('group')
    try:
        weighers = hint_table.weigher_names(CONF.filter_scheduler.weight_classes)
    except ValueError:
        weighers = []
    return {
        'filters': [{'name': n, 'order': i + 1, 'hints': by_filter.get(n, []),
                     'settings': _FILTER_SETTINGS.get(n, dict)()}
                    for i, n in enumerate(filters)],
        'weighers': [{'name': n, 'option': f'[filter_scheduler] {_WEIGHER_OPTIONS[n]}',
                      'multiplier': getattr(CONF.filter_scheduler, _WEIGHER_OPTIONS[n]),
                      'hints': ['group'] if 'ServerGroup' in n else []}
                     for n in weighers],
        'hints': hints,
        'settings': {
            'host_subset_size': CONF.filter_scheduler.host_subset_size,
            'max_attempts': CONF.scheduler.max_attempts,
            'report_max_removed_hosts': CONF.filter_scheduler.report_max_removed_hosts,
            'report_max_weighed_hosts': CONF.filter_scheduler.report_max_weighed_hosts,
        },
    }
