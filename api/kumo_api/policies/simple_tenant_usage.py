"""Policies of os-simple-tenant-usage (Nova's names and defaults): every project's
usage is for admins, a project's own for its readers."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-simple-tenant-usage:show',
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='Show usage statistics for a specific tenant',
        operations=[{'method': 'GET', 'path': '/os-simple-tenant-usage/{tenant_id}'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-simple-tenant-usage:list', check_str=base.ADMIN,
        description='List per tenant usage statistics for all tenants',
        operations=[{'method': 'GET', 'path': '/os-simple-tenant-usage'}],
        scope_types=['project']),
]


def list_rules():
    return rules
