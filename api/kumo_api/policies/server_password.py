"""Policies of a server's encrypted password (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-server-password:show', check_str=base.PROJECT_READER_OR_ADMIN,
        description="Show a server's encrypted password",
        operations=[{'method': 'GET', 'path': '/servers/{server_id}/os-server-password'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-server-password:clear',
        check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Clear a server's encrypted password",
        operations=[{'method': 'DELETE',
                     'path': '/servers/{server_id}/os-server-password'}],
        scope_types=['project']),
]


def list_rules():
    return rules
