"""Server metadata: /servers/{id}/metadata and /servers/{id}/metadata/{key}.

Writes lock the server's row, then check the lock, the vm_state (active, paused,
suspended or stopped; NOTES.md g) and the metadata_items quota, and write, all in
one transaction.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, g, jsonify
from oslo_config import cfg

from kumo_api import errors, policy, validation
from kumo_api.resources.servers import get_instance
from kumo_api.schemas import server_metadata as schemas
from kumo_common import states
from kumo_common.db import instance_metadata as meta_db
from kumo_common.db import models, session

CONF = cfg.CONF
bp = Blueprint('server_metadata', __name__)

# Where Nova lets users edit metadata and tags (task_state is not checked).
WRITABLE_VM_STATES = (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED)


def _authorize(action: str, instance: models.Instance) -> None:
    policy.authorize(g.context, f'os_compute_api:server-metadata:{action}',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})


def check_writable(instance: models.Instance, action: str, check_lock: bool = True) -> None:
    """409 unless the server may be changed: not locked (but for admins) and in a
    vm_state that allows it. Shared with server tags, which do not check the lock."""
    if check_lock and instance.locked and not g.context.is_admin_role:
        raise errors.Conflict(f'Instance {instance.uuid} is locked')
    if instance.vm_state not in WRITABLE_VM_STATES:
        raise errors.Conflict(f"Cannot '{action}' instance {instance.uuid} while it is in "
                              f'vm_state {instance.vm_state}')


def _metadata_limit(s, project_id: str) -> int:
    """The project's metadata_items quota (a quota-sets override, else [quota])."""
    override = s.scalar(sa.select(models.Quota.hard_limit).where(
        models.Quota.project_id == project_id, models.Quota.user_id == '',
        models.Quota.resource == 'metadata_items'))
    return CONF.quota.metadata_items if override is None else override


def _write(server_id: str, action: str, rule: str, change, check_quota: bool = True
           ) -> dict:
    """Run `change(current metadata) -> new metadata` under the server's row lock."""
    with session.transaction() as s:
        instance = get_instance(server_id, s)
        _authorize(rule, instance)
        locked = meta_db.lock_instance(s, instance.uuid)
        current = meta_db.metadata_of(locked)
        wanted = change(current)
        check_writable(locked, action)
        if check_quota:
            limit = _metadata_limit(s, locked.project_id)
            if 0 <= limit < len(wanted):
                raise errors.Forbidden(f'Maximum number of metadata items exceeds {limit}')
        meta_db.replace_metadata(s, locked, wanted)
        return wanted


@bp.get('/servers/<server_id>/metadata')
def list_metadata(server_id: str):
    with session.reader() as s:
        instance = get_instance(server_id, s)
        _authorize('index', instance)
        return jsonify({'metadata': meta_db.metadata_of(instance)})


@bp.post('/servers/<server_id>/metadata')
def update_metadata(server_id: str):
    body = validation.json_body()
    validation.validate(body, schemas.METADATA)
    metadata = _write(server_id, 'update metadata', 'create',
                      lambda current: {**current, **body['metadata']})
    return jsonify({'metadata': metadata})


@bp.put('/servers/<server_id>/metadata')
def replace_metadata(server_id: str):
    body = validation.json_body()
    validation.validate(body, schemas.METADATA)
    metadata = _write(server_id, 'update metadata', 'update_all',
                      lambda current: dict(body['metadata']))
    return jsonify({'metadata': metadata})


@bp.get('/servers/<server_id>/metadata/<key>')
def show_metadata_item(server_id: str, key: str):
    with session.reader() as s:
        instance = get_instance(server_id, s)
        _authorize('show', instance)
        metadata = meta_db.metadata_of(instance)
    if key not in metadata:
        raise errors.NotFound('Metadata item was not found')
    return jsonify({'meta': {key: metadata[key]}})


@bp.put('/servers/<server_id>/metadata/<key>')
def update_metadata_item(server_id: str, key: str):
    body = validation.json_body()
    validation.validate(body, schemas.META)
    item = body['meta']

    def change(current: dict) -> dict:
        # Checked once the caller is known to see the server, as Nova.
        if key not in item:
            raise errors.BadRequest('Request body and URI mismatch')
        return {**current, **item}

    _write(server_id, 'update metadata', 'update', change)
    return jsonify({'meta': item})


@bp.delete('/servers/<server_id>/metadata/<key>')
def delete_metadata_item(server_id: str, key: str):

    def change(current: dict) -> dict:
        if key not in current:
            raise errors.NotFound('Metadata item was not found')
        return {k: v for k, v in current.items() if k != key}

    _write(server_id, 'delete metadata', 'delete', change, check_quota=False)
    return '', 204
