"""Policies of a server's interfaces, os-interface (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

_ROOT = 'os_compute_api:os-attach-interfaces:%s'
_COLLECTION = '/servers/{server_id}/os-interface'
_ITEM = _COLLECTION + '/{port_id}'


def _rule(name: str, check_str: str, description: str, method: str, path: str):
    return policy.DocumentedRuleDefault(
        name=_ROOT % name, check_str=check_str, description=description,
        operations=[{'method': method, 'path': path}], scope_types=['project'])


rules = [
    _rule('list', base.PROJECT_READER_OR_ADMIN,
          'List port interfaces attached to a server', 'GET', _COLLECTION),
    _rule('show', base.PROJECT_READER_OR_ADMIN,
          'Show details of a port interface attached to a server', 'GET', _ITEM),
    _rule('create', base.PROJECT_MEMBER_OR_ADMIN, 'Attach an interface to a server',
          'POST', _COLLECTION),
    _rule('delete', base.PROJECT_MEMBER_OR_ADMIN, 'Detach an interface from a server',
          'DELETE', _ITEM),
]


def list_rules():
    return rules
