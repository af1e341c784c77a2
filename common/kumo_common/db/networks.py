"""Queries on networks, subnets and ports, and fixed-IP allocation."""
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
    net = ipaddress.ip_network(cidr, strict=False)
    hosts = net.hosts()
    first = next(hosts)
    gateway = gateway_ip or str(first)
    last = net.broadcast_address - 1 if net.version == 4 else net[-1]
    start = first + 1 if str(first) == gateway else first
    network = models.Network(id=str(uuidlib.uuid4()), name=name, project_id=project_id,
                             shared=shared, is_default=is_default)
    network.subnets = [models.Subnet(
        id=str(uuidlib.uuid4()), name=f'{name}-subnet', cidr=str(net),
        ip_version=net.version, gateway_ip=gateway,
        allocation_pools=[{'start': str(start), 'end': str(last)}])]
    session.add(network)
    session.flush()
    return network


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


def allocate_port(session_factory, network_id: str, instance_uuid: str,
                  project_id: str) -> models.Port:
    """Create a port with one fixed IP per subnet of the network.

    The IP's primary key makes a concurrent double allocation fail at insert; we
    retry with the next free address in a new transaction.
    """
    for _attempt in range(20):
        try:
            with session_factory() as session:
                network = get_network(session, network_id)
                port = models.Port(id=str(uuidlib.uuid4()), network_id=network.id,
                                   project_id=project_id, device_id=instance_uuid,
                                   device_owner='compute:nova', mac_address=_random_mac(),
                                   status='ACTIVE')
                session.add(port)
                for subnet in network.subnets:
                    taken = set(session.scalars(sa.select(models.IPAllocation.ip_address)
                                                .where(models.IPAllocation.subnet_id
                                                       == subnet.id)))
                    ip = next(_candidate_ips(subnet, taken), None)
                    if ip is None:
                        raise exceptions.NoFixedIpsAvailable(network_id=network.id)
                    port.fixed_ips.append(models.IPAllocation(subnet_id=subnet.id,
                                                              ip_address=ip))
                session.flush()
                return port
        except exc.IntegrityError:
            continue
    raise exceptions.NoFixedIpsAvailable(network_id=network_id)


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
    for port in session.scalars(sa.select(models.Port).where(
            models.Port.device_id == instance_uuid)).all():
        session.delete(port)


def network_names(session: orm.Session, network_ids: set[str]) -> dict[str, str]:
    if not network_ids:
        return {}
    return dict(session.execute(sa.select(models.Network.id, models.Network.name).where(
        models.Network.id.in_(network_ids))).all())
