"""Ports: GET/POST /v2.0/ports, GET/PUT/DELETE /v2.0/ports/{id} (Neutron).

A port made here is the user's: given to a server (`networks: [{"port": id}]`), it is
bound to it and, when the server is deleted, only unbound (preserve_on_delete). The
ports the conductor allocates for servers show here too (device_id = the server).
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from kumo_api.network_service import access, body, errors, listing, networks, views
from kumo_common import exceptions
from kumo_common.db import keyset, models, network_cache, session
from kumo_common.db import networks as network_db
from kumo_common.db import ports as port_db
from kumo_common.db import security_groups as sg_db

bp = Blueprint('ports', __name__)
Port = models.Port

_FIXED_IP_KEYS = ('ip_address', 'subnet_id', 'ip_address_substr')


def _fixed_ip_filter(value: str) -> tuple[str, str]:
    key, sep, wanted = value.partition('=')
    if not sep or key not in _FIXED_IP_KEYS:
        raise ValueError(value)
    return key, wanted


def _fixed_ips_clause(values: list[tuple[str, str]]):
    """Neutron's fixed_ips filter: the same key repeated is an OR, different keys AND."""
    by_key: dict[str, list[str]] = {}
    for key, wanted in values:
        by_key.setdefault(key, []).append(wanted)
    return sa.and_(*[sa.or_(*[port_db.fixed_ip_clause(**{key: v}) for v in wanted])
                     for key, wanted in by_key.items()])


COLLECTION = listing.Collection(
    name='ports', id_column=Port.id,
    filters={
        'id': listing.Filter.column(Port.id),
        'name': listing.Filter.column(Port.name),
        'description': listing.Filter.column(Port.description),
        'network_id': listing.Filter.column(Port.network_id),
        'device_id': listing.Filter.column(Port.device_id),
        'device_owner': listing.Filter.column(Port.device_owner),
        'mac_address': listing.Filter.column(Port.mac_address),
        'status': listing.Filter.column(Port.status),
        'project_id': listing.Filter.column(Port.project_id),
        'tenant_id': listing.Filter.column(Port.project_id),
        'admin_state_up': listing.Filter.column(Port.admin_state_up, listing.to_bool),
        'binding:host_id': listing.Filter.column(Port.binding_host_id),
        'fixed_ips': listing.Filter(_fixed_ips_clause, _fixed_ip_filter),
    },
    sort_keys={'name': keyset.SortKey(Port.name), 'id': keyset.SortKey(Port.id),
               'network_id': keyset.SortKey(Port.network_id),
               'device_id': keyset.SortKey(Port.device_id, ''),
               'mac_address': keyset.SortKey(Port.mac_address),
               'status': keyset.SortKey(Port.status)})

_MAC = re.compile(r'^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$')


def _mac(name: str, value):
    if not isinstance(value, str) or not _MAC.match(value):
        raise errors.BadRequest(f"Invalid input for {name}. Reason: '{value}' is not a valid "
                                f"MAC address.")
    return value.lower()


_FIXED_IPS = body.dict_list({'subnet_id': body.uuid, 'ip_address': body.ip_address})
_UPDATABLE = {
    'name': body.string(255),
    'description': body.string(255),
    'admin_state_up': body.boolean,
    'device_id': body.string(255),
    'device_owner': body.string(255),
}
_ATTRIBUTES = {
    **_UPDATABLE,
    'network_id': body.uuid,
    'mac_address': _mac,
    'fixed_ips': _FIXED_IPS,
    'project_id': body.string(255),
    'tenant_id': body.string(255),
}
_IGNORED = ('security_groups', 'port_security_enabled', 'allowed_address_pairs',
            'extra_dhcp_opts', 'binding:vnic_type', 'binding:profile',
            'qos_policy_id', 'dns_name', 'tags', 'propagate_uplink_status')
# The host the port is bound to: a compute API's conductor moves it with the server
# (kumo_common.network.neutron.bind_ports); '' or null unbinds, as Neutron's ML2.
# Services and admins only, as Neutron's policy (create/update_port:binding:host_id).
_BINDING = {'binding:host_id': body.nullable(body.string(255))}


# Neutron can change these on a live port; Kumo cannot (yet): a clear 400.
_NOT_UPDATABLE = ('fixed_ips', 'mac_address')
# A create or update may set the port's security groups (Nova's addSecurityGroup
# does): groups of the port's project.
_GROUPS = {'security_groups': body.string_list}
_IGNORED_ON_UPDATE = tuple(name for name in _IGNORED if name not in _GROUPS)


