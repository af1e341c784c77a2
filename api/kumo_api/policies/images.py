"""Policies of the compute images proxy API."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:images:index', check_str=base.ANY,
        description='List images (compute proxy of the image catalog, up to 2.35)',
        operations=[{'method': 'GET', 'path': '/images'},
                    {'method': 'GET', 'path': '/images/detail'},
                    {'method': 'GET', 'path': '/images/{id}'}],
        scope_types=['project']),
]


def list_rules():
    return rules
