"""A server's encrypted password: /servers/{id}/os-server-password (GET, DELETE).

Where Nova keeps it: the server's system metadata `password_0`..`password_3`, which
a guest fills through the metadata service's password call. Kumo has no metadata
service yet, so no guest has written one and GET answers "" (as Nova does for a
guest that never posted one); DELETE clears the items, as Nova's (the guest's own
password is not changed).
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import policy
from kumo_api.resources.servers import get_instance
from kumo_common.db import models, session

bp = Blueprint('server_password', __name__)

_KEYS = tuple(f'password_{n}' for n in range(4))


def _authorize(rule: str, instance: models.Instance) -> None:
    policy.authorize(g.context, f'os_compute_api:os-server-password:{rule}',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})


@bp.get('/servers/<server_id>/os-server-password')
def show_password(server_id: str):
    with session.reader() as s:
        instance = get_instance(server_id, s)
        _authorize('show', instance)
        items = {row.key: row.value for row in instance.system_metadata
                 if row.key in _KEYS}
    return jsonify({'password': ''.join(items.get(k) or '' for k in _KEYS)})


@bp.delete('/servers/<server_id>/os-server-password')
def clear_password(server_id: str):
    with session.transaction() as s:
        instance = get_instance(server_id, s)
        _authorize('clear', instance)
        for row in instance.system_metadata:
            if row.key in _KEYS:
                row.value = ''
    return '', 204
