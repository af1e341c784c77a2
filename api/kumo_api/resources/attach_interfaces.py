"""A server's interfaces: /servers/{id}/os-interface[/{port_id}] (Nova's
os-attach-interfaces).

The list and show read the server's ports from the network service (Kumo's own or
an external Neutron, with the caller's token), as Nova reads Neutron; attach and
detach are kumo_api.actions.interfaces. Errors are Nova's, in Nova's order: the
server (404), policy (403), the body (400), then lock and state (409).
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy, validation
from kumo_api.actions import interfaces
from kumo_api.resources.servers import get_instance
from kumo_api.schemas import attach_interfaces as schemas
from kumo_api.views import attach_interfaces as views
from kumo_common import exceptions, network
from kumo_common.db import models, session
from kumo_common.db import system_metadata as sysmeta

bp = Blueprint('attach_interfaces', __name__)

_RULE = 'os_compute_api:os-attach-interfaces:%s'
_PATH = '/servers/<server_id>/os-interface'


def _server(server_id: str, rule: str) -> models.Instance:
    with session.reader() as s:
        instance = get_instance(server_id, s)
    policy.authorize(g.context, _RULE % rule, {'project_id': instance.project_id})
    return instance


def _tags(instance_uuid: str) -> dict[str, str] | None:
    """The interfaces' tags when the microversion shows them (2.70)."""
    if not g.want.at_least(2, 70):
        return None
    with session.reader() as s:
        return sysmeta.interface_tags(s, instance_uuid)


def _show(instance: models.Instance, port_id: str):
    try:
        port = network.api().show_port(g.context, port_id)
    except exceptions.PortNotFound as exc:
        raise errors.NotFound(f'Port id {port_id} could not be found.') from exc
    if port['device_id'] != instance.uuid:
        raise errors.NotFound(f'Instance {instance.uuid} does not have a port with id '
                              f'{port_id}')
    return jsonify({'interfaceAttachment': views.attachment(port, _tags(instance.uuid))})


@bp.get(_PATH)
def list_interfaces(server_id: str):
    instance = _server(server_id, 'list')
    ports = network.api().instance_ports(g.context, instance.uuid)
    tags = _tags(instance.uuid)
    return jsonify({'interfaceAttachments': [views.attachment(p, tags) for p in ports]})


@bp.get(f'{_PATH}/<port_id>')
def show_interface(server_id: str, port_id: str):
    return _show(_server(server_id, 'show'), port_id)


@bp.post(_PATH)
def attach_interface(server_id: str):
    body = validation.json_body()
    validation.validate_versioned(body, schemas.CREATE, g.want)
    instance = _server(server_id, 'create')
    attachment = body.get('interfaceAttachment') or {}
    network_id, port_id = attachment.get('net_id'), attachment.get('port_id')
    fixed_ips = attachment.get('fixed_ips') or [{}]
    fixed_ip = fixed_ips[0].get('ip_address')
    if network_id and port_id:
        raise errors.BadRequest('Must not input both network_id and port_id')
    if fixed_ip and not network_id:
        raise errors.BadRequest('Must input network_id when request IP address')
    port = interfaces.attach(g.context, instance, network_id, port_id, fixed_ip,
                             attachment.get('tag'))
    return _show(instance, port['id'])


@bp.delete(f'{_PATH}/<port_id>')
def detach_interface(server_id: str, port_id: str):
    instance = _server(server_id, 'delete')
    interfaces.detach(g.context, instance, port_id)
    return '', 202
