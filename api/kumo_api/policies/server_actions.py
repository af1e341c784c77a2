"""Policies of the server actions handled in resources/server_actions.py."""
from oslo_policy import policy

from kumo_api.policies import base


def _rule(name, check, description, action):
    return policy.DocumentedRuleDefault(
        name=f'os_compute_api:{name}', check_str=check, description=description,
        operations=[{'method': 'POST', 'path': f'/servers/{{server_id}}/action ({action})'}],
        scope_types=['project'])


rules = [
    _rule('os-console-output', base.PROJECT_MEMBER_OR_ADMIN,
          'Show the console output of a server', 'os-getConsoleOutput'),
    _rule('servers:stop', base.PROJECT_MEMBER_OR_ADMIN, 'Stop a server', 'os-stop'),
    _rule('servers:start', base.PROJECT_MEMBER_OR_ADMIN, 'Start a server', 'os-start'),
    _rule('servers:reboot', base.PROJECT_MEMBER_OR_ADMIN, 'Reboot a server', 'reboot'),
    _rule('servers:trigger_crash_dump', base.PROJECT_MEMBER_OR_ADMIN,
          'Trigger a crash dump in a server (an NMI to its guest)', 'trigger_crash_dump'),
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
    # --- issue 7: the heavier actions (Nova's names and defaults) ---
    _rule('os-admin-password', base.PROJECT_MEMBER_OR_ADMIN,
          'Change the administrative password of a server', 'changePassword'),
    _rule('servers:create_image', base.PROJECT_MEMBER_OR_ADMIN,
          'Create an image from a server', 'createImage'),
    _rule('servers:create_image:allow_volume_backed', base.PROJECT_MEMBER_OR_ADMIN,
          'Create an image from a volume-backed server', 'createImage'),
    _rule('os-create-backup', base.PROJECT_MEMBER_OR_ADMIN, 'Create a backup of a server',
          'createBackup'),
    _rule('servers:rebuild', base.PROJECT_MEMBER_OR_ADMIN, 'Rebuild a server', 'rebuild'),
    _rule('servers:rebuild:trusted_certs', base.PROJECT_MEMBER_OR_ADMIN,
          'Rebuild a server with trusted image certificates', 'rebuild'),
    _rule('os-rescue', base.PROJECT_MEMBER_OR_ADMIN, 'Rescue a server', 'rescue'),
    _rule('os-unrescue', base.PROJECT_MEMBER_OR_ADMIN, 'Unrescue a server', 'unrescue'),
    _rule('servers:resize', base.PROJECT_MEMBER_OR_ADMIN, 'Resize a server', 'resize'),
    _rule('servers:confirm_resize', base.PROJECT_MEMBER_OR_ADMIN,
          'Confirm the resize of a server', 'confirmResize'),
    _rule('servers:revert_resize', base.PROJECT_MEMBER_OR_ADMIN,
          'Revert the resize of a server', 'revertResize'),
    _rule('os-shelve:shelve', base.PROJECT_MEMBER_OR_ADMIN, 'Shelve a server', 'shelve'),
    _rule('os-shelve:shelve_offload', base.ADMIN, 'Offload a shelved server',
          'shelveOffload'),
    _rule('os-shelve:unshelve', base.PROJECT_MEMBER_OR_ADMIN, 'Unshelve a server',
          'unshelve'),
    _rule('os-shelve:unshelve_to_host', base.ADMIN,
          'Unshelve a shelved-offloaded server to a given host (2.91)', 'unshelve'),
    _rule('os-admin-actions:reset_state', base.ADMIN, 'Reset the state of a server',
          'os-resetState'),
    _rule('os-admin-actions:inject_network_info', base.ADMIN,
          'Inject network information into a server', 'injectNetworkInfo'),
    # Nova's defaults are project_manager_or_admin; Kumo has no manager role yet.
    _rule('os-migrate-server:migrate', base.ADMIN, 'Cold migrate a server to a host the '
          'scheduler picks', 'migrate'),
    _rule('os-migrate-server:migrate:host', base.ADMIN,
          'Cold migrate a server to a given host (2.56)', 'migrate'),
    _rule('os-migrate-server:migrate_live', base.ADMIN, 'Live migrate a server to a host '
          'the scheduler picks', 'os-migrateLive'),
    _rule('os-migrate-server:migrate_live:host', base.ADMIN, 'Live migrate a server to a '
          'given host', 'os-migrateLive'),
    _rule('os-evacuate', base.ADMIN, 'Evacuate a server from a failed host to a new one',
          'evacuate'),
]


def list_rules():
    return rules
