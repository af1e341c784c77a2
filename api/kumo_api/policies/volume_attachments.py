"""Policies of a server's volume attachments (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base

_ROOT = 'os_compute_api:os-volumes-attachments:%s'
_COLLECTION = '/servers/{server_id}/os-volume_attachments'
_ITEM = _COLLECTION + '/{volume_id}'


def _rule(name: str, check_str: str, description: str, method: str, path: str,
          scope_types=('project',)):
    return policy.DocumentedRuleDefault(
        name=_ROOT % name, check_str=check_str, description=description,
        operations=[{'method': method, 'path': path}], scope_types=list(scope_types))


rules = [
    _rule('index', base.PROJECT_READER_OR_ADMIN, 'List volume attachments for an instance',
          'GET', _COLLECTION),
    _rule('create', base.PROJECT_MEMBER_OR_ADMIN, 'Attach a volume to an instance',
          'POST', _COLLECTION),
    _rule('show', base.PROJECT_READER_OR_ADMIN, 'Show details of a volume attachment',
          'GET', _ITEM),
    _rule('update', base.PROJECT_MEMBER_OR_ADMIN,
          'Update a volume attachment (its delete_on_termination)', 'PUT', _ITEM),
    _rule('swap', base.SERVICE_ROLE, 'Swap the volume of an attachment (Cinder\'s '
          'volume migration)', 'PUT', _ITEM),
    _rule('delete', base.PROJECT_MEMBER_OR_ADMIN, 'Detach a volume from an instance',
          'DELETE', _ITEM),
]


def list_rules():
    return rules
