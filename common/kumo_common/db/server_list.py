"""GET /servers in the database: which instances a list call selects, in which order,
one page at a time (Nova's semantics, reference/NOTES.md section c).

The API turns the query string into a `ServerQuery` (what may be filtered on, by
whom, and how values parse is its business: kumo_api.server_filters); `page` turns
that into SQL and returns the page's rows as ServerRows (kumo_common.db.server_views).

Regex filters are matched in Python with the `regex` module within a wall-clock
budget (kumo_common.regex_budget), the same on every database backend, so no
pattern can make a request run long.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions, regex_budget, states
from kumo_common.db import keyset, models, network_cache, server_views
from kumo_common.db.session import connection_of

# Wall-clock seconds all regex filters of one request may spend matching: half the
# second a whole list call may take with a catastrophic pattern (the query and the
# views need the rest, and reading rows is not counted against the patterns).
# kumo_common.regex_budget says how it holds on a busy machine.
REGEX_BUDGET = 0.5

# Nova's default order (created_at desc, then its uuid tie-breaker), as keyset keys.
_DEFAULT_KEYS = [(keyset.SortKey(models.Instance.created_at), 'desc'),
                 (keyset.SortKey(models.Instance.uuid), 'asc')]


@dataclass
class ServerQuery:
    """What one list call selects, parsed and allowed by the API."""
    project_id: str | None = None  # None: every project (an admin's all_tenants)
    exact: dict[str, object] = field(default_factory=dict)  # column -> value
    regexes: dict[str, str] = field(default_factory=dict)   # column -> pattern (search)
    # (IP version, pattern): matched from the start of one of the fixed IPs.
    ip_patterns: list[tuple[int, str]] = field(default_factory=list)
    flavorid: str | None = None  # the flavor's API id
    locked: bool | None = None
    tags: list[str] = field(default_factory=list)          # has all of them
    tags_any: list[str] = field(default_factory=list)      # has one of them
    not_tags: list[str] = field(default_factory=list)      # lacks one of them
    not_tags_any: list[str] = field(default_factory=list)  # has none of them
    vm_states: list[str] = field(default_factory=list)     # empty: any
    task_states: list[str] | None = None  # with vm_states; None or empty: any
    changes_since: datetime.datetime | None = None  # naive UTC
    changes_before: datetime.datetime | None = None
    deleted: bool | None = False  # None: deleted ones too (changes-* alone)
    soft_deleted: bool | None = None  # the soft_deleted filter; None: not given
    empty: bool = False  # a filter matches nothing (an unknown status before 2.38)
    # [(column, 'asc'|'desc')]; None: no sort_key given, Nova's default order.
    sort: list[tuple[str, str]] | None = None
    limit: int = 1000
    marker: str | None = None  # uuid of the last server of the previous page
    # The instance columns to read (server_views.columns()); `id` among them.
    columns: tuple[str, ...] = server_views.DETAIL_COLUMNS


def page(bind: orm.Session | sa.Connection, q: ServerQuery) -> list:
    """The ServerRows of one page of the servers `q` selects, in its order.

    Raises exceptions.Invalid (400) for a marker that is not among them, or a regex
    filter that runs out of its time budget.
    """
    inst = models.Instance
    # Core statements on the session's connection: the ORM's result handling would
    # cost more than the reads (rows are plain tuples here).
    conn = connection_of(bind)
    conditions = _conditions(conn, q)
    if conditions is None:
        if q.marker:
            raise _marker_not_found(q.marker)
        return []
    query = server_views.select_instances(q.columns).where(*conditions)
    matching = _regex_matching_ids(conn, query, q)
    if matching is not None:
        query = query.where(inst.id.in_(matching or [-1]))
    query = query.order_by(*_order(q.sort))
    if q.marker and q.sort is None:
        rows = _page_after(conn, query, q.marker, q.limit)
    elif q.marker:
        # Walk only (id, uuid) pairs to find the page, then load its rows.
        pairs = conn.execute(query.with_only_columns(inst.id, inst.uuid)).all()
        at = next((i for i, (_id, uuid) in enumerate(pairs) if uuid == q.marker), None)
        if at is None:
            raise _marker_not_found(q.marker)
        ids = [p[0] for p in pairs[at + 1:at + 1 + q.limit]]
        if not ids:
            return []
        by_id = {r.id: r for r in server_views.rows_from(conn.execute(
            server_views.select_instances(q.columns).where(inst.id.in_(ids))), q.columns)}
        return [by_id[i] for i in ids]
    else:
        rows = conn.execute(query.limit(q.limit))
    return server_views.rows_from(rows, q.columns)


def _marker_not_found(marker: str) -> exceptions.Invalid:
    return exceptions.Invalid(f'marker [{marker}] not found')


def _page_after(conn: sa.Connection, query: sa.Select, marker: str, limit: int):
    """The page after `marker` in the default order, found with a WHERE on the sort
    keys rather than by reading every row before it (pages of a 10,000-server
    project cost the same). The marker must be among the listed servers: its sort
    keys are read through the list's own query."""
    inst = models.Instance
    values = conn.execute(query.with_only_columns(inst.created_at, inst.uuid)
                          .where(inst.uuid == marker).order_by(None)).first()
    if values is None:
        raise _marker_not_found(marker)
    return conn.execute(keyset.beyond(query, _DEFAULT_KEYS, values).limit(limit))


