"""Networks, subnets, ports and security groups as Neutron v2.0 shows them."""
from __future__ import annotations

import uuid as uuidlib

from kumo_api.views import times
from kumo_common.db import models
from kumo_common.network.local import SG_NAMESPACE, default_group_id, port_security_groups


def _stamps(row) -> dict:
    return {'created_at': times.iso_z(row.created_at),
            'updated_at': times.iso_z(row.updated_at or row.created_at),
            'revision_number': 0, 'tags': []}


def network_view(network: models.Network) -> dict:
    return {
        'id': network.id,
        'name': network.name,
        'description': network.description or '',
        'project_id': network.project_id or '',
        'tenant_id': network.project_id or '',
        'admin_state_up': bool(network.admin_state_up),
        'status': network.status,
        'shared': bool(network.shared),
        'router:external': bool(network.router_external),
        'is_default': bool(network.is_default),
        'mtu': network.mtu,
        'subnets': sorted(s.id for s in network.subnets),
        'availability_zone_hints': [],
        'availability_zones': ['nova'],
        'ipv4_address_scope': None,
        'ipv6_address_scope': None,
        'port_security_enabled': True,
        **_stamps(network),
    }


def subnet_view(subnet: models.Subnet, project_id: str | None) -> dict:
    return {
        'id': subnet.id,
        'name': subnet.name or '',
        'description': subnet.description or '',
        'network_id': subnet.network_id,
        'project_id': project_id or '',
        'tenant_id': project_id or '',
        'cidr': subnet.cidr,
        'ip_version': subnet.ip_version,
        'gateway_ip': subnet.gateway_ip,
        'allocation_pools': list(subnet.allocation_pools or []),
        'enable_dhcp': bool(subnet.enable_dhcp),
        'dns_nameservers': list(subnet.dns_nameservers or []),
        'host_routes': list(subnet.host_routes or []),
        'ipv6_address_mode': None,
        'ipv6_ra_mode': None,
        'subnetpool_id': None,
        'segment_id': None,
        'service_types': [],
        **_stamps(subnet),
    }


def port_view(port: models.Port) -> dict:
    bound = bool(port.binding_host_id)
    return {
        'id': port.id,
        'name': port.name or '',
        'description': port.description or '',
        'network_id': port.network_id,
        'project_id': port.project_id or '',
        'tenant_id': port.project_id or '',
        'admin_state_up': bool(port.admin_state_up),
        'status': port.status,
        'mac_address': port.mac_address,
        'fixed_ips': [{'subnet_id': ip.subnet_id, 'ip_address': ip.ip_address}
                      for ip in sorted(port.fixed_ips, key=lambda ip: ip.ip_address)],
        'device_id': port.device_id or '',
        'device_owner': port.device_owner or '',
        'security_groups': port_security_groups(port),
        'allowed_address_pairs': [],
        'extra_dhcp_opts': [],
        'binding:host_id': port.binding_host_id or '',
        'binding:vif_type': 'ovs' if bound else 'unbound',
        'binding:vnic_type': 'normal',
        'binding:vif_details': {},
        'binding:profile': {},
        'port_security_enabled': True,
        'ip_allocation': 'immediate',
        **_stamps(port),
    }




def default_group_view(project_id: str) -> dict:
    """The "default" security group every project has (Neutron's default rules:
    everything out, and in from members of the group)."""
    group_id = default_group_id(project_id)

    def rule(n: int, direction: str, ethertype: str, remote: str | None) -> dict:
        return {'id': str(uuidlib.uuid5(SG_NAMESPACE, f'{project_id}/{n}')),
                'security_group_id': group_id, 'direction': direction,
                'ethertype': ethertype, 'protocol': None, 'port_range_min': None,
                'port_range_max': None, 'remote_ip_prefix': None,
                'remote_group_id': remote, 'remote_address_group_id': None,
                'normalized_cidr': None, 'description': '', 'project_id': project_id,
                'tenant_id': project_id, 'created_at': None, 'updated_at': None,
                'revision_number': 0, 'belongs_to_default_sg': True}
    return {
        'id': group_id, 'name': 'default', 'description': 'Default security group',
        'project_id': project_id, 'tenant_id': project_id, 'stateful': True,
        'shared': False, 'tags': [], 'revision_number': 0, 'created_at': None,
        'updated_at': None,
        'security_group_rules': [rule(1, 'egress', 'IPv4', None),
                                 rule(2, 'egress', 'IPv6', None),
                                 rule(3, 'ingress', 'IPv4', group_id),
                                 rule(4, 'ingress', 'IPv6', group_id)],
    }
