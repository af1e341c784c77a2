"""Policies of os-migrations and servers/{id}/migrations (Nova's names; admins only by
default: Nova lets a project manager list, force-complete and abort its servers' live
migrations, and Kumo has no manager role)."""
from oslo_policy import policy

from kumo_api.policies import base

_ITEM = '/servers/{server_id}/migrations/{migration_id}'

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-migrations:index', check_str=base.ADMIN,
        description='List migrations (resizes, cold and live migrations, evacuations) '
                    'of servers',
        operations=[{'method': 'GET', 'path': '/os-migrations'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:servers:migrations:index', check_str=base.ADMIN,
        description="List a server's in-progress live migrations",
        operations=[{'method': 'GET', 'path': '/servers/{server_id}/migrations'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:servers:migrations:show', check_str=base.ADMIN,
        description="Show a server's in-progress live migration",
        operations=[{'method': 'GET', 'path': _ITEM}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:servers:migrations:force_complete', check_str=base.ADMIN,
        description="Force a server's in-progress live migration to complete",
        operations=[{'method': 'POST', 'path': f'{_ITEM}/action (force_complete)'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:servers:migrations:delete', check_str=base.ADMIN,
        description="Delete (abort) a server's in-progress live migration",
        operations=[{'method': 'DELETE', 'path': _ITEM}],
        scope_types=['project']),
]


def list_rules():
    return rules
