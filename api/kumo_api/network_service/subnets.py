"""Subnets: GET/POST /v2.0/subnets, GET/PUT/DELETE /v2.0/subnets/{id} (Neutron)."""
from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from kumo_api.network_service import access, body, errors, listing, networks, views
from kumo_common.db import keyset, models, session
from kumo_common.db import networks as network_db

bp = Blueprint('subnets', __name__)
Subnet = models.Subnet
Network = models.Network

COLLECTION = listing.Collection(
    name='subnets', id_column=Subnet.id,
    filters={
        'id': listing.Filter.column(Subnet.id),
        'name': listing.Filter.column(Subnet.name),
        'description': listing.Filter.column(Subnet.description),
        'network_id': listing.Filter.column(Subnet.network_id),
        'cidr': listing.Filter.column(Subnet.cidr),
        'ip_version': listing.Filter.column(Subnet.ip_version, listing.to_int),
        'gateway_ip': listing.Filter.column(Subnet.gateway_ip),
        'enable_dhcp': listing.Filter.column(Subnet.enable_dhcp, listing.to_bool),
        'project_id': listing.Filter.column(Network.project_id),
        'tenant_id': listing.Filter.column(Network.project_id),
    },
    sort_keys={'name': keyset.SortKey(Subnet.name, ''), 'id': keyset.SortKey(Subnet.id),
               'cidr': keyset.SortKey(Subnet.cidr),
               'network_id': keyset.SortKey(Subnet.network_id),
               'ip_version': keyset.SortKey(Subnet.ip_version)})

_POOLS = body.dict_list({'start': body.ip_address, 'end': body.ip_address},
                        required=('start', 'end'))
_ROUTES = body.dict_list({'destination': body.string(64), 'nexthop': body.ip_address},
                         required=('destination', 'nexthop'))
_UPDATABLE = {
    'name': body.string(255),
    'description': body.string(255),
    'gateway_ip': body.nullable(body.ip_address),
    'allocation_pools': _POOLS,
    'enable_dhcp': body.boolean,
    'dns_nameservers': body.string_list,
    'host_routes': _ROUTES,
}
_ATTRIBUTES = {
    **_UPDATABLE,
    'network_id': body.uuid,
    'cidr': body.string(64),
    'ip_version': body.integer(4, 6),
    'project_id': body.string(255),
    'tenant_id': body.string(255),
}
_IGNORED = ('ipv6_address_mode', 'ipv6_ra_mode', 'segment_id', 'service_types',
            'use_default_subnetpool', 'tags')


def _view(subnet: models.Subnet) -> dict:
    return views.subnet_view(subnet, _project_of(subnet))


def _project_of(subnet: models.Subnet) -> str | None:
    network = sa.inspect(subnet).session.get(Network, subnet.network_id)
    return network.project_id if network is not None else None


def load(s, subnet_id: str) -> models.Subnet:
    subnet = s.scalars(sa.select(Subnet).join(Network, Network.id == Subnet.network_id)
                       .where(Subnet.id == subnet_id, network_db.network_visible_to(
                           access.project_id(), access.is_admin()))).first()
    if subnet is None:
        raise errors.NotFound(f'Subnet {subnet_id} could not be found.',
                              kind='SubnetNotFound')
    return subnet


@bp.get('/v2.0/subnets')
def list_subnets():
    with session.reader() as s:
        query = sa.select(Subnet).join(Network, Network.id == Subnet.network_id).where(
            network_db.network_visible_to(access.project_id(), access.is_admin()))
        return listing.respond(s, COLLECTION, query, _view)


@bp.get('/v2.0/subnets/<subnet_id>')
def show_subnet(subnet_id: str):
    with session.reader() as s:
        view = _view(load(s, subnet_id))
    return jsonify({'subnet': listing.select_fields(view, request.args.getlist('fields'))})


@bp.post('/v2.0/subnets')
def create_subnet():
    values = body.parse('subnet', _ATTRIBUTES, _IGNORED,
                        required=('network_id', 'ip_version'))
    if 'cidr' not in values:
        raise errors.BadRequest('a subnetpool must be specified in the absence of a cidr')
    access.owner_of_new(values)
    with session.transaction() as s:
        network = networks.load(s, values['network_id'])
        # Subnets go on networks of one's own project (or any, for admins).
        access.authorize('create_subnet', network.project_id)
        subnet = network_db.add_subnet(
            s, network, cidr=_cidr(values['cidr'], values['ip_version']),
            ip_version=values['ip_version'],
            gateway_ip=values.get('gateway_ip', network_db.DEFAULT_GATEWAY),
            allocation_pools=values.get('allocation_pools'),
            enable_dhcp=values.get('enable_dhcp', True), name=values.get('name', ''),
            description=values.get('description', ''),
            dns_nameservers=values.get('dns_nameservers'),
            host_routes=values.get('host_routes'))
        view = views.subnet_view(subnet, network.project_id)
    return jsonify({'subnet': view}), 201


def _cidr(value: str, ip_version: int) -> str:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise errors.BadRequest(f"Invalid input for cidr. Reason: '{value}' is not a valid "
                                f"IP subnet.") from exc
    if net.version != ip_version:
        raise errors.BadRequest('Invalid input for operation: Cidr and ip_version are '
                                'inconsistent.')
    return str(net)


@bp.put('/v2.0/subnets/<subnet_id>')
def update_subnet(subnet_id: str):
    values = body.parse('subnet', _UPDATABLE, _IGNORED)
    with session.transaction() as s:
        subnet = load(s, subnet_id)
        network = s.get(Network, subnet.network_id)
        access.authorize('update_subnet', network.project_id)
        net = ipaddress.ip_network(subnet.cidr)
        if 'gateway_ip' in values and values['gateway_ip'] is not None \
                and ipaddress.ip_address(values['gateway_ip']).version != net.version:
            raise errors.BadRequest(f'Invalid input for operation: gateway_ip '
                                    f'{values["gateway_ip"]} is not an IPv{net.version} '
                                    f'address.')
        if 'allocation_pools' in values:
            gateway = values.get('gateway_ip', subnet.gateway_ip)
            values['allocation_pools'] = network_db.checked_pools(
                net, values['allocation_pools'], gateway)
        for attribute, value in values.items():
            setattr(subnet, attribute, value)
        s.flush()
        view = views.subnet_view(subnet, network.project_id)
    return jsonify({'subnet': view})


@bp.delete('/v2.0/subnets/<subnet_id>')
def delete_subnet(subnet_id: str):
    with session.transaction() as s:
        subnet = load(s, subnet_id)
        network = s.get(Network, subnet.network_id)
        access.authorize('delete_subnet', network.project_id)
        network_db.delete_subnet(s, subnet)
    return '', 204
