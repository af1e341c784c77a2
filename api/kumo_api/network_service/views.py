"""Networks, subnets and ports as Neutron v2.0 shows them (security groups:
kumo_common.db.security_groups)."""
from __future__ import annotations

from kumo_api.views import times
from kumo_common.db import models
from kumo_common.network.local import port_security_groups


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

