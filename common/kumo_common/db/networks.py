"""Networks, subnets and ports: creating them, fixed-IP allocation, and what a server's
ports become when it goes away."""
from __future__ import annotations

import ipaddress
import random
import uuid as uuidlib

import sqlalchemy as sa
from sqlalchemy import exc, orm

from kumo_common import exceptions
from kumo_common.db import models


def create_network(session: orm.Session, name: str, cidr: str, project_id: str | None = None,
                   shared: bool = True, is_default: bool = False,
                   gateway_ip: str | None = None) -> models.Network:
    """A network with one subnet on `cidr` (kumo-manage network create, seed)."""
    network = add_network(session, name=name, project_id=project_id, shared=shared,
                          is_default=is_default)
    add_subnet(session, network, cidr=cidr, name=f'{name}-subnet', project_id=project_id,
               gateway_ip=gateway_ip or DEFAULT_GATEWAY)
    return network


def add_network(session: orm.Session, *, name: str, project_id: str | None,
                shared: bool = False, is_default: bool = False,
                router_external: bool = False, admin_state_up: bool = True,
                description: str = '', mtu: int = 1500,
                network_id: str | None = None) -> models.Network:
    network = models.Network(id=network_id or str(uuidlib.uuid4()), name=name,
                             project_id=project_id, shared=shared, is_default=is_default,
                             router_external=router_external,
                             admin_state_up=admin_state_up, description=description,
                             mtu=mtu, status='ACTIVE')
    session.add(network)
    session.flush()
    return network


# gateway_ip of add_subnet: the subnet's first address (Neutron's default).
DEFAULT_GATEWAY = 'default'


def default_pools(net: ipaddress.IPv4Network | ipaddress.IPv6Network,
                  gateway: str | None) -> list[dict]:
    """Neutron's allocation pools: every host address but the gateway (IPv4 without
    network and broadcast addresses; IPv6 without the subnet-router anycast ::0)."""
    if net.num_addresses == 1:
        return [{'start': str(net[0]), 'end': str(net[0])}]
    if net.version == 4 and net.prefixlen < 31:
        first, last = net[1], net[-2]
    elif net.version == 4:
        first, last = net[0], net[-1]
    else:
        first, last = net[1], net[-1]
    pools = []
    gw = ipaddress.ip_address(gateway) if gateway else None
    if gw is not None and first <= gw <= last:
        if gw > first:
            pools.append({'start': str(first), 'end': str(gw - 1)})
        if gw < last:
            pools.append({'start': str(gw + 1), 'end': str(last)})
    else:
        pools.append({'start': str(first), 'end': str(last)})
    return pools


def add_subnet(session: orm.Session, network: models.Network, *, cidr: str,
               ip_version: int | None = None, gateway_ip: str | None = DEFAULT_GATEWAY,
               allocation_pools: list[dict] | None = None, enable_dhcp: bool = True,
               name: str = '', description: str = '', project_id: str | None = None,
               dns_nameservers: list | None = None, host_routes: list | None = None
               ) -> models.Subnet:
    """A subnet of `network`, validated as Neutron does (InvalidSubnet: bad CIDR,
    version, pools or gateway; overlaps another subnet of the network)."""
    del project_id  # a subnet belongs to its network's project
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise exceptions.InvalidSubnet(reason=f"'{cidr}' is not a valid IP subnet") from exc
    if ip_version is not None and ip_version != net.version:
        raise exceptions.InvalidSubnet(reason='Cidr and ip_version are inconsistent')
    for other in network.subnets:
        if net.overlaps(ipaddress.ip_network(other.cidr)):
            raise exceptions.InvalidSubnet(
                reason=f'Requested subnet with cidr: {net} for network: {network.id} '
                       f'overlaps with another subnet')
    if gateway_ip == DEFAULT_GATEWAY:
        gateway_ip = str(net[1] if net.num_addresses > 1 else net[0])
    if gateway_ip is not None:
        gateway_ip = _address_in(net, gateway_ip, 'gateway_ip')
    if allocation_pools:
        pools = checked_pools(net, allocation_pools, gateway_ip)
    else:
        pools = default_pools(net, gateway_ip)
    subnet = models.Subnet(id=str(uuidlib.uuid4()), name=name, description=description,
                           cidr=str(net), ip_version=net.version, gateway_ip=gateway_ip,
                           allocation_pools=pools, enable_dhcp=enable_dhcp,
                           dns_nameservers=list(dns_nameservers or []),
                           host_routes=list(host_routes or []))
    network.subnets.append(subnet)
    session.flush()
    return subnet


