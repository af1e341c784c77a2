"""Policies of os-hypervisors (Nova's names and defaults: admin only)."""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name, description, method, path):
    return policy.DocumentedRuleDefault(
        name=f'os_compute_api:os-hypervisors:{name}', check_str=base.ADMIN,
        description=description, scope_types=['project'],
        operations=[{'method': method, 'path': path}])


rules = [
    _rule('list', 'List hypervisors', 'GET', '/os-hypervisors'),
    _rule('list-detail', 'List hypervisors with details', 'GET', '/os-hypervisors/detail'),
    _rule('statistics', 'Show summary statistics of all hypervisors (up to 2.87)', 'GET',
          '/os-hypervisors/statistics'),
    _rule('show', 'Show the details of a hypervisor', 'GET',
          '/os-hypervisors/{hypervisor_id}'),
    _rule('uptime', 'Show the uptime of a hypervisor (up to 2.87)', 'GET',
          '/os-hypervisors/{hypervisor_id}/uptime'),
    _rule('search', 'Search hypervisors by hostname pattern (up to 2.52)', 'GET',
          '/os-hypervisors/{hypervisor_hostname_pattern}/search'),
    _rule('servers', 'List the servers on hypervisors matching a pattern (up to 2.52)',
          'GET', '/os-hypervisors/{hypervisor_hostname_pattern}/servers'),
]


def list_rules():
    return rules
