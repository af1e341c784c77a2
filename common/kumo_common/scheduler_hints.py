"""Scheduler hints and the filters/weighers that honour them, shared by the API
(which validates hints and refuses those whose filter is disabled) and the scheduler.
"""
from __future__ import annotations

import json

from kumo_common.conf import filter_scheduler as fs_conf

# Which filter a hint needs. `group` depends on the group's policy (GROUP_POLICIES).
HINT_FILTERS = {
    'same_host': 'SameHostFilter',
    'different_host': 'DifferentHostFilter',
    'build_near_host_ip': 'SimpleCIDRAffinityFilter',
    'cidr': 'SimpleCIDRAffinityFilter',
    'query': 'JsonFilter',
    'target_cell': 'TargetCellFilter',
    'different_cell': 'DifferentCellFilter',
}

# policy -> ('filter' | 'weigher', class name) that honours a group of that policy.
GROUP_POLICIES = {'affinity': ('filter', 'ServerGroupAffinityFilter'),
                  'anti-affinity': ('filter', 'ServerGroupAntiAffinityFilter'),
                  'soft-affinity': ('weigher', 'ServerGroupSoftAffinityWeigher'),
                  'soft-anti-affinity': ('weigher', 'ServerGroupSoftAntiAffinityWeigher')}

WEIGHERS = ('RAMWeigher', 'CPUWeigher', 'DiskWeigher', 'NumInstancesWeigher',
            'ServerGroupSoftAffinityWeigher', 'ServerGroupSoftAntiAffinityWeigher',
            'BuildFailureWeigher')

# The JsonFilter's operators (Nova's JSON query language).
QUERY_OPERATORS = ('=', '<', '>', 'in', '<=', '>=', 'not', 'or', 'and')


def short_names(names: list[str]) -> list[str]:
    """Class names from option values (Nova module paths accepted), in order."""
    return [n.rsplit('.', 1)[-1].strip() for n in names if n.strip()]


def weigher_names(names: list[str]) -> list[str]:
    """The weighers a weight_classes value enables; ValueError for an unknown one."""
    result: list[str] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name in (fs_conf.ALL_WEIGHERS, 'all'):
            result.extend(WEIGHERS)
            continue
        short = name.rsplit('.', 1)[-1]
        if short not in WEIGHERS:
            raise ValueError(f'Unknown weigher {name!r} in [filter_scheduler] '
                             f'weight_classes; known: {", ".join(sorted(WEIGHERS))}')
        result.append(short)
    return list(dict.fromkeys(result))


def parse_query(text):
    """The `query` hint's value as a query (hints are stored as JSON strings)."""
    if isinstance(text, (list, dict)):
        return text
    return json.loads(text)


def query_problem(query) -> str | None:
    """Why `query` is not a valid JSON query, or None."""
    if query in ([], '', None):
        return None
    if not isinstance(query, list):
        return 'a query must be a JSON list [operator, argument, ...]'
    if not isinstance(query[0], str) or query[0] not in QUERY_OPERATORS:
        return f'unknown operator {query[0]!r}; one of {", ".join(QUERY_OPERATORS)}'
    for arg in query[1:]:
        if isinstance(arg, list):
            problem = query_problem(arg)
            if problem:
                return problem
        elif isinstance(arg, dict):
            return 'query arguments may not be objects'
    return None
