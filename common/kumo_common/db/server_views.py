"""Batched reads for the server views (show, detail list, update): plain tuples, not
ORM objects, in as few round trips as the view allows.

A page of 1,000 servers has some 10,000 rows hanging off it (metadata, tags, system
metadata, ports, fixed IPs). Building ORM objects for them, or even reading SQLAlchemy
`Row`s by attribute (about half a microsecond a column), cost more than the rest of
the request together. So instances are read as `ServerRow`s (named tuples of the
columns the views show), and what hangs off them comes from ONE more statement,
`related`: a UNION ALL over metadata, tags, security groups, scheduler hints, server
groups, image properties (the server's image_* system metadata) and its network info
cache (kumo_common.db.network_cache: its ports, whichever service holds them). A
show reads the instance and all of that in a single statement (`show`).

JSON texts that many servers share (the flavor snapshot, security groups, hints) are
decoded once per text and the decoded object is shared between the servers: the views
only read them.
"""
from __future__ import annotations

import collections
import functools
import json
import operator
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models, network_cache, prepared
from kumo_common.db import system_metadata as sysmeta
from kumo_common.db.session import connection_of

# Columns no server view shows: not read for them.
_UNSHOWN = ('key_data', 'admin_password', 'os_type', 'architecture', 'task_deadline',
            'task_request_id', 'compute_node_uuid', 'cell_name', 'scheduled_at',
            'deleted_at', 'locked_by', 'instance_type_id', 'metadata_items',
            'system_metadata', 'tags')
# What GET /servers (not detail) needs, and what paging and filtering need beside.
MINIMAL_COLUMNS = ('id', 'uuid', 'display_name', 'created_at')


def _shown_columns() -> tuple[str, ...]:
    return tuple(c.key for c in sa.inspect(models.Instance).column_attrs
                 if c.key not in _UNSHOWN)


DETAIL_COLUMNS = _shown_columns()


@functools.lru_cache(maxsize=8)
def row_type(fields: tuple[str, ...]) -> type:
    """The named tuple of a column set: attribute reads at tuple speed."""
    return collections.namedtuple('ServerRow', fields)


def columns(user_data: bool = True, minimal: bool = False) -> tuple[str, ...]:
    """The instance columns a view needs: `user_data` (up to 64 KiB, shown to admins
    only) only if asked for."""
    if minimal:
        return MINIMAL_COLUMNS
    return DETAIL_COLUMNS if user_data else tuple(c for c in DETAIL_COLUMNS
                                                  if c != 'user_data')


# JSON columns, read as their text and decoded by rows_from: once per distinct text
# (the flavor snapshot of a page is a handful of texts), and the same on every path
# (prepared statements get the text).
_JSON_COLUMNS = ('flavor', 'trusted_certs')


def _column(name: str):
    if name in _JSON_COLUMNS:
        return sa.type_coerce(getattr(models.Instance, name), sa.Text).label(name)
    return getattr(models.Instance, name)


def select_instances(names: tuple[str, ...]) -> sa.Select:
    """SELECT of these instance columns, turned into ServerRows by rows_from."""
    return sa.select(*[_column(n) for n in names])


def rows_from(result: Iterable, names: tuple[str, ...]) -> list:
    """ServerRows of a result of select_instances(names) (JSON texts decoded once per
    distinct text, the decoded value shared)."""
    make = row_type(names)._make
    result = _tuples(result)
    at = [i for i, name in enumerate(names) if name in _JSON_COLUMNS]
    if not at:
        return [make(r) for r in result]
    decoded: dict[str, Any] = {}
    rows = []
    for r in result:
        values = list(r)
        for i in at:
            text = values[i]
            if text is not None:
                value = decoded.get(text, _MISSING)
                if value is _MISSING:
                    value = decoded[text] = json.loads(text)
                values[i] = value
        rows.append(make(values))
    return rows


_MISSING = object()


def _tuples(result: Iterable) -> Iterable:
    """The rows of `result` as the driver's own tuples where SQLAlchemy has nothing to
    convert in them (select_instances' columns on psycopg2: JSON is read as text),
    which saves building a Row for each (a page reads 1,000 of them)."""
    if not isinstance(result, sa.CursorResult):
        return result
    processors = getattr(result._metadata, '_processors', None)
    cursor = result.cursor
    if processors is None or any(processors) or cursor is None:
        return result
    with result:
        return cursor.fetchall()


def instance(bind: orm.Session | sa.Connection, uuid: str, user_data: bool = True):
    """One instance (a ServerRow of every shown column) by uuid, deleted ones
    included."""
    names = columns(user_data)
    found = rows_from(connection_of(bind).execute(_instance_statement(names),
                                                  {'uuid': uuid}).all(), names)
    if not found:
        raise exceptions.InstanceNotFound(instance_id=uuid)
    return found[0]


