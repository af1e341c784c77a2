"""Views of the network proxies: a Neutron network in nova-network's shape.

Nova kept nova-network's keys when it began proxying Neutron, but only two of them
have a Neutron counterpart (the id, and the name as `label`); the others are null.
"""
from __future__ import annotations

# os-networks' keys for everyone, then the ones only admins see (Nova's order).
_FIELDS = ('id', 'cidr', 'netmask', 'gateway', 'broadcast', 'dns1', 'dns2', 'cidr_v6',
           'gateway_v6', 'label', 'netmask_v6')
_ADMIN_FIELDS = ('created_at', 'updated_at', 'deleted_at', 'deleted', 'injected', 'bridge',
                 'vlan', 'vpn_public_address', 'vpn_public_port', 'vpn_private_address',
                 'dhcp_start', 'project_id', 'host', 'bridge_interface', 'multi_host',
                 'priority', 'rxtx_base', 'mtu', 'dhcp_server', 'enable_dhcp',
                 'share_address')


def network_view(network: dict, is_admin: bool) -> dict:
    """os-networks' network: even an admin's `project_id` is null, as Nova's."""
    view = dict.fromkeys(_FIELDS + _ADMIN_FIELDS if is_admin else _FIELDS)
    view['id'] = network['id']
    view['label'] = network['name']
    return view


def tenant_network_view(network: dict) -> dict:
    """os-tenant-networks' network. The cidr is the string "None": what Nova has
    answered since it proxied Neutron, and what its clients have come to expect."""
    return {'id': network['id'], 'cidr': str(None), 'label': network['name']}
