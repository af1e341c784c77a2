"""Policies of os-instance_usage_audit_log (Nova's names and defaults: admins only)."""
from oslo_policy import policy

from kumo_api.policies import base

_PATH = '/os-instance_usage_audit_log'

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-instance-usage-audit-log:list', check_str=base.ADMIN,
        description='List all usage audits.',
        operations=[{'method': 'GET', 'path': _PATH}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-instance-usage-audit-log:show', check_str=base.ADMIN,
        description='List all usage audits occurred before a specified time for all '
                    'servers on all compute hosts where usage auditing is configured',
        operations=[{'method': 'GET', 'path': _PATH + '/{before_timestamp}'}],
        scope_types=['project']),
]


def list_rules():
    return rules