def _address_in(net, value: str, field: str) -> str:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError as exc:
        raise exceptions.InvalidSubnet(reason=f"'{value}' is not a valid IP address "
                                       f"({field})") from exc
    if addr.version != net.version:
        raise exceptions.InvalidSubnet(reason=f'{field} {value} is not an IPv{net.version} '
                                       f'address')
    return str(addr)


def checked_pools(net, pools: list[dict], gateway_ip: str | None) -> list[dict]:
    checked = []
    ranges = []
    for pool in pools:
        start = ipaddress.ip_address(_address_in(net, pool['start'], 'allocation_pools'))
        end = ipaddress.ip_address(_address_in(net, pool['end'], 'allocation_pools'))
        if start not in net or end not in net or start > end:
            raise exceptions.InvalidSubnet(
                reason=f'The allocation pool {pool["start"]}-{pool["end"]} spans beyond '
                       f'the subnet cidr {net}.')
        for other_start, other_end in ranges:
            if start <= other_end and other_start <= end:
                raise exceptions.InvalidSubnet(
                    reason=f'Found overlapping allocation pools: {pool["start"]}-'
                           f'{pool["end"]} and {other_start}-{other_end}.')
        if gateway_ip and start <= ipaddress.ip_address(gateway_ip) <= end:
            raise exceptions.GatewayConflictWithAllocationPools(
                ip_address=gateway_ip, pool=f'{pool["start"]}-{pool["end"]}')
        ranges.append((start, end))
        checked.append({'start': str(start), 'end': str(end)})
    return checked


def get_subnet(session: orm.Session, subnet_id: str) -> models.Subnet:
    subnet = session.get(models.Subnet, subnet_id)
    if subnet is None:
        raise exceptions.SubnetNotFound(subnet_id=subnet_id)
    return subnet


def network_visible_to(project_id: str | None, is_admin: bool):
    """Networks a caller may see and use: admins all; others their project's own, the
    shared ones and the external ones (as Neutron)."""
    if is_admin:
        return sa.true()
    return sa.or_(models.Network.project_id == project_id, models.Network.shared.is_(True),
                  models.Network.router_external.is_(True))


def visible_networks(session: orm.Session, project_id: str | None,
                     is_admin: bool) -> list[models.Network]:
    """The networks network_visible_to lets the caller see, by id."""
    return list(session.scalars(sa.select(models.Network).where(
        network_visible_to(project_id, is_admin)).order_by(models.Network.id)))


def get_visible_network(session: orm.Session, network_id: str, project_id: str | None,
                        is_admin: bool) -> models.Network:
    network = session.scalars(sa.select(models.Network).where(
        models.Network.id == network_id, network_visible_to(project_id, is_admin))).first()
    if network is None:
        raise exceptions.NetworkNotFound(network_id=network_id)
    return network


def delete_network(session: orm.Session, network: models.Network) -> None:
    """Delete a network and its subnets; NetworkInUse while a port is on it."""
    in_use = session.scalar(sa.select(sa.func.count()).select_from(models.Port).where(
        models.Port.network_id == network.id))
    if in_use:
        raise exceptions.NetworkInUse(net_id=network.id)
    session.delete(network)


def delete_subnet(session: orm.Session, subnet: models.Subnet) -> None:
    """Delete a subnet; SubnetInUse while a port has an address on it."""
    in_use = session.scalar(sa.select(sa.func.count()).select_from(models.IPAllocation)
                            .where(models.IPAllocation.subnet_id == subnet.id))
    if in_use:
        raise exceptions.SubnetInUse(subnet_id=subnet.id)
    session.delete(subnet)