@functools.lru_cache(maxsize=4)
def _instance_statement(names: tuple[str, ...]) -> sa.Select:
    return select_instances(names).where(models.Instance.uuid == sa.bindparam('uuid'))


@dataclass
class Related:
    """What hangs off a set of instances, by instance uuid."""
    metadata: dict = field(default_factory=dict)          # uuid -> {key: value}
    tags: dict = field(default_factory=dict)              # uuid -> [tag]
    security_groups: dict = field(default_factory=dict)   # uuid -> [name] (shared)
    hints: dict = field(default_factory=dict)             # uuid -> {hint: [values]} (shared)
    groups: dict = field(default_factory=dict)            # uuid -> [group uuid]
    # uuid -> {name: value}: the properties of the image it was (re)built with
    # (servers with the same ones share one dict).
    image_properties: dict = field(default_factory=dict)
    # uuid -> [(network name, MAC, fixed IP or None)] of its ports, as its network
    # info cache lists them (a port without a fixed IP still names its network).
    addresses: dict = field(default_factory=dict)


# The columns of the UNION ALL: what kind of row, whose, two texts and the key its
# rows are put in order by (in Python: an ORDER BY over the whole UNION makes
# PostgreSQL sort it with parallel workers, whose start costs more than the query):
# `ord` (the row's id, where a view shows rows in the order they were added).
_UNION_COLUMNS = ('kind', 'owner', 'k', 'v', 'ord')


def _part(kind, owner, key=None, value=None, order=None) -> sa.Select:
    """One branch of the UNION ALL (_UNION_COLUMNS); `kind` a letter, or an
    expression giving one per row."""
    text = sa.Text()

    def typed(value, type_):
        # Typed NULLs: PostgreSQL wants one type per column of a UNION.
        return sa.cast(sa.null(), type_) if value is None else value
    if isinstance(kind, str):
        kind = sa.literal(kind, sa.String(1))
    return sa.select(sa.cast(kind, sa.String(1)).label('kind'),
                     sa.cast(owner, sa.String(255)).label('owner'),
                     sa.cast(typed(key, text), text).label('k'),
                     sa.cast(typed(value, text), text).label('v'),
                     typed(order, sa.Integer()).label('ord'))


IMAGE_PREFIX = 'image_'  # system metadata keys of the image's properties


def _system_metadata_part(owned, images: bool) -> sa.Select:
    """The branch of the servers' system metadata the views show: their security
    groups ('s') and, if `images`, the properties of the image they were (re)built
    with ('p': the image_* keys, as Nova's; the image itself may be another
    service's). One branch for both: one index probe per server, not two."""
    sm = models.InstanceSystemMetadata
    is_groups = sm.key == sysmeta.SECURITY_GROUPS
    if not images:
        return _part('s', sm.instance_uuid, sm.key, sm.value, sm.id).where(
            owned(sm.instance_uuid), is_groups)
    return _part(sa.case((is_groups, 's'), else_='p'), sm.instance_uuid, sm.key,
                 sm.value, sm.id).where(
        owned(sm.instance_uuid),
        sa.or_(is_groups, sm.key.startswith(IMAGE_PREFIX, autoescape=True)))


def _related_parts(owned, hints: bool, groups: bool, images: bool) -> list[sa.Select]:
    """The branches of the UNION ALL: `owned(column)` restricts a branch to the
    instances asked for; `images`: with their image properties."""
    meta, tag = models.InstanceMetadata, models.Tag
    cache = models.InstanceInfoCache
    parts = [
        _part('m', meta.instance_uuid, meta.key, meta.value, meta.id)
        .where(owned(meta.instance_uuid)),
        _part('t', tag.resource_id, tag.tag).where(owned(tag.resource_id)),
        _system_metadata_part(owned, images),
        _part('a', cache.instance_uuid, value=cache.network_info)
        .where(owned(cache.instance_uuid)),
    ]
    if hints:
        rs = models.RequestSpecRecord
        parts.append(_part('h', rs.instance_uuid, value=rs.scheduler_hints, order=rs.id)
                     .where(owned(rs.instance_uuid)))
    if groups:
        member, group = models.ServerGroupMember, models.ServerGroup
        parts.append(_part('g', member.instance_uuid, group.uuid, order=member.id)
                     .join(group, group.id == member.group_id)
                     .where(owned(member.instance_uuid)))
    return parts


@functools.lru_cache(maxsize=16)
def _related_statement(hints: bool, groups: bool, images: bool) -> prepared.Statement:
    """The UNION ALL of `related`, built once per shape (building it costs more than
    running it), for the list parameter `uuids`."""
    def build(uuids: prepared.Param):
        return sa.union_all(*_related_parts(uuids.contains, hints, groups, images))
    name = 'kumo_related_' + ''.join('1' if f else '0' for f in (hints, groups, images))
    return prepared.Statement(name, {'uuids': 'varchar[]'}, build)


