"""Policy of a server's diagnostics (Nova's name and default: admin only)."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-server-diagnostics', check_str=base.ADMIN,
        description='Show the usage data for a server',
        operations=[{'method': 'GET', 'path': '/servers/{server_id}/diagnostics'}],
        scope_types=['project']),
]


def list_rules():
    return rules
