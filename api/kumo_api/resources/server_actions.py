"""POST /servers/{id}/action: one handler per action, chosen from an explicit table."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import compute_api, errors, policy, rpc_clients, validation
from kumo_api.actions import (
    consoles,
    crash_dump,
    evacuate,
    heavy,
    lifecycle,
    live_migrate,
    resize,
    security_groups,
    shelving,
)
from kumo_api.resources import removed
from kumo_api.resources.servers import get_instance
from kumo_api.schemas import remote_consoles as console_schemas
from kumo_api.schemas import server_actions as schemas
from kumo_common.db import instances as instance_db
from kumo_common.db import session
from kumo_common.states import task

bp = Blueprint('server_actions', __name__)


def _authorize(rule: str, instance) -> None:
    policy.authorize(g.context, f'os_compute_api:{rule}',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})


def _lifecycle(action: str, rule: str, record_as: str | None = None):
    def handler(instance, body):
        _authorize(rule, instance)
        lifecycle.run(g.context, instance, action, record_as=record_as)
    return handler


def _reboot(instance, body):
    _authorize('servers:reboot', instance)
    hard = body['type'].upper() == 'HARD'
    lifecycle.run(g.context, instance, 'reboot_hard' if hard else 'reboot',
                  record_as='reboot')


def _lock(instance, body):
    _authorize('os-lock-server:lock', instance)
    ctxt = g.context
    owner = instance.project_id == ctxt.project_id
    if instance.locked and owner:
        return  # already locked: a silent no-op for the owner, as Nova
    reason = (body or {}).get('locked_reason')
    with session.transaction() as s:
        instance_db.update_if(s, instance.uuid, {
            'locked': True, 'locked_by': 'owner' if owner else 'admin',
            'locked_reason': reason})
        instance_db.start_action(s, instance.uuid, 'lock', ctxt)


def _unlock(instance, body):
    _authorize('os-lock-server:unlock', instance)
    ctxt = g.context
    owner = instance.project_id == ctxt.project_id
    if instance.locked and instance.locked_by != ('owner' if owner else 'admin'):
        _authorize('os-lock-server:unlock:unlock_override', instance)
    with session.transaction() as s:
        instance_db.update_if(s, instance.uuid, {'locked': False, 'locked_by': None,
                                                 'locked_reason': None})
        instance_db.start_action(s, instance.uuid, 'unlock', ctxt)


def _restore(instance, body):
    _authorize('os-deferred-delete:restore', instance)
    if not instance.launched_at:
        raise lifecycle.invalid_state('restore', instance, 'vm_state', instance.vm_state)
    lifecycle.run(g.context, instance, 'restore')


def _force_delete(instance, body):
    _authorize('os-deferred-delete:force', instance)
    lifecycle.check_not_locked(g.context, instance)
    compute_api.delete_server(g.context, instance, force=True)


def _console_output(instance, body):
    _authorize('os-console-output', instance)
    if not instance.host or instance.task_state in (task.DELETING, task.MIGRATING):
        raise errors.Conflict(f'Instance {instance.uuid} is not ready yet: it has no '
                              'console to read.' if not instance.host else
                              f"Cannot 'os-getConsoleOutput' instance {instance.uuid} "
                              f'while it is in task_state {instance.task_state}')
    length = body.get('length')
    length = None if length is None or int(length) == -1 else int(length)
    with rpc_clients.agent_answer(instance.uuid, 'console output'):
        output = rpc_clients.compute().get_console_output(g.context, instance.host,
                                                          instance.uuid, length)
    if output is None:
        raise errors.APIError('Unable to get console output: the hypervisor of this '
                              'server keeps no console log.', code=501)
    # Control characters other than newlines and tabs would break JSON clients.
    output = ''.join(c for c in output if c in '\n\t' or c >= ' ')
    return jsonify({'output': output})


# action key -> (handler, request schemas by microversion window)
ACTIONS = {
    'os-stop': (_lifecycle('stop', 'servers:stop'), schemas.NO_ARGUMENTS),
    'os-start': (_lifecycle('start', 'servers:start'), schemas.NO_ARGUMENTS),
    'reboot': (_reboot, schemas.REBOOT),
    'pause': (_lifecycle('pause', 'os-pause-server:pause'), schemas.NO_ARGUMENTS),
    'unpause': (_lifecycle('unpause', 'os-pause-server:unpause'), schemas.NO_ARGUMENTS),
    'suspend': (_lifecycle('suspend', 'os-suspend-server:suspend'), schemas.NO_ARGUMENTS),
    'resume': (_lifecycle('resume', 'os-suspend-server:resume'), schemas.NO_ARGUMENTS),
    'lock': (_lock, schemas.LOCK),
    'unlock': (_unlock, schemas.NO_ARGUMENTS),
    'restore': (_restore, schemas.NO_ARGUMENTS),
    'forceDelete': (_force_delete, schemas.NO_ARGUMENTS),
    # issue 7 (kumo_api.actions.heavy)
    'changePassword': (heavy.change_password, schemas.CHANGE_PASSWORD),
    'createImage': (heavy.create_image, schemas.CREATE_IMAGE),
    'createBackup': (heavy.create_backup, schemas.CREATE_BACKUP),
    'rebuild': (heavy.rebuild, schemas.REBUILD),
    'rescue': (heavy.rescue, schemas.RESCUE),
    'unrescue': (heavy.unrescue, schemas.NO_ARGUMENTS),
    'resize': (resize.resize_server, schemas.RESIZE),
    'confirmResize': (resize.confirm_resize, schemas.NO_ARGUMENTS),
    'revertResize': (resize.revert_resize, schemas.NO_ARGUMENTS),
    'migrate': (resize.migrate_server, schemas.MIGRATE),
    'evacuate': (evacuate.evacuate, schemas.EVACUATE),
    'os-resetState': (heavy.reset_state, schemas.RESET_STATE),
    'injectNetworkInfo': (heavy.inject_network_info, schemas.NO_ARGUMENTS),
    'os-migrateLive': (live_migrate.migrate_live, schemas.MIGRATE_LIVE),
    'os-getConsoleOutput': (_console_output, schemas.CONSOLE_OUTPUT),
    # remote consoles before 2.6 (kumo_api.actions.consoles)
    'os-getSerialConsole': (consoles.get_serial_console, console_schemas.GET_SERIAL),
    'os-getVNCConsole': (consoles.get_vnc_console, console_schemas.GET_VNC),
    'os-getSPICEConsole': (consoles.get_spice_console, console_schemas.GET_SPICE),
    'os-getRDPConsole': (consoles.get_rdp_console, console_schemas.GET_RDP),
    'shelve': (shelving.shelve, schemas.NO_ARGUMENTS),
    'shelveOffload': (shelving.shelve_offload, schemas.NO_ARGUMENTS),
    'unshelve': (shelving.unshelve, schemas.UNSHELVE),
    'addSecurityGroup': (security_groups.add, schemas.SECURITY_GROUP),
    'removeSecurityGroup': (security_groups.remove, schemas.SECURITY_GROUP),
    'trigger_crash_dump': (crash_dump.trigger_crash_dump, schemas.TRIGGER_CRASH_DUMP),
}


@bp.post('/servers/<server_id>/action')
def server_action(server_id: str):
    body = validation.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.BadRequest('Malformed request body')
    name, payload = next(iter(body.items()))
    if name == 'resetNetwork':  # nova-network's, removed: gone, as Nova answers it
        raise errors.APIError(removed.GONE_MESSAGE, code=410)
    if name not in ACTIONS:
        raise errors.BadRequest(f'There is no such action: {name}')
    handler, windows = ACTIONS[name]
    # Validated as the whole body, so errors name the field as Nova's do
    # ("Invalid input for field/attribute reboot. ...").
    validation.validate(body, {'type': 'object',
                               'properties': {name: validation.schema_for(windows, g.want)},
                               'required': [name], 'additionalProperties': False})
    with session.reader() as s:
        instance = get_instance(server_id, s)
    response = handler(instance, payload)
    # Most actions answer 202 with no body; some (createImage, rebuild) say more.
    return response if response is not None else ('', 202)
