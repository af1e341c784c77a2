"""Policies of os-migrations and servers/{id}/migrations (Nova's names and defaults:
admins only)."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-migrations:index', check_str=base.ADMIN,
        description='List migrations (resizes) of servers',
        operations=[{'method': 'GET', 'path': '/os-migrations'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:servers:migrations:index', check_str=base.ADMIN,
        description="List a server's in-progress live migrations (Kumo has none: "
                    'always empty)',
        operations=[{'method': 'GET', 'path': '/servers/{server_id}/migrations'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:servers:migrations:show', check_str=base.ADMIN,
        description="Show a server's in-progress live migration (Kumo has none: 404)",
        operations=[{'method': 'GET',
                     'path': '/servers/{server_id}/migrations/{migration_id}'}],
        scope_types=['project']),
]


def list_rules():
    return rules
