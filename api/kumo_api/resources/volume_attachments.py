"""A server's volume attachments: /servers/{id}/os-volume_attachments[/{volume_id}].

Kumo has no volume service (block_devices.NO_VOLUME_SERVICE), so no server has a
volume attached and no volume exists to attach: the list is empty, a given
attachment is not there, and attaching, swapping or detaching a volume answers what
Nova answers when the volume service does not know the volume. Requests are checked
as Nova checks them first (its schemas, the server, policy, lock and state), so
a client sees the same errors in the same order.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy, validation
from kumo_api.actions import lifecycle
from kumo_api.resources.servers import get_instance
from kumo_api.schemas import volume_attachments as schemas
from kumo_common import states
from kumo_common.db import models, session

bp = Blueprint('volume_attachments', __name__)

_RULE = 'os_compute_api:os-volumes-attachments:%s'
_PATH = '/servers/<server_id>/os-volume_attachments'
# nova.compute.api attach_volume/detach_volume's check_instance_state.
_ATTACHABLE = (states.ACTIVE, states.PAUSED, states.STOPPED, states.RESIZED,
               states.SOFT_DELETED, states.SHELVED, states.SHELVED_OFFLOADED)


def _server(server_id: str, rule: str) -> models.Instance:
    with session.reader() as s:
        instance = get_instance(server_id, s)
    policy.authorize(g.context, _RULE % rule, {'project_id': instance.project_id})
    return instance


def _no_volume(volume_id: str) -> errors.APIError:
    return errors.NotFound(f'Volume {volume_id} could not be found.')


def _not_attached(server_id: str, volume_id: str) -> errors.APIError:
    return errors.NotFound(f'Instance {server_id} is not attached to volume {volume_id}')


def _check_shelved(instance: models.Instance, method: str) -> None:
    """Volumes of shelved servers are managed from 2.20 only."""
    if (instance.vm_state in (states.SHELVED, states.SHELVED_OFFLOADED)
            and not g.want.at_least(2, 20)):
        raise lifecycle.invalid_state(method, instance, 'vm_state', instance.vm_state)


def _check_changeable(instance: models.Instance, method: str) -> None:
    lifecycle.check_not_locked(g.context, instance)
    if instance.vm_state not in _ATTACHABLE:
        raise lifecycle.invalid_state(method, instance, 'vm_state', instance.vm_state)


@bp.get(_PATH)
def list_volume_attachments(server_id: str):
    validation.validate_query(schemas.index_query(g.want))
    _server(server_id, 'index')
    return jsonify({'volumeAttachments': []})


@bp.get(f'{_PATH}/<volume_id>')
def show_volume_attachment(server_id: str, volume_id: str):
    _server(server_id, 'show')
    raise _not_attached(server_id, volume_id)


@bp.post(_PATH)
def attach_volume(server_id: str):
    body = validation.json_body()
    validation.validate_versioned(body, schemas.CREATE, g.want)
    instance = _server(server_id, 'create')
    _check_shelved(instance, 'attach_volume')
    _check_changeable(instance, 'attach_volume')
    raise _no_volume(body['volumeAttachment']['volumeId'])


@bp.put(f'{_PATH}/<volume_id>')
def update_volume_attachment(server_id: str, volume_id: str):
    body = validation.json_body()
    validation.validate_versioned(body, schemas.UPDATE, g.want)
    with session.reader() as s:
        instance = get_instance(server_id, s)
    swap = body['volumeAttachment']['volumeId'] != volume_id
    if swap or not g.want.at_least(2, 85):
        policy.authorize(g.context, _RULE % 'swap', {})
    else:
        policy.authorize(g.context, _RULE % 'update', {'project_id': instance.project_id})
    if g.want.at_least(2, 85):
        # The attachment itself is looked up first (Nova's regular update): none.
        raise errors.NotFound(f'No volume Block Device Mapping with id {volume_id}.')
    # Before 2.85 only a swap (Cinder's migration call): the volume left is unknown.
    raise _no_volume(volume_id)


@bp.delete(f'{_PATH}/<volume_id>')
def detach_volume(server_id: str, volume_id: str):
    instance = _server(server_id, 'delete')
    _check_shelved(instance, 'detach_volume')
    raise _no_volume(volume_id)
