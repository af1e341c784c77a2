"""Policies of remote consoles and their tokens (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-remote-consoles', check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description='Generate a URL to access remote server console (POST '
                    '/remote-consoles; the server actions os-getSerialConsole, '
                    'os-getSPICEConsole and os-getVNCConsole are deprecated)',
        operations=[
            {'method': 'POST', 'path': '/servers/{server_id}/action (os-getSerialConsole)'},
            {'method': 'POST', 'path': '/servers/{server_id}/action (os-getSPICEConsole)'},
            {'method': 'POST', 'path': '/servers/{server_id}/action (os-getVNCConsole)'},
            {'method': 'POST', 'path': '/servers/{server_id}/remote-consoles'},
        ],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-console-auth-tokens', check_str=base.ADMIN,
        description='Show console connection information for a given console '
                    'authentication token',
        operations=[{'method': 'GET', 'path': '/os-console-auth-tokens/{console_token}'}],
        scope_types=['project']),
]


def list_rules():
    return rules
