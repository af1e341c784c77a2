"""Policies of os-availability-zone (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-availability-zone:list', check_str=base.ANY,
        description='List availability zones and whether they are available',
        operations=[{'method': 'GET', 'path': '/os-availability-zone'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-availability-zone:detail', check_str=base.ADMIN,
        description='List availability zones with their hosts and services',
        operations=[{'method': 'GET', 'path': '/os-availability-zone/detail'}],
        scope_types=['project']),
]


def list_rules():
    return rules
