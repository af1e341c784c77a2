"""Policies of os-quota-class-sets (Nova's names and defaults: admins only)."""
from oslo_policy import policy

from kumo_api.policies import base

QUOTA_CLASS_SETS = 'os_compute_api:os-quota-class-sets:%s'


def _rule(action, description, method):
    return policy.DocumentedRuleDefault(
        name=QUOTA_CLASS_SETS % action, check_str=base.ADMIN, description=description,
        operations=[{'method': method, 'path': '/os-quota-class-sets/{quota_class}'}],
        scope_types=['project'])


rules = [
    _rule('show', 'Show the limits of a quota class', 'GET'),
    _rule('update', 'Create or update the limits of a quota class', 'PUT'),
]


def list_rules():
    return rules
