"""A server's addresses: /servers/{id}/ips and /servers/{id}/ips/{network_label}.

As Nova's: what the server views show as `addresses` (its network info cache), each
address only as version and addr (no OS-EXT-IPS type or MAC), by network name.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy
from kumo_api.resources.servers import get_instance
from kumo_api.views import servers as views
from kumo_common.db import server_views, session

bp = Blueprint('server_ips', __name__)


def _addresses(server_id: str, rule: str) -> dict[str, list[dict]]:
    with session.statement_connection() as conn:
        instance = get_instance(server_id, conn, for_view=True)
        policy.authorize(g.context, f'os_compute_api:ips:{rule}',
                         {'project_id': instance.project_id, 'user_id': instance.user_id})
        related = views.Related(server_views.related(conn, [instance.uuid]))
    return {network: [{'version': a['version'], 'addr': a['addr']} for a in entries]
            for network, entries in views.addresses(instance, related).items()}


@bp.get('/servers/<server_id>/ips')
def list_ips(server_id: str):
    return jsonify({'addresses': _addresses(server_id, 'index')})


@bp.get('/servers/<server_id>/ips/<network_label>')
def show_ips(server_id: str, network_label: str):
    addresses = _addresses(server_id, 'show')
    if network_label not in addresses:
        raise errors.NotFound('Instance is not a member of specified network')
    return jsonify({network_label: addresses[network_label]})
