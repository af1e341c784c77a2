"""Policies of a server's security groups (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-security-groups:add', check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description='Add security groups to server.',
        operations=[{'method': 'POST',
                     'path': '/servers/{server_id}/action (addSecurityGroup)'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-security-groups:remove',
        check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description='Remove security groups from server.',
        operations=[{'method': 'POST',
                     'path': '/servers/{server_id}/action (removeSecurityGroup)'}],
        scope_types=['project']),
]


def list_rules():
    return rules
