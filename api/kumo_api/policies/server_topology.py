"""Policies of a server's NUMA topology (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

_PATH = [{'method': 'GET', 'path': '/servers/{server_id}/topology'}]

rules = [
    policy.DocumentedRuleDefault(
        name='compute:server:topology:index', check_str=base.PROJECT_READER_OR_ADMIN,
        description='Show the NUMA topology data for a server', operations=_PATH,
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='compute:server:topology:host:index', check_str=base.ADMIN,
        description='Show the NUMA topology data for a server with host NUMA ID and CPU '
                    'pinning information', operations=_PATH,
        scope_types=['project']),
]


def list_rules():
    return rules
