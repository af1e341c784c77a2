"""Policies of the deprecated network proxies os-networks and os-tenant-networks
(Nova's names and defaults: a project's readers, or admins)."""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name: str, description: str, path: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=name, check_str=base.PROJECT_READER_OR_ADMIN,
        description=f'{description}\n\nThis API is proxy calls to the Network service. '
                    'This is deprecated.',
        operations=[{'method': 'GET', 'path': path}], scope_types=['project'])


rules = [
    _rule('os_compute_api:os-networks:list', 'List networks for the project.',
          '/os-networks'),
    _rule('os_compute_api:os-networks:show', 'Show network details.',
          '/os-networks/{network_id}'),
    _rule('os_compute_api:os-tenant-networks:list', 'List project networks.',
          '/os-tenant-networks'),
    _rule('os_compute_api:os-tenant-networks:show', 'Show project network details.',
          '/os-tenant-networks/{network_id}'),
]


def list_rules():
    return rules
