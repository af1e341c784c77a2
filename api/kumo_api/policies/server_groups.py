"""Policies of os-server-groups (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

PREFIX = 'os_compute_api:os-server-groups:%s'


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=PREFIX % name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}], scope_types=['project'])


rules = [
    _rule('create', base.PROJECT_MEMBER_OR_ADMIN, 'Create a new server group', 'POST',
          '/os-server-groups'),
    _rule('delete', base.PROJECT_MEMBER_OR_ADMIN, 'Delete a server group', 'DELETE',
          '/os-server-groups/{server_group_id}'),
    _rule('index', base.PROJECT_READER_OR_ADMIN, 'List all server groups', 'GET',
          '/os-server-groups'),
    _rule('index:all_projects', base.ADMIN, 'List all server groups for all projects',
          'GET', '/os-server-groups'),
    _rule('show', base.PROJECT_READER_OR_ADMIN, 'Show details of a server group', 'GET',
          '/os-server-groups/{server_group_id}'),
]


def list_rules():
    return rules
