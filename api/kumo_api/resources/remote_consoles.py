"""POST /servers/{id}/remote-consoles (2.6+) and GET /os-console-auth-tokens/{token}.

The first answers a URL of kumo-consoleproxy for the server's serial or VNC console
(kumo_api.actions.consoles does the work, shared with the pre-2.6 actions); the
second (admin) tells what a token connects to, as Nova: before 2.31 a plain 400
(it served the removed RDP console only), an unknown or expired token a 404.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy, validation
from kumo_api.actions import consoles
from kumo_api.resources.servers import get_instance
from kumo_api.schemas import remote_consoles as schemas
from kumo_common.db import console_tokens, session

bp = Blueprint('remote_consoles', __name__)


@bp.post('/servers/<server_id>/remote-consoles')
def create_remote_console(server_id: str):
    validation.schema_for(schemas.CREATE, g.want)   # before 2.6: Nova's 404
    body = validation.json_body()
    validation.validate_versioned(body, schemas.CREATE, g.want)
    with session.reader() as s:
        instance = get_instance(server_id, s)
    consoles.authorize(instance)
    protocol = body['remote_console']['protocol']
    console_type = body['remote_console']['type']
    url = consoles.console_url(instance, protocol, console_type)
    return jsonify({'remote_console': {'protocol': protocol, 'type': console_type,
                                       'url': url}})


@bp.get('/os-console-auth-tokens/<token>')
def show_console_auth_token(token: str):
    if not g.want.at_least(2, 31):
        raise errors.BadRequest(consoles.PLAIN_400)
    validation.validate_query(validation.schema_for(schemas.TOKEN_QUERY, g.want))
    policy.authorize(g.context, 'os_compute_api:os-console-auth-tokens',
                     {'project_id': g.context.project_id})
    with session.reader() as s:
        row = console_tokens.validate(s, token)
        if row is None:
            raise errors.NotFound('Token not found')
        return jsonify({'console': {
            'instance_uuid': row.instance_uuid, 'host': row.host, 'port': row.port,
            'internal_access_path': row.internal_access_path}})
