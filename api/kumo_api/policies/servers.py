"""Policies of the servers API (Nova's rule names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

PREFIX = 'os_compute_api:servers:%s'


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=PREFIX % name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}], scope_types=['project'])


rules = [
    _rule('index', base.PROJECT_READER_OR_ADMIN, 'List servers', 'GET', '/servers'),
    _rule('detail', base.PROJECT_READER_OR_ADMIN, 'List servers with details', 'GET',
          '/servers/detail'),
    _rule('index:get_all_tenants', base.ADMIN, 'List servers of all projects', 'GET',
          '/servers'),
    _rule('detail:get_all_tenants', base.ADMIN, 'List servers of all projects with details',
          'GET', '/servers/detail'),
    _rule('allow_all_filters', base.ADMIN, 'Use every list filter, not only the '
          'non-admin whitelist', 'GET', '/servers'),
    _rule('show', base.PROJECT_READER_OR_ADMIN, 'Show a server', 'GET', '/servers/{id}'),
    _rule('show:host_status', base.ADMIN, 'Show host_status in server views', 'GET',
          '/servers/{id}'),
    _rule('create', base.PROJECT_MEMBER_OR_ADMIN, 'Create a server', 'POST', '/servers'),
    _rule('create:forced_host', base.ADMIN, 'Create a server on a named host', 'POST',
          '/servers'),
    _rule('create:attach_network', base.PROJECT_MEMBER_OR_ADMIN,
          'Create a server with requested networks', 'POST', '/servers'),
    _rule('create:attach_volume', base.PROJECT_MEMBER_OR_ADMIN,
          'Create a server with block device mappings', 'POST', '/servers'),
    _rule('delete', base.PROJECT_MEMBER_OR_ADMIN, 'Delete a server', 'DELETE',
          '/servers/{id}'),
    _rule('update', base.PROJECT_MEMBER_OR_ADMIN, 'Update a server', 'PUT', '/servers/{id}'),
    policy.DocumentedRuleDefault(
        name='os_compute_api:os-extended-server-attributes', check_str=base.ADMIN,
        description='Show OS-EXT-SRV-ATTR attributes (host, hypervisor, instance name)',
        operations=[{'method': 'GET', 'path': '/servers/{id}'},
                    {'method': 'GET', 'path': '/servers/detail'}],
        scope_types=['project']),
]


def list_rules():
    return rules