def get_network(session: orm.Session, network_id: str) -> models.Network:
    network = session.get(models.Network, network_id)
    if network is None:
        raise exceptions.NetworkNotFound(network_id=network_id)
    return network


def get_by_name(session: orm.Session, name: str) -> models.Network | None:
    return session.scalars(sa.select(models.Network).where(models.Network.name == name)).first()


def default_network(session: orm.Session, project_id: str) -> models.Network | None:
    """The network `networks: auto` uses: the project's own default, else a shared one."""
    rows = session.scalars(sa.select(models.Network).where(
        models.Network.is_default.is_(True),
        sa.or_(models.Network.project_id == project_id, models.Network.shared.is_(True)))
        .order_by(models.Network.created_at)).all()
    own = [n for n in rows if n.project_id == project_id]
    return (own or rows or [None])[0]


def _random_mac() -> str:
    # fa:16:3e is the prefix OpenStack uses; clients and tests recognise it.
    return 'fa:16:3e:' + ':'.join(f'{random.randint(0, 255):02x}' for _ in range(3))


def _candidate_ips(subnet: models.Subnet, taken: set[str]):
    for pool in subnet.allocation_pools or []:
        start = ipaddress.ip_address(pool['start'])
        end = ipaddress.ip_address(pool['end'])
        addr = start
        while addr <= end:
            if str(addr) not in taken:
                yield str(addr)
            addr += 1


def allocate_port(session_factory, network_id: str, instance_uuid: str | None,
                  project_id: str | None, *, fixed_ips: list[dict] | None = None,
                  host: str | None = None, **fields) -> models.Port:
    """Create a port on a network with its fixed IPs, in a transaction of its own.

    `fixed_ips` None: one address from each subnet (the conductor's ports, and a
    port created without fixed_ips); otherwise Neutron's list of {"subnet_id",
    "ip_address"} (either or both). A port for an instance is bound to it (device
    owner compute:nova, ACTIVE); `fields` set other Port columns (name, mac_address,
    device_owner, preserve_on_delete, ...). The addresses' primary key makes a
    concurrent double allocation fail at insert: an address we picked is then tried
    again with the next free one; an address the caller asked for is
    IpAddressAlreadyAllocated.
    """
    mac_given = 'mac_address' in fields and fields['mac_address']
    for _attempt in range(20):
        try:
            with session_factory() as session:
                network = get_network(session, network_id)
                values = {'device_owner': 'compute:nova' if instance_uuid else '',
                          'status': 'ACTIVE' if instance_uuid else 'DOWN',
                          'mac_address': _random_mac(), **fields}
                if not values['mac_address']:
                    values['mac_address'] = _random_mac()
                port = models.Port(id=str(uuidlib.uuid4()), network_id=network.id,
                                   project_id=project_id, device_id=instance_uuid or '',
                                   binding_host_id=host, **values)
                session.add(port)
                for subnet, address in _addresses_for(session, network, fixed_ips):
                    port.fixed_ips.append(models.IPAllocation(subnet_id=subnet.id,
                                                              ip_address=address))
                session.flush()
                return port
        except exc.IntegrityError as error:
            if mac_given and _mac_taken(session_factory, fields['mac_address']):
                raise exceptions.MacAddressInUse(mac=fields['mac_address'],
                                                 net_id=network_id) from error
            if fixed_ips and any(r.get('ip_address') for r in fixed_ips):
                raise exceptions.IpAddressAlreadyAllocated(
                    ip=', '.join(r['ip_address'] for r in fixed_ips if r.get('ip_address')),
                    subnet_id='') from error
            continue
    raise exceptions.NoFixedIpsAvailable(network_id=network_id)


def _mac_taken(session_factory, mac: str) -> bool:
    with session_factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(models.Port).where(
            models.Port.mac_address == mac)) > 0


def subnet_of(network: models.Network, address: str) -> models.Subnet | None:
    """The subnet of `network` whose CIDR holds `address`, if any."""
    addr = ipaddress.ip_address(address)
    for subnet in network.subnets:
        if addr in ipaddress.ip_network(subnet.cidr):
            return subnet
    return None


