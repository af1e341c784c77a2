"""Policies of the scheduler's explain API (Kumo additions; admin by default) and
Nova's requested-destination rule for 2.74 create."""
from oslo_policy import policy

from kumo_api.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='os_compute_api:servers:scheduling_report', check_str=base.ADMIN,
        description='Show the scheduling report of a server (which filter removed which '
                    'host and why, the weights, the choice)',
        operations=[{'method': 'GET', 'path': '/servers/{server_id}/scheduling-report'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:scheduler:dry_run', check_str=base.ADMIN,
        description='Ask the scheduler where a create request would go, claiming nothing',
        operations=[{'method': 'POST', 'path': '/scheduler/dry-run'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='os_compute_api:scheduler:capabilities', check_str=base.ADMIN,
        description='Show the enabled filters and weighers, their settings and the hints '
                    'they accept',
        operations=[{'method': 'GET', 'path': '/scheduler/capabilities'}],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name='compute:servers:create:requested_destination', check_str=base.ADMIN,
        description='Create a server on a requested host/hypervisor_hostname (2.74); the '
                    'filters still run',
        operations=[{'method': 'POST', 'path': '/servers'}],
        scope_types=['project']),
]


def list_rules():
    return rules
