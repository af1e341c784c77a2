"""Policies of server tags (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=f'os_compute_api:os-server-tags:{name}', check_str=check,
        description=description, operations=[{'method': method, 'path': path}],
        scope_types=['project'])


rules = [
    _rule('index', base.PROJECT_READER_OR_ADMIN, 'List the tags of a server', 'GET',
          '/servers/{server_id}/tags'),
    _rule('show', base.PROJECT_READER_OR_ADMIN, 'Check whether a server has a tag', 'GET',
          '/servers/{server_id}/tags/{tag}'),
    _rule('update_all', base.PROJECT_MEMBER_OR_ADMIN, 'Replace all tags of a server',
          'PUT', '/servers/{server_id}/tags'),
    _rule('update', base.PROJECT_MEMBER_OR_ADMIN, 'Add one tag to a server', 'PUT',
          '/servers/{server_id}/tags/{tag}'),
    _rule('delete_all', base.PROJECT_MEMBER_OR_ADMIN, 'Delete all tags of a server',
          'DELETE', '/servers/{server_id}/tags'),
    _rule('delete', base.PROJECT_MEMBER_OR_ADMIN, 'Delete one tag of a server', 'DELETE',
          '/servers/{server_id}/tags/{tag}'),
]


def list_rules():
    return rules