def address_owner(session: orm.Session, subnet_id: str, address: str) -> models.Port | None:
    """The port holding `address` on the subnet, if any."""
    return session.scalars(sa.select(models.Port).join(
        models.IPAllocation, models.IPAllocation.port_id == models.Port.id).where(
        models.IPAllocation.subnet_id == subnet_id,
        models.IPAllocation.ip_address == address)).first()


def _taken(session: orm.Session, subnet: models.Subnet) -> set[str]:
    return set(session.scalars(sa.select(models.IPAllocation.ip_address)
                               .where(models.IPAllocation.subnet_id == subnet.id)))


def _addresses_for(session: orm.Session, network: models.Network,
                   requests: list[dict] | None) -> list[tuple[models.Subnet, str]]:
    """(subnet, address) pairs for a new port (see allocate_port)."""
    if requests is None:
        requests = [{'subnet_id': subnet.id} for subnet in network.subnets]
    by_id = {subnet.id: subnet for subnet in network.subnets}
    result = []
    for request in requests:
        address = request.get('ip_address')
        if address:
            address = str(ipaddress.ip_address(address))
            subnet = subnet_of(network, address)
            if request.get('subnet_id') and (subnet is None
                                             or subnet.id != request['subnet_id']):
                raise exceptions.InvalidIpForSubnet(ip_address=address)
            if subnet is None:
                raise exceptions.InvalidIpForNetwork(ip_address=address)
            if address in _taken(session, subnet) or address == subnet.gateway_ip:
                raise exceptions.IpAddressAlreadyAllocated(ip=address, subnet_id=subnet.id)
            result.append((subnet, address))
            continue
        subnet = by_id.get(request.get('subnet_id') or '')
        if subnet is None:
            raise exceptions.SubnetNotFound(subnet_id=request.get('subnet_id'))
        picked = {a for s, a in result if s.id == subnet.id}
        address = next(_candidate_ips(subnet, _taken(session, subnet) | picked), None)
        if address is None:
            raise exceptions.NoFixedIpsAvailable(network_id=network.id)
        result.append((subnet, address))
    return result


def ports_for_instances(session: orm.Session, instance_uuids: list[str]
                        ) -> dict[str, list[models.Port]]:
    if not instance_uuids:
        return {}
    result: dict[str, list[models.Port]] = {}
    rows = session.scalars(sa.select(models.Port).where(
        models.Port.device_id.in_(instance_uuids)).order_by(models.Port.created_at))
    for port in rows:
        result.setdefault(port.device_id, []).append(port)
    return result


def release_ports(session: orm.Session, instance_uuid: str) -> None:
    """A server is gone (or its build failed): delete the ports made for it, and only
    unbind the ones the user made beforehand and passed in (Nova's
    preserve_on_delete), so that they can be given to another server."""
    for port in session.scalars(sa.select(models.Port).where(
            models.Port.device_id == instance_uuid)).all():
        _release(session, port)


def release_port(session: orm.Session, instance_uuid: str, port_id: str) -> None:
    """release_ports for one port of the server (an interface detached); nothing if
    the server does not hold it."""
    port = session.get(models.Port, port_id)
    if port is not None and port.device_id == instance_uuid:
        _release(session, port)


def bind_ports(session: orm.Session, instance_uuid: str, host: str | None) -> None:
    """The server's ports are bound to `host` (None: to no host, as an offloaded
    server's): the guest runs there now."""
    for port in ports_for_instances(session, [instance_uuid]).get(instance_uuid, []):
        port.binding_host_id = host


def _release(session: orm.Session, port: models.Port) -> None:
    if port.preserve_on_delete:
        port.device_id = ''
        port.device_owner = ''
        port.binding_host_id = None
        port.status = 'DOWN'
    else:
        session.delete(port)


def network_names(session: orm.Session, network_ids: set[str]) -> dict[str, str]:
    if not network_ids:
        return {}
    return dict(session.execute(sa.select(models.Network.id, models.Network.name).where(
        models.Network.id.in_(network_ids))).all())