def related(bind: orm.Session | sa.Connection, uuids: Collection[str],
            images: bool = False, hints: bool = False, groups: bool = False) -> Related:
    """Metadata, tags, security groups and addresses of `uuids`, their scheduler hints
    and server groups if asked, and their image properties if `images`: one query."""
    if not uuids:
        return Related()
    return _collect(_related_statement(hints, groups, bool(images)).rows(
        bind, uuids=list(uuids)))


_ORD = operator.itemgetter(_UNION_COLUMNS.index('ord'))


def _collect(rows: Iterable) -> Related:
    """Related from rows of the UNION ALL (in any order)."""
    result = Related()
    # Most servers share their security groups and hints text: decode each text once
    # (and share the result).
    decoded: dict[str, object] = {}

    def parsed(text: str):
        value = decoded.get(text)
        if value is None:
            value = decoded[text] = json.loads(text)
        return value

    tags, in_order, addresses = result.tags, [], result.addresses
    no_hints: dict = {}  # one for every server without hints
    for row in rows:
        kind = row[0]
        if kind == 'm' or kind == 'g' or kind == 'p':
            in_order.append(row)  # shown in the order added: sorted below
        elif kind == 't':
            entry = tags.get(row[1])
            if entry is None:
                entry = tags[row[1]] = []
            entry.append(row[2])
        elif kind == 'a':
            addresses[row[1]] = network_cache.addresses(network_cache.decode(row[3]))
        elif kind == 's':
            result.security_groups[row[1]] = parsed(row[3])
        else:  # 'h'
            hints = (parsed(row[3]) if row[3] else None) or no_hints
            result.hints[row[1]] = hints if isinstance(hints, dict) else dict(hints)
    in_order.sort(key=_ORD)
    metadata, groups, properties = result.metadata, result.groups, result.image_properties
    for kind, owner, key, value, *_rest in in_order:
        if kind == 'm':
            entry = metadata.get(owner)
            if entry is None:
                entry = metadata[owner] = {}
            entry[key] = value
        elif kind == 'g':
            groups.setdefault(owner, []).append(key)
        else:
            entry = properties.get(owner)
            if entry is None:
                entry = properties[owner] = {}
            entry[key[_PREFIX_LENGTH:]] = value
    if properties:
        # Servers booted from the same image share one dict (and so one image view).
        shared: dict[tuple, dict] = {}
        for owner, props in properties.items():
            properties[owner] = shared.setdefault(tuple(props.items()), props)
    return result


_PREFIX_LENGTH = len(IMAGE_PREFIX)


@functools.lru_cache(maxsize=16)
def _show_statement(names: tuple[str, ...], hints: bool, groups: bool,
                    images: bool) -> prepared.Statement:
    """One instance and everything `related` reads for it, in one statement: a
    UNION ALL of the instance's row (its columns, then NULLs where the related rows
    have theirs) and the related rows (NULLs where the instance has its columns), so
    that the instance's 40-odd columns are sent and converted once."""
    inst = models.Instance

    def build(uuid: prepared.Param) -> sa.CompoundSelect:
        related = sa.union_all(*_related_parts(
            uuid.equals, hints, groups, images)).subquery()
        # The instance's row comes first in the UNION, so its types are the
        # columns' types (the related ones typed NULLs).
        instance_part = select_instances(names).add_columns(
            *[sa.cast(sa.null(), column.type).label(column.name)
              for column in (related.c[c] for c in _UNION_COLUMNS)]
        ).where(uuid.equals(inst.uuid))
        related_part = sa.select(*[sa.null().label(f'_{name}') for name in names],
                                 *[related.c[c] for c in _UNION_COLUMNS])
        return sa.union_all(instance_part, related_part)
    name = 'kumo_show_%d_' % len(names) + ''.join(
        '1' if f else '0' for f in (hints, groups, images))
    return prepared.Statement(name, {'uuid': 'varchar'}, build)


def show(bind: orm.Session | sa.Connection, uuid: str, user_data: bool = True,
         hints: bool = False, groups: bool = False, images: bool = False):
    """(ServerRow, Related) of one instance, deleted ones included, in one round
    trip: `hints`, `groups` and `images` (its image properties) as for `related`."""
    names = columns(user_data)
    rows = _show_statement(names, hints, groups, images).rows(bind, uuid=uuid)
    width = len(names)
    found = [r for r in rows if r[width] is None]  # the instance's row has no kind
    if not found:
        raise exceptions.InstanceNotFound(instance_id=uuid)
    return rows_from([found[0][:width]], names)[0], _collect(
        r[width:] for r in rows if r[width] is not None)