def _known_groups(s, project_id: str | None, group_ids: list[str]) -> list[str]:
    """The ids, each a group of the port's project (Neutron's check). The project's
    default is always one, made or not yet (ensure_default writes in a transaction
    of its own, which must not wait on this one)."""
    default = sg_db.default_group_id(project_id) if project_id else None
    for group_id in group_ids:
        if group_id != default:
            sg_db.get(s, group_id, project_id, False)
    return list(dict.fromkeys(group_ids))


def load(s, port_id: str) -> models.Port:
    try:
        return port_db.get_visible(s, port_id, access.project_id(), access.is_admin())
    except exceptions.PortNotFound as exc:
        raise errors.NotFound(f'Port {port_id} could not be found.',
                              kind='PortNotFound') from exc


@bp.get('/v2.0/ports')
def list_ports():
    with session.reader() as s:
        query = sa.select(Port).where(port_db.visible_to(access.project_id(),
                                                         access.is_admin()))
        return listing.respond(s, COLLECTION, query, views.port_view)


@bp.get('/v2.0/ports/<port_id>')
def show_port(port_id: str):
    with session.reader() as s:
        view = views.port_view(load(s, port_id))
    return jsonify({'port': listing.select_fields(view, request.args.getlist('fields'))})


@bp.post('/v2.0/ports')
def create_port():
    values = body.parse('port', {**_ATTRIBUTES, **_GROUPS, **_BINDING},
                        _IGNORED_ON_UPDATE, required=('network_id',))
    owner = access.owner_of_new(values)
    access.authorize('create_port', owner)
    if 'mac_address' in values:
        access.authorize('create_port:mac_address', owner)
    if 'binding:host_id' in values:
        access.authorize('create_port:binding:host_id', owner)
    with session.reader() as s:
        # The network must be one the caller may use (own, shared or external).
        networks.load(s, values['network_id'])
        groups = (_known_groups(s, owner, values['security_groups'])
                  if 'security_groups' in values else None)
    port = network_db.allocate_port(
        session.transaction, values['network_id'], None, owner,
        fixed_ips=values.get('fixed_ips'), name=values.get('name', ''),
        description=values.get('description', ''),
        admin_state_up=values.get('admin_state_up', True),
        mac_address=values.get('mac_address'), preserve_on_delete=True,
        device_owner=values.get('device_owner', ''),
        host=values.get('binding:host_id') or None)
    with session.transaction() as s:
        port = s.get(Port, port.id)
        if groups is not None:
            port.security_groups = groups
        if values.get('device_id'):
            port.device_id = values['device_id']
            s.flush()
        view = views.port_view(port)
    return jsonify({'port': view}), 201


@bp.put('/v2.0/ports/<port_id>')
def update_port(port_id: str):
    values = body.parse('port', {**_UPDATABLE, **_GROUPS, **_BINDING},
                        _IGNORED_ON_UPDATE + _NOT_UPDATABLE)
    asked = (request.get_json(silent=True) or {}).get('port', {})
    for attribute in _NOT_UPDATABLE:
        if attribute in asked:
            raise errors.BadRequest(f"Updating a port's {attribute} is not supported by "
                                    f"Kumo's network service; create a new port instead.")
    with session.transaction() as s:
        port = load(s, port_id)
        access.authorize('update_port', port.project_id)
        if 'security_groups' in values:
            port.security_groups = _known_groups(s, port.project_id,
                                                 values.pop('security_groups'))
        if 'binding:host_id' in values:
            access.authorize('update_port:binding:host_id', port.project_id)
            port.binding_host_id = values.pop('binding:host_id') or None
        for attribute, value in values.items():
            setattr(port, attribute, value)
        s.flush()
        view = views.port_view(port)
    return jsonify({'port': view})


@bp.delete('/v2.0/ports/<port_id>')
def delete_port(port_id: str):
    with session.transaction() as s:
        port = load(s, port_id)
        access.authorize('delete_port', port.project_id)
        device_id = port.device_id
        port_db.delete(s, port)
        if device_id:
            # A server's port went from under it: its addresses go from its views
            # (Neutron's network-vif-deleted event to Nova).
            s.flush()
            network_cache.refresh_if_cached(s, device_id)
    return '', 204
