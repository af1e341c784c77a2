"""Policies of os-quota-sets and limits (Nova's names/defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

QUOTA_SETS = 'os_compute_api:os-quota-sets:%s'
LIMITS = 'os_compute_api:limits'


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}], scope_types=['project'])


rules = [
    _rule(QUOTA_SETS % 'update', base.ADMIN, 'Update the quotas', 'PUT',
          '/os-quota-sets/{tenant_id}'),
    _rule(QUOTA_SETS % 'defaults', base.ANY, 'List default quotas', 'GET',
          '/os-quota-sets/{tenant_id}/defaults'),
    _rule(QUOTA_SETS % 'show', base.PROJECT_READER_OR_ADMIN, 'Show a quota', 'GET',
          '/os-quota-sets/{tenant_id}'),
    _rule(QUOTA_SETS % 'delete', base.ADMIN, 'Revert quotas to defaults', 'DELETE',
          '/os-quota-sets/{tenant_id}'),
    _rule(QUOTA_SETS % 'detail', base.PROJECT_READER_OR_ADMIN,
          'Show the detail of quota', 'GET', '/os-quota-sets/{tenant_id}/detail'),
    _rule(LIMITS, base.ANY, 'Show rate and absolute limits for the current user project',
          'GET', '/limits'),
    _rule(LIMITS + ':other_project', base.ADMIN,
          'Show rate and absolute limits of another project', 'GET', '/limits'),
]


def list_rules():
    return rules
