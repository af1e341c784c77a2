"""Batched reads for the server views (show, detail list, update): plain rows, not
ORM objects, in as few round trips as the view allows.

A page of 1,000 servers has some 10,000 rows hanging off it (metadata, tags, system
metadata, ports, fixed IPs); building ORM objects for them cost more than the rest
of the request together, and loading them per relationship cost one query each. So
the instances are read without their relationships (`instances_query`), and what the
views show comes from two queries: `extras` (one UNION ALL over the key/value-like
tables) and `addresses` (ports, their network and fixed IPs).
"""
from __future__ import annotations

import functools
import json
from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models
from kumo_common.db import system_metadata as sysmeta

# Columns no server view shows: not read for them (a row is converted column by column).
_UNSHOWN = ('key_data', 'admin_password', 'os_type', 'architecture', 'task_deadline',
            'task_request_id', 'compute_node_uuid', 'cell_name', 'scheduled_at',
            'deleted_at', 'locked_by', 'instance_type_id')


def instances_query(user_data: bool = True) -> sa.Select:
    """SELECT instances for the views: their relationships (metadata, system metadata,
    tags) and the columns no view shows are left unloaded; `user_data` (up to 64 KiB,
    shown to admins only) too unless asked for."""
    unshown = _UNSHOWN if user_data else _UNSHOWN + ('user_data',)
    return sa.select(models.Instance).options(
        orm.lazyload('*'), *(orm.defer(getattr(models.Instance, c)) for c in unshown))


def instance(session: orm.Session, uuid: str) -> models.Instance:
    """One instance by uuid (deleted ones included), as instances_query reads it."""
    found = session.scalars(instances_query().where(models.Instance.uuid == uuid)).first()
    if found is None:
        raise exceptions.InstanceNotFound(instance_id=uuid)
    return found


@dataclass
class Extras:
    metadata: dict = field(default_factory=dict)          # uuid -> {key: value}
    tags: dict = field(default_factory=dict)              # uuid -> [tag]
    security_groups: dict = field(default_factory=dict)   # uuid -> [name]
    hints: dict = field(default_factory=dict)             # uuid -> {hint: [values]}
    groups: dict = field(default_factory=dict)            # uuid -> [group uuid]
    image_properties: dict = field(default_factory=dict)  # image id -> {name: value}


def _part(kind: str, owner, key, value, order) -> sa.Select:
    text = sa.Text()
    return sa.select(sa.literal(kind, sa.String(1)).label('kind'),
                     sa.cast(owner, sa.String(255)).label('owner'),
                     sa.cast(key, text).label('k'), sa.cast(value, text).label('v'),
                     order.label('ord'))


@functools.lru_cache(maxsize=8)
def _extras_statement(hints: bool, groups: bool, images: bool) -> sa.Select:
    """The UNION ALL of `extras`, built once per shape: building it costs more than
    running it. Its lists are expanding parameters `uuids` and `images`, each bound
    once for every branch that uses it."""
    uuids = sa.bindparam('uuids', expanding=True)
    meta, tag, sm = models.InstanceMetadata, models.Tag, models.InstanceSystemMetadata
    null = sa.null()
    parts = [
        _part('m', meta.instance_uuid, meta.key, meta.value, meta.id)
        .where(meta.instance_uuid.in_(uuids)),
        _part('t', tag.resource_id, tag.tag, null, sa.literal(0))
        .where(tag.resource_id.in_(uuids)),
        _part('s', sm.instance_uuid, sm.key, sm.value, sm.id)
        .where(sm.instance_uuid.in_(uuids), sm.key == sysmeta.SECURITY_GROUPS),
    ]
    if hints:
        rs = models.RequestSpecRecord
        parts.append(_part('h', rs.instance_uuid, null, rs.scheduler_hints, rs.id)
                     .where(rs.instance_uuid.in_(uuids)))
    if groups:
        member, group = models.ServerGroupMember, models.ServerGroup
        parts.append(_part('g', member.instance_uuid, group.uuid, null, member.id)
                     .join(group, group.id == member.group_id)
                     .where(member.instance_uuid.in_(uuids)))
    if images:
        prop = models.ImageProperty
        parts.append(_part('p', prop.image_id, prop.name, prop.value, prop.id)
                     .where(prop.image_id.in_(sa.bindparam('images', expanding=True))))
    union = sa.union_all(*parts).subquery()
    return sa.select(union).order_by(union.c.ord)


def extras(session: orm.Session, uuids: Collection[str], image_ids: Collection[str] = (),
           hints: bool = False, groups: bool = False) -> Extras:
    """Metadata, tags and security groups of `uuids`, their scheduler hints and server
    groups if asked, and the properties of `image_ids`: one query."""
    result = Extras()
    if not uuids:
        return result
    params = {'uuids': list(uuids)}
    if image_ids:
        params['images'] = list(image_ids)
    rows = session.execute(_extras_statement(hints, groups, bool(image_ids)), params)
    # Most servers share their security groups and hints text: decode each text once.
    decoded: dict[str, object] = {}

    def parsed(text: str):
        if text not in decoded:
            decoded[text] = json.loads(text)
        return decoded[text]

    for kind, owner, key, value, _order in rows:
        if kind == 'm':
            result.metadata.setdefault(owner, {})[key] = value
        elif kind == 't':
            result.tags.setdefault(owner, []).append(key)
        elif kind == 's':
            result.security_groups[owner] = list(parsed(value))
        elif kind == 'h':
            result.hints[owner] = dict((parsed(value) if value else None) or {})
        elif kind == 'g':
            result.groups.setdefault(owner, []).append(key)
        else:
            result.image_properties.setdefault(owner, {})[key] = value
    return result


def addresses(session: orm.Session, uuids: Collection[str]
              ) -> dict[str, list[tuple[str, str, str | None]]]:
    """uuid -> [(network name, MAC, fixed IP or None)] of its ports, oldest port first
    (a port without a fixed IP still names its network)."""
    if not uuids:
        return {}
    result: dict[str, list] = {}
    for device, name, mac, address in session.execute(_addresses_statement(),
                                                      {'uuids': list(uuids)}):
        result.setdefault(device, []).append((name, mac, address))
    return result


@functools.lru_cache(maxsize=1)
def _addresses_statement() -> sa.Select:
    port, net, ip = models.Port, models.Network, models.IPAllocation
    return (sa.select(port.device_id, net.name, port.mac_address, ip.ip_address)
            .join(net, net.id == port.network_id)
            .outerjoin(ip, ip.port_id == port.id)
            .where(port.device_id.in_(sa.bindparam('uuids', expanding=True)))
            .order_by(port.created_at, port.id, ip.ip_address))
