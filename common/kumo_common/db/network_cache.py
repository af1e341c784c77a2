"""Servers' network info caches (instance_info_caches, as Nova's): each server's
ports, written by the conductor when it gives, binds or frees them, whichever network
service holds them (Kumo's own tables or an external Neutron).

Everything that shows a server's addresses reads the cache, never the ports: the
server views and the ip/ip6 list filters (kumo_common.db.server_views, server_list),
rebuild and rescue payloads (their network_data.json). `network_info` is a JSON list
of PortSpec fields ({id, network_id, network_name, mac_address, fixed_ips:
[{ip_address, version}]}) in the order the views show the ports.
"""
from __future__ import annotations

import datetime
import json

import orjson
import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import objects
from kumo_common.db import models

_FIELDS = ('id', 'network_id', 'network_name', 'mac_address', 'fixed_ips')


def encode(ports: list[objects.PortSpec]) -> str:
    return json.dumps([{name: getattr(port, name) for name in _FIELDS}
                       for port in ports])


def decode(text: str | None) -> list[dict]:
    """The ports of a cache's text. orjson: a page of 1,000 servers decodes 1,000 of
    them, in a quarter of the json module's time; the texts are encode()'s, whose
    values orjson reads as json does (json still reads any it refuses)."""
    if not text:
        return []
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def save(session: orm.Session, instance_uuid: str,
         ports: list[objects.PortSpec]) -> None:
    """The server's ports are now `ports` (in the order views show them)."""
    text = encode(ports)
    row = session.scalars(sa.select(models.InstanceInfoCache).where(
        models.InstanceInfoCache.instance_uuid == instance_uuid)).first()
    if row is None:
        session.add(models.InstanceInfoCache(instance_uuid=instance_uuid,
                                             network_info=text))
    elif row.network_info != text:
        row.network_info = text


def clear(session: orm.Session, instance_uuid: str) -> None:
    """The server has no ports any more."""
    session.execute(sa.delete(models.InstanceInfoCache).where(
        models.InstanceInfoCache.instance_uuid == instance_uuid))


def refresh_local(session: orm.Session, instance_uuid: str) -> None:
    """The cache of a server whose ports are the local network service's, from its
    tables: oldest port first, then by port id, each port's addresses in order."""
    ports = session.scalars(sa.select(models.Port).where(
        models.Port.device_id == instance_uuid)).all()
    if not ports:
        clear(session, instance_uuid)
        return
    names = dict(session.execute(sa.select(models.Network.id, models.Network.name).where(
        models.Network.id.in_({p.network_id for p in ports}))).all())
    ports = sorted(ports, key=lambda p: (p.created_at is not None,
                                         p.created_at or _NO_TIME, p.id))
    save(session, instance_uuid, [objects.PortSpec(
        id=p.id, network_id=p.network_id, network_name=names.get(p.network_id) or '',
        mac_address=p.mac_address,
        fixed_ips=[{'ip_address': a, 'version': 6 if ':' in a else 4}
                   for a in sorted(ip.ip_address for ip in p.fixed_ips)])
        for p in ports])


_NO_TIME = datetime.datetime.min


def refresh_if_cached(session: orm.Session, device_id: str) -> None:
    """refresh_local for a port's device, if it is a server with a cache (a port's
    device_id may name anything)."""
    if session.execute(sa.select(models.InstanceInfoCache.id).where(
            models.InstanceInfoCache.instance_uuid == device_id)).first() is not None:
        refresh_local(session, device_id)


def ports(session: orm.Session | sa.Connection, instance_uuid: str
          ) -> list[objects.PortSpec]:
    """The server's ports as its cache says (empty when it has none)."""
    text = session.execute(sa.select(models.InstanceInfoCache.network_info).where(
        models.InstanceInfoCache.instance_uuid == instance_uuid)).scalar()
    return [objects.PortSpec(**port) for port in decode(text)]


def addresses(network_info: list[dict]) -> list[tuple[str, str, str | None]]:
    """(network name, MAC, fixed IP) of each address of the ports, in order; a port
    without a fixed IP still names its network (address None)."""
    result = []
    for port in network_info:
        name, mac = port.get('network_name') or '', port.get('mac_address')
        fixed = port.get('fixed_ips') or ()
        if not fixed:
            result.append((name, mac, None))
        for ip in fixed:
            result.append((name, mac, ip['ip_address']))
    return result


def fixed_ips(network_info: list[dict]) -> list[str]:
    return [ip['ip_address'] for port in network_info
            for ip in port.get('fixed_ips') or ()]
