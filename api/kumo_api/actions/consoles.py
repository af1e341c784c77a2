"""A server's remote console URL: what the API checks, asks the agent and stores.

One path for POST /servers/{id}/remote-consoles and the pre-2.6 actions
(os-getSerialConsole, os-getVNCConsole, os-getSPICEConsole, os-getRDPConsole): the
server must have a host and not be deleting or migrating (409, Nova's words); the
server's compute agent says where the console listens (it refuses a type disabled
on its host: ConsoleTypeUnavailable, a 400 as Nova maps it); the API then makes a
token (kumo_common.db.console_tokens, only its hash stored) and answers the URL of
kumo-consoleproxy carrying it.

Kumo's drivers have no SPICE nor MKS consoles: those answer as Nova's libvirt driver
with [spice] and [mks] disabled (their defaults): "Unavailable console type X.".
"""
from __future__ import annotations

from flask import g, jsonify
from oslo_config import cfg

from kumo_api import errors, policy, rpc_clients
from kumo_common import exceptions
from kumo_common.db import console_tokens, session
from kumo_common.states import task

CONF = cfg.CONF

POLICY = 'os_compute_api:os-remote-consoles'
# protocol -> (the console types it serves here, Nova's compute API method name); None:
# any type the schema lets through (Nova's serial console never looks at the type).
PROTOCOLS = {
    'serial': (None, 'get_serial_console'),
    'vnc': (('novnc',), 'get_vnc_console'),
    'spice': ((), 'get_spice_console'),
    'mks': ((), 'get_mks_console'),
}
# What webob says for a bare HTTPBadRequest (Nova's answer to the removed RDP console).
PLAIN_400 = ('The server could not comply with the request since it is either '
             'malformed or otherwise incorrect.')


def authorize(instance) -> None:
    policy.authorize(g.context, POLICY, {'project_id': instance.project_id,
                                         'user_id': instance.user_id})


def console_url(instance, protocol: str, console_type: str) -> str:
    """A new URL for the server's console (the checks in the module docstring)."""
    if protocol == 'rdp':
        raise errors.BadRequest(f'Unavailable console type {protocol}.')
    served, method = PROTOCOLS[protocol]
    if not instance.host:
        raise errors.Conflict(f'Instance {instance.uuid} is not ready')
    if instance.task_state in (task.DELETING, task.MIGRATING):
        raise errors.Conflict(f"Cannot '{method}' instance {instance.uuid} while it is "
                              f'in task_state {instance.task_state}')
    if served == ():
        raise errors.BadRequest(f'Unavailable console type {console_type}.')
    where = _ask_agent(instance, protocol, console_type)
    if served is not None and console_type not in served:
        # (Nova checks the type after the enabled flag, on the compute host.)
        raise errors.BadRequest(f'Invalid console type {console_type}')
    if where is None:
        raise errors.APIError('The requested functionality is not supported.', code=501)
    base = (CONF.serial_console.base_url if protocol == 'serial'
            else CONF.vnc.novncproxy_base_url)
    with session.transaction() as s:
        token = console_tokens.create(
            s, instance.uuid, console_type, where['host'], where['port'], base,
            CONF.consoleauth.token_ttl, where.get('internal_access_path'))
    return console_tokens.access_url(console_type, base, token)


def _ask_agent(instance, protocol: str, console_type: str) -> dict | None:
    compute = rpc_clients.compute()
    ask = compute.get_serial_console if protocol == 'serial' else compute.get_vnc_console
    try:
        with rpc_clients.agent_answer(instance.uuid, f'{protocol} console'):
            return ask(g.context, instance.host, instance.uuid)
    except exceptions.ConsoleTypeUnavailable as exc:
        # Disabled on the agent's host: Nova names the type asked for; a guest without
        # the device: the agent's word ('serial', 'vnc'), as Nova's driver says it.
        # (str(exc) carries the agent's traceback: the message is made again here.)
        said = exc.kwargs.get('console_type')
        named = console_type if said in ('serial', 'novnc') else said
        raise errors.BadRequest(f'Unavailable console type {named}.') from exc


# --- the pre-2.6 server actions (dispatched from resources/server_actions.py) ---------
def _legacy(protocol: str, action: str):
    def handler(instance, body):
        authorize(instance)
        console_type = body['type']
        url = console_url(instance, protocol, console_type)
        return jsonify({'console': {'type': console_type, 'url': url}})
    handler.__name__ = action
    return handler


get_serial_console = _legacy('serial', 'os-getSerialConsole')
get_vnc_console = _legacy('vnc', 'os-getVNCConsole')
get_spice_console = _legacy('spice', 'os-getSPICEConsole')


def get_rdp_console(instance, body):
    """Removed with the Hyper-V driver (Nova 29): a plain 400, whatever the body."""
    raise errors.BadRequest(PLAIN_400)
