"""Policies of the deprecated os-hosts API (Nova's names and defaults: admin only)."""
from oslo_policy import policy

from kumo_api.policies import base

_DEPRECATED = ('\n\nThis API is deprecated in favor of os-hypervisors and os-services.')


def _rule(name, description, method, path):
    return policy.DocumentedRuleDefault(
        name=f'os_compute_api:os-hosts:{name}', check_str=base.ADMIN,
        description=description + _DEPRECATED, scope_types=['project'],
        operations=[{'method': method, 'path': path}])


rules = [
    _rule('list', 'List physical hosts.', 'GET', '/os-hosts'),
    _rule('show', 'Show physical host.', 'GET', '/os-hosts/{host_name}'),
    _rule('update', 'Update physical host.', 'PUT', '/os-hosts/{host_name}'),
    _rule('reboot', 'Reboot physical host.', 'GET', '/os-hosts/{host_name}/reboot'),
    _rule('shutdown', 'Shutdown physical host.', 'GET', '/os-hosts/{host_name}/shutdown'),
    _rule('start', 'Start physical host.', 'GET', '/os-hosts/{host_name}/startup'),
]


def list_rules():
    return rules
