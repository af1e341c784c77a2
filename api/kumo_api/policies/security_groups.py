"""Policies of security groups (Nova's names and defaults): the deprecated proxies
(os-security-groups, os-security-group-rules), a server's groups, and the
addSecurityGroup / removeSecurityGroup actions."""
from oslo_policy import policy

from kumo_api.policies import base

_NAME = 'os_compute_api:os-security-groups:%s'


def _rule(action: str, check: str, description: str, method: str, path: str):
    return policy.DocumentedRuleDefault(
        name=_NAME % action, check_str=check, description=description,
        operations=[{'method': method, 'path': path}], scope_types=['project'])


rules = [
    _rule('get', base.PROJECT_READER_OR_ADMIN,
          'List security groups. This API is deprecated.', 'GET', '/os-security-groups'),
    _rule('show', base.PROJECT_READER_OR_ADMIN,
          'Show security group. This API is deprecated.', 'GET',
          '/os-security-groups/{security_group_id}'),
    _rule('create', base.PROJECT_MEMBER_OR_ADMIN,
          'Create security group. This API is deprecated.', 'POST', '/os-security-groups'),
    _rule('update', base.PROJECT_MEMBER_OR_ADMIN,
          'Update security group. This API is deprecated.', 'PUT',
          '/os-security-groups/{security_group_id}'),
    _rule('delete', base.PROJECT_MEMBER_OR_ADMIN,
          'Delete security group. This API is deprecated.', 'DELETE',
          '/os-security-groups/{security_group_id}'),
    _rule('rule:create', base.PROJECT_MEMBER_OR_ADMIN,
          'Create security group Rule. This API is deprecated.', 'POST',
          '/os-security-group-rules'),
    _rule('rule:delete', base.PROJECT_MEMBER_OR_ADMIN,
          'Delete security group Rule. This API is deprecated.', 'DELETE',
          '/os-security-group-rules/{security_group_id}'),
    _rule('list', base.PROJECT_READER_OR_ADMIN, 'List security groups of server.', 'GET',
          '/servers/{server_id}/os-security-groups'),
    _rule('add', base.PROJECT_MEMBER_OR_ADMIN, 'Add security groups to server.', 'POST',
          '/servers/{server_id}/action (addSecurityGroup)'),
    _rule('remove', base.PROJECT_MEMBER_OR_ADMIN, 'Remove security groups from server.',
          'POST', '/servers/{server_id}/action (removeSecurityGroup)'),
]


def list_rules():
    return rules
