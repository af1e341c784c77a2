"""Policies of the server actions handled in resources/server_actions.py."""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name, check, description, action):
    return policy.DocumentedRuleDefault(
        name=f'os_compute_api:{name}', check_str=check, description=description,
        operations=[{'method': 'POST', 'path': f'/servers/{{server_id}}/action ({action})'}],
        scope_types=['project'])


rules = [
    _rule('servers:stop', base.PROJECT_MEMBER_OR_ADMIN, 'Stop a server', 'os-stop'),
    _rule('servers:start', base.PROJECT_MEMBER_OR_ADMIN, 'Start a server', 'os-start'),
    _rule('servers:reboot', base.PROJECT_MEMBER_OR_ADMIN, 'Reboot a server', 'reboot'),
    _rule('os-pause-server:pause', base.PROJECT_MEMBER_OR_ADMIN, 'Pause a server', 'pause'),
    _rule('os-pause-server:unpause', base.PROJECT_MEMBER_OR_ADMIN, 'Unpause a server',
          'unpause'),
    _rule('os-suspend-server:suspend', base.PROJECT_MEMBER_OR_ADMIN, 'Suspend a server',
          'suspend'),
    _rule('os-suspend-server:resume', base.PROJECT_MEMBER_OR_ADMIN, 'Resume a server',
          'resume'),
    _rule('os-lock-server:lock', base.PROJECT_MEMBER_OR_ADMIN, 'Lock a server', 'lock'),
    _rule('os-lock-server:unlock', base.PROJECT_MEMBER_OR_ADMIN, 'Unlock a server',
          'unlock'),
    _rule('os-lock-server:unlock:unlock_override', base.ADMIN,
          'Unlock a server locked by someone else', 'unlock'),
    _rule('os-deferred-delete:restore', base.PROJECT_MEMBER_OR_ADMIN,
          'Restore a soft-deleted server', 'restore'),
    _rule('os-deferred-delete:force', base.PROJECT_MEMBER_OR_ADMIN,
          'Delete a soft-deleted server at once', 'forceDelete'),
]


def list_rules():
    return rules
