"""A server's NUMA topology: GET /servers/{id}/topology (2.78).

Kumo's guests get no NUMA topology of their own (no hw:numa_* or CPU pinning: the
scheduler places whole hosts, and the libvirt driver defines no <numatune>), so every
server answers as Nova answers for an instance without one: no nodes, no page size.
The host part of the view (host NUMA node, CPU pinning), which
compute:server:topology:host:index guards, has nothing to show.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy
from kumo_api.resources.servers import get_instance
from kumo_common.db import session

bp = Blueprint('server_topology', __name__)


@bp.get('/servers/<server_id>/topology')
def show_topology(server_id: str):
    if not g.want.at_least(2, 78):
        raise errors.NotFound('The resource could not be found.')
    with session.reader() as s:
        instance = get_instance(server_id, s)
        policy.authorize(g.context, 'compute:server:topology:index',
                         {'project_id': instance.project_id})
    return jsonify({'nodes': [], 'pagesize_kb': None})
