"""The deprecated network proxies, reads only: GET /os-networks, /os-networks/{id},
/os-tenant-networks and /os-tenant-networks/{id} (up to 2.35; 404 from 2.36, as Nova).

Both list what the network service shows the caller (kumo_common.network: Kumo's own
network service, or an external Neutron asked with the caller's token), so a project
sees its own networks, the shared and the external ones, and an admin all of them.
Their writes were nova-network's and are gone (410, kumo_api.resources.removed).
Nova's [api] use_neutron_default_nets (tenant networks adding another project's
networks) is not offered: it is off by default.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy
from kumo_api.views import network_proxies as views
from kumo_common import exceptions, network

bp = Blueprint('network_proxies', __name__)


def _check(rule: str) -> None:
    # Nova removed the proxy APIs at 2.36 (the version is checked before the policy).
    if g.want.at_least(2, 36):
        raise errors.NotFound('The resource could not be found.')
    policy.authorize(g.context, rule, {'project_id': g.context.project_id})


def _network(network_id: str) -> dict:
    try:
        return network.api().show_network(g.context, network_id)
    except exceptions.NetworkNotFound as exc:
        raise errors.NotFound('Network not found') from exc


@bp.get('/os-networks')
def list_networks():
    _check('os_compute_api:os-networks:list')
    is_admin = g.context.is_admin_role
    return jsonify({'networks': [views.network_view(n, is_admin)
                                 for n in network.api().list_networks(g.context)]})


@bp.get('/os-networks/<network_id>')
def show_network(network_id: str):
    _check('os_compute_api:os-networks:show')
    return jsonify({'network': views.network_view(_network(network_id),
                                                  g.context.is_admin_role)})


@bp.get('/os-tenant-networks')
def list_tenant_networks():
    _check('os_compute_api:os-tenant-networks:list')
    return jsonify({'networks': [views.tenant_network_view(n)
                                 for n in network.api().list_networks(g.context)]})


@bp.get('/os-tenant-networks/<network_id>')
def show_tenant_network(network_id: str):
    _check('os_compute_api:os-tenant-networks:show')
    return jsonify({'network': views.tenant_network_view(_network(network_id))})
