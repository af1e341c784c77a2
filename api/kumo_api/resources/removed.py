"""Nova APIs that were removed but still answer, with 410 Gone, at every microversion:
nova-network's and cells v1's, the agents, cloudpipe, certificates, fping, consoles
and virtual interfaces. Nova keeps their routes so a client learns the API is gone
rather than that it mistyped a path; so does Kumo (a path no route takes is a 404,
kumo_api.app). The resetNetwork action's 410 is with the other actions
(kumo_api.resources.server_actions).
"""
from __future__ import annotations

from flask import Blueprint

from kumo_api import errors

bp = Blueprint('removed', __name__)

# (path, methods) of every removed API, as Nova's router lists them.
REMOVED = (
    ('/os-agents', ('GET', 'POST')),
    ('/os-agents/<item_id>', ('PUT', 'DELETE')),
    ('/os-cells', ('GET', 'POST')),
    ('/os-cells/capacities', ('GET',)),
    ('/os-cells/detail', ('GET',)),
    ('/os-cells/info', ('GET',)),
    ('/os-cells/sync_instances', ('POST',)),
    ('/os-cells/<item_id>', ('GET', 'PUT', 'DELETE')),
    ('/os-cells/<item_id>/capacities', ('GET',)),
    ('/os-certificates', ('POST',)),
    ('/os-certificates/<item_id>', ('GET',)),
    ('/os-cloudpipe', ('GET', 'POST')),
    ('/os-cloudpipe/<item_id>', ('PUT',)),
    ('/os-fixed-ips/<item_id>', ('GET',)),
    ('/os-fixed-ips/<item_id>/action', ('POST',)),
    ('/os-floating-ip-dns', ('GET',)),
    ('/os-floating-ip-dns/<item_id>', ('PUT', 'DELETE')),
    ('/os-floating-ip-dns/<domain_id>/entries/<item_id>', ('GET', 'PUT', 'DELETE')),
    ('/os-floating-ips-bulk', ('GET', 'POST')),
    ('/os-floating-ips-bulk/<item_id>', ('GET', 'PUT')),
    ('/os-fping', ('GET',)),
    ('/os-fping/<item_id>', ('GET',)),
    # os-networks and os-tenant-networks: their reads (a Neutron proxy until 2.36)
    # are not gone (kumo_api.resources.network_proxies).
    ('/os-networks', ('POST',)),
    ('/os-networks/add', ('POST',)),
    ('/os-networks/<item_id>', ('DELETE',)),
    ('/os-networks/<item_id>/action', ('POST',)),
    ('/os-security-group-default-rules', ('GET', 'POST')),
    ('/os-security-group-default-rules/<item_id>', ('GET', 'DELETE')),
    ('/os-tenant-networks', ('POST',)),
    ('/os-tenant-networks/<item_id>', ('DELETE',)),
    ('/servers/<server_id>/consoles', ('GET', 'POST')),
    ('/servers/<server_id>/consoles/<item_id>', ('GET', 'DELETE')),
    ('/servers/<server_id>/os-virtual-interfaces', ('GET',)),
)

GONE_MESSAGE = 'This resource is no longer available. No forwarding address is given.'


def gone(**_ids):
    raise errors.APIError(GONE_MESSAGE, code=410)


for _path, _methods in REMOVED:
    bp.add_url_rule(_path, endpoint='gone' + _path.replace('/', '_'), view_func=gone,
                    methods=list(_methods))
