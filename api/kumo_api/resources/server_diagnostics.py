"""GET /servers/{id}/diagnostics (admin): what the hypervisor tells of a running
server, asked of its compute agent (compute RPC 1.8), shaped per microversion by
kumo_api.views.server_diagnostics.

As Nova: a server with no host yet is "not ready" (409); the agent refuses a guest
that is not running (409, naming its power state); a driver that cannot tell is a
501. Query parameters are not looked at (Nova accepts any up to 2.101).
"""
from __future__ import annotations

import datetime

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy, rpc_clients
from kumo_api.resources.servers import get_instance
from kumo_api.views import server_diagnostics as views
from kumo_common import exceptions, objects
from kumo_common.db import models, session

bp = Blueprint('server_diagnostics', __name__)


@bp.get('/servers/<server_id>/diagnostics')
def show_diagnostics(server_id: str):
    with session.reader() as s:
        instance = get_instance(server_id, s)
        policy.authorize(g.context, 'os_compute_api:os-server-diagnostics',
                         {'project_id': instance.project_id})
        host, launched_at = instance.host, instance.launched_at
    if not host:
        raise errors.Conflict(f'Instance {server_id} is not ready')
    diags = _ask_agent(host, server_id)
    if not g.want.at_least(2, 48):
        return jsonify(views.driver_view(diags))
    uptime = diags.uptime if diags.uptime is not None else _seconds_since(launched_at)
    return jsonify(views.standard_view(diags, uptime))


def _ask_agent(host: str, server_id: str) -> objects.InstanceDiagnostics:
    try:
        with rpc_clients.agent_answer(server_id, 'diagnostics'):
            diags = rpc_clients.compute().get_instance_diagnostics(g.context, host,
                                                                   server_id)
    except exceptions.InstanceInvalidState as exc:
        # (Its str() carries the agent's traceback: the message is made again here.)
        raise errors.Conflict(f"Cannot 'get_diagnostics' instance {server_id} while it "
                              f"is in power state {exc.kwargs.get('state')}") from exc
    if diags is None:
        raise errors.APIError('The requested functionality is not supported.', code=501)
    return diags


def _seconds_since(launched_at: datetime.datetime | None) -> int | None:
    """Nova's uptime: from the server's launch (where the driver cannot tell when the
    guest started)."""
    if launched_at is None:
        return None
    return max(0, int((models.utcnow() - launched_at).total_seconds()))
