"""Policy of the external events other services send (Nova's name and default)."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-server-external-events:create',
        check_str=base.SERVICE_ROLE,
        description='Create one or more external events',
        operations=[{'method': 'POST', 'path': '/os-server-external-events'}],
        scope_types=['project']),
]


def list_rules():
    return rules
