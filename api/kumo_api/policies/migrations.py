"""Policies of os-migrations (Nova's name and default: admins only)."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-migrations:index', check_str=base.ADMIN,
        description='List migrations (resizes) of servers',
        operations=[{'method': 'GET', 'path': '/os-migrations'}],
        scope_types=['project']),
]


def list_rules():
    return rules
