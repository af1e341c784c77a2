"""Policies of os-instance-actions (Nova's names and defaults)."""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name, check, description, path):
    return policy.DocumentedRuleDefault(
        name=f'os_compute_api:os-instance-actions:{name}', check_str=check,
        description=description, operations=[{'method': 'GET', 'path': path}],
        scope_types=['project'])


rules = [
    _rule('list', base.PROJECT_READER_OR_ADMIN, 'List the actions of a server',
          '/servers/{server_id}/os-instance-actions'),
    _rule('show', base.PROJECT_READER_OR_ADMIN, 'Show an action of a server',
          '/servers/{server_id}/os-instance-actions/{request_id}'),
    _rule('events', base.ADMIN, 'See the events of an action with their traceback '
          '(and host from 2.62); others see events without them from 2.51',
          '/servers/{server_id}/os-instance-actions/{request_id}'),
    # Details can reveal the deployment (hypervisor type, ...): admins only, as
    # Nova's default since system scope was dropped (the 2.84 non-admin sample).
    _rule('events:details', base.ADMIN, 'See the details of action events (2.84)',
          '/servers/{server_id}/os-instance-actions/{request_id}'),
]


def list_rules():
    return rules