def _order(sort: list[tuple[str, str]] | None) -> list:
    inst = models.Instance
    order = [getattr(inst, key).desc() if direction == 'desc' else getattr(inst, key).asc()
             for key, direction in sort or ()]
    if not order:
        order.append(inst.created_at.desc())
    # Stable order for paging: Nova's tie-breakers.
    order.extend([inst.uuid.asc(), inst.id.desc()])
    return order


def _conditions(conn: sa.Connection, q: ServerQuery) -> list | None:
    """The WHERE clauses of `q` (None when it can match nothing)."""
    if q.empty:
        return None
    inst = models.Instance
    conditions = []
    if q.project_id is not None:
        conditions.append(inst.project_id == q.project_id)
    conditions += [getattr(inst, column) == value for column, value in q.exact.items()]
    if q.flavorid is not None:
        flavor_id = conn.scalars(sa.select(models.Flavor.id).where(
            models.Flavor.flavorid == q.flavorid)).first()
        if flavor_id is None:
            return None
        conditions.append(inst.instance_type_id == flavor_id)
    if q.locked is not None:
        conditions.append(inst.locked.is_(q.locked))
    conditions += _tag_conditions(q)
    if q.vm_states:
        cond = inst.vm_state.in_(q.vm_states)
        if q.task_states:
            cond = sa.and_(cond, inst.task_state.in_(q.task_states))
        conditions.append(cond)
    changed = sa.func.coalesce(inst.updated_at, inst.created_at)
    if q.changes_since is not None:
        conditions.append(changed >= q.changes_since)
    if q.changes_before is not None:
        conditions.append(changed <= q.changes_before)
    if q.deleted is None:
        pass  # changes-* include deleted and soft-deleted servers
    elif q.deleted:
        conditions.append(inst.deleted != 0 if q.soft_deleted is False
                          else sa.or_(inst.deleted != 0,
                                      inst.vm_state == states.SOFT_DELETED))
    else:
        conditions.append(inst.deleted == 0)
        if not q.soft_deleted:
            conditions.append(inst.vm_state != states.SOFT_DELETED)
    return conditions


def _tag_conditions(q: ServerQuery) -> list:
    # One IN list per filter, as Nova's: a condition per tag would nest one level
    # per tag, and a few thousand tags overflow SQLite's expression depth (a 500).
    inst, tag = models.Instance, models.Tag

    def has_all(tags):
        return inst.uuid.in_(
            sa.select(tag.resource_id).where(tag.tag.in_(tags)).group_by(tag.resource_id)
            .having(sa.func.count(sa.distinct(tag.tag)) == len(tags)))

    def has_any(tags):
        return sa.exists().where(tag.resource_id == inst.uuid, tag.tag.in_(tags))

    conditions = []
    if q.tags:
        conditions.append(has_all(q.tags))
    if q.tags_any:
        conditions.append(has_any(q.tags_any))
    if q.not_tags:
        conditions.append(sa.not_(has_all(q.not_tags)))
    if q.not_tags_any:
        conditions.append(sa.not_(has_any(q.not_tags_any)))
    return conditions


# --- regex filters ---------------------------------------------------------------------

def _as_text(value) -> str:
    if value is None:
        return ''
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=' ')
    if isinstance(value, bool):
        return '1' if value else '0'
    return str(value)


def _too_slow() -> exceptions.Invalid:
    return exceptions.Invalid('The filter pattern took too long to match; use a '
                              'simpler regular expression.')


def _regex_matching_ids(conn: sa.Connection, query: sa.Select,
                        q: ServerQuery) -> set[int] | None:
    """Ids of instances passing the regex and ip filters (None when there are none)."""
    if not q.regexes and not q.ip_patterns:
        return None
    import regex  # only lists with regex filters need it (1.3 MB of the API's memory)
    budget = regex_budget.Budget(REGEX_BUDGET)
    compiled = [regex.compile(p) for p in q.regexes.values()]
    columns = [models.Instance.id, models.Instance.uuid] + [
        getattr(models.Instance, c) for c in q.regexes]
    rows = conn.execute(query.with_only_columns(*columns)).all()
    try:
        # Only the matching runs in the budget's worker thread; the connection
        # stays in this one.
        ids = budget.run(lambda: {
            row[0] for row in rows
            if all(budget.matches(p, _as_text(row[i + 2])) for i, p in enumerate(compiled))})
        if q.ip_patterns and ids:
            uuids = {row[1]: row[0] for row in rows if row[0] in ids}
            ids = _ip_matching_ids(conn, uuids, q.ip_patterns, budget)
    except regex_budget.PatternTooSlow as exc:
        raise _too_slow() from exc
    return ids


def _ip_matching_ids(conn: sa.Connection, id_of: dict[str, int], patterns,
                     budget: regex_budget.Budget) -> set[int]:
    """Nova's fallback ip filter: a match anchored at the start, on fixed IPs."""
    import regex
    compiled = [(version, regex.compile(p)) for version, p in patterns]
    # The servers' network info caches: their addresses whichever network service
    # holds their ports.
    cache = models.InstanceInfoCache
    addresses = {uuid: network_cache.fixed_ips(network_cache.decode(text))
                 for uuid, text in conn.execute(
                     sa.select(cache.instance_uuid, cache.network_info)
                     .where(cache.instance_uuid.in_(list(id_of))))}
    return budget.run(lambda: {
        id_of[uuid] for uuid, addrs in addresses.items()
        if all(any(budget.matches(p, a, anchored=True)
                   for a in addrs if (':' in a) == (version == 6))
               for version, p in compiled)})
