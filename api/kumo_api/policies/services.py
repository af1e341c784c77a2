"""Policies of os-services (Nova's names and defaults: admin only)."""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name, description, operations):
    return policy.DocumentedRuleDefault(
        name=f'os_compute_api:os-services:{name}', check_str=base.ADMIN,
        description=description, scope_types=['project'],
        operations=[{'method': m, 'path': p} for m, p in operations])


rules = [
    _rule('list', 'List all running compute services', [('GET', '/os-services')]),
    _rule('update', 'Enable/disable a compute service, set or unset forced_down',
          [('PUT', '/os-services/{service_id}'), ('PUT', '/os-services/enable'),
           ('PUT', '/os-services/disable'), ('PUT', '/os-services/disable-log-reason'),
           ('PUT', '/os-services/force-down')]),
    _rule('delete', 'Delete a compute service', [('DELETE', '/os-services/{service_id}')]),
]


def list_rules():
    return rules
