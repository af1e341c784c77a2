"""Policies of a server's addresses (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:ips:index', check_str=base.PROJECT_READER_OR_ADMIN,
        description="List a server's addresses, by network",
        operations=[{'method': 'GET', 'path': '/servers/{server_id}/ips'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:ips:show', check_str=base.PROJECT_READER_OR_ADMIN,
        description="Show a server's addresses on one network",
        operations=[{'method': 'GET', 'path': '/servers/{server_id}/ips/{network_label}'}],
        scope_types=['project']),
]


def list_rules():
    return rules
