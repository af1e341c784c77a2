"""Networks: GET/POST /v2.0/networks, GET/PUT/DELETE /v2.0/networks/{id} (Neutron)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from kumo_api.network_service import access, body, errors, listing, views
from kumo_common import exceptions
from kumo_common.db import keyset, models, session
from kumo_common.db import networks as network_db

bp = Blueprint('networks', __name__)
Network = models.Network

COLLECTION = listing.Collection(
    name='networks', id_column=Network.id,
    filters={
        'id': listing.Filter.column(Network.id),
        'name': listing.Filter.column(Network.name),
        'description': listing.Filter.column(Network.description),
        'project_id': listing.Filter.column(Network.project_id),
        'tenant_id': listing.Filter.column(Network.project_id),
        'shared': listing.Filter.column(Network.shared, listing.to_bool),
        'router:external': listing.Filter.column(Network.router_external, listing.to_bool),
        'is_default': listing.Filter.column(Network.is_default, listing.to_bool),
        'admin_state_up': listing.Filter.column(Network.admin_state_up, listing.to_bool),
        'status': listing.Filter.column(Network.status),
        'mtu': listing.Filter.column(Network.mtu, listing.to_int),
    },
    sort_keys={'name': keyset.SortKey(Network.name), 'id': keyset.SortKey(Network.id),
               'status': keyset.SortKey(Network.status),
               'project_id': keyset.SortKey(Network.project_id, ''),
               'mtu': keyset.SortKey(Network.mtu)})

_ATTRIBUTES = {
    'name': body.string(255),
    'description': body.string(255),
    'admin_state_up': body.boolean,
    'shared': body.boolean,
    'router:external': body.boolean,
    'is_default': body.boolean,
    'mtu': body.integer(68, 9216),
    'project_id': body.string(255),
    'tenant_id': body.string(255),
}
# Extensions' attributes clients send that Kumo accepts and does not keep.
_IGNORED = ('port_security_enabled', 'availability_zone_hints', 'dns_domain',
            'qos_policy_id', 'provider:network_type', 'provider:physical_network',
            'provider:segmentation_id', 'vlan_transparent', 'tags')
# Attributes only admins may set (policy <action>_network:<attribute>) -> their column.
_ADMIN_ATTRIBUTES = {'shared': 'shared', 'router:external': 'router_external',
                     'is_default': 'is_default'}


def load(s, network_id: str) -> models.Network:
    try:
        return network_db.get_visible_network(s, network_id, access.project_id(),
                                              access.is_admin())
    except exceptions.NetworkNotFound as exc:
        raise errors.NotFound(f'Network {network_id} could not be found.',
                              kind='NetworkNotFound') from exc


def _check_attribute_rules(action: str, values: dict, owner: str | None) -> None:
    for attribute in _ADMIN_ATTRIBUTES:
        if attribute in values:
            access.authorize(f'{action}_network:{attribute}', owner)


@bp.get('/v2.0/networks')
def list_networks():
    with session.reader() as s:
        query = sa.select(Network).where(
            network_db.network_visible_to(access.project_id(), access.is_admin()))
        return listing.respond(s, COLLECTION, query, views.network_view)


@bp.get('/v2.0/networks/<network_id>')
def show_network(network_id: str):
    with session.reader() as s:
        view = views.network_view(load(s, network_id))
    return jsonify({'network': listing.select_fields(view, request.args.getlist('fields'))})


@bp.post('/v2.0/networks')
def create_network():
    values = body.parse('network', _ATTRIBUTES, _IGNORED)
    owner = access.owner_of_new(values)
    access.authorize('create_network', owner)
    _check_attribute_rules('create', values, owner)
    with session.transaction() as s:
        network = network_db.add_network(
            s, name=values.get('name', ''), project_id=owner,
            shared=values.get('shared', False), is_default=values.get('is_default', False),
            router_external=values.get('router:external', False),
            admin_state_up=values.get('admin_state_up', True),
            description=values.get('description', ''), mtu=values.get('mtu', 1500))
        view = views.network_view(network)
    return jsonify({'network': view}), 201


@bp.put('/v2.0/networks/<network_id>')
def update_network(network_id: str):
    values = body.parse('network', {k: v for k, v in _ATTRIBUTES.items()
                                    if k not in ('project_id', 'tenant_id')}, _IGNORED)
    with session.transaction() as s:
        network = load(s, network_id)
        access.authorize('update_network', network.project_id)
        _check_attribute_rules('update', values, network.project_id)
        for attribute, value in values.items():
            setattr(network, _ADMIN_ATTRIBUTES.get(attribute, attribute), value)
        s.flush()
        view = views.network_view(network)
    return jsonify({'network': view})


@bp.delete('/v2.0/networks/<network_id>')
def delete_network(network_id: str):
    with session.transaction() as s:
        network = load(s, network_id)
        access.authorize('delete_network', network.project_id)
        network_db.delete_network(s, network)
    return '', 204
