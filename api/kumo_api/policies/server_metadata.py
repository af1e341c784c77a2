"""Policies of server metadata (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=f'os_compute_api:server-metadata:{name}', check_str=check,
        description=description, operations=[{'method': method, 'path': path}],
        scope_types=['project'])


rules = [
    _rule('index', base.PROJECT_READER_OR_ADMIN, 'List the metadata of a server', 'GET',
          '/servers/{server_id}/metadata'),
    _rule('show', base.PROJECT_READER_OR_ADMIN, 'Show a metadata item of a server', 'GET',
          '/servers/{server_id}/metadata/{key}'),
    _rule('create', base.PROJECT_MEMBER_OR_ADMIN, 'Create or update metadata items',
          'POST', '/servers/{server_id}/metadata'),
    _rule('update_all', base.PROJECT_MEMBER_OR_ADMIN, 'Replace all metadata items', 'PUT',
          '/servers/{server_id}/metadata'),
    _rule('update', base.PROJECT_MEMBER_OR_ADMIN, 'Create or update one metadata item',
          'PUT', '/servers/{server_id}/metadata/{key}'),
    _rule('delete', base.PROJECT_MEMBER_OR_ADMIN, 'Delete a metadata item', 'DELETE',
          '/servers/{server_id}/metadata/{key}'),
]


def list_rules():
    return rules
