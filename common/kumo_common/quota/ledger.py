"""The usage ledger (`quota_usages`): its keys, rows made on first use from the live
rows, locking in key order, conditional charges and releases, and usage as shown."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql, sqlite

from kumo_common.db import models, session
from kumo_common.quota.limits import INSTANCE_RESOURCES, RESOURCES, get_limits

ANY_PROJECT = ''
# Ledger resource of one group's members (per user): this prefix + the group's uuid.
MEMBERS_PREFIX = 'server_group_members:'


def counted(s: orm.Session, project_id: str, user_id: str, resource: str) -> int:
    """What a usage row should hold, counted from the live rows."""
    if resource == 'key_pairs':
        return s.scalar(sa.select(sa.func.count(models.KeyPair.id)).where(
            models.KeyPair.user_id == user_id))
    if resource == 'server_groups':
        return s.scalar(sa.select(sa.func.count(models.ServerGroup.id)).where(
            models.ServerGroup.project_id == project_id))
    if resource.startswith(MEMBERS_PREFIX):
        group, member, inst = models.ServerGroup, models.ServerGroupMember, models.Instance
        return s.scalar(
            sa.select(sa.func.count(member.id))
            .join(group, group.id == member.group_id)
            .join(inst, inst.uuid == member.instance_uuid)
            .where(group.uuid == resource[len(MEMBERS_PREFIX):], inst.user_id == user_id,
                   inst.deleted == 0))
    inst = models.Instance
    column = {'instances': sa.func.count(inst.id),
              'cores': sa.func.coalesce(sa.func.sum(inst.vcpus), 0),
              'ram': sa.func.coalesce(sa.func.sum(inst.memory_mb), 0)}[resource]
    query = sa.select(column).where(inst.project_id == project_id, inst.deleted == 0)
    if user_id:
        query = query.where(inst.user_id == user_id)
    return int(s.scalar(query))


def insert_missing(s: orm.Session, keys: list[tuple[str, str, str]]) -> None:
    """Create the ledger rows that do not exist yet, tolerating a concurrent creator."""
    u = models.QuotaUsage
    present = set(s.execute(sa.select(u.project_id, u.user_id, u.resource).where(
        sa.tuple_(u.project_id, u.user_id, u.resource).in_(keys))).all())
    missing = [k for k in keys if k not in present]
    if not missing:
        return
    rows = [{'project_id': p, 'user_id': user, 'resource': r, 'in_use': counted(s, p, user, r),
             'created_at': models.utcnow()} for p, user, r in missing]
    dialect = s.get_bind().dialect.name
    if dialect == 'postgresql':
        stmt = postgresql.insert(u).on_conflict_do_nothing()
    elif dialect == 'sqlite':
        stmt = sqlite.insert(u).on_conflict_do_nothing()
    else:
        stmt = sa.insert(u).prefix_with('IGNORE')
    s.execute(stmt, rows)


def groups_key(project_id: str) -> tuple[str, str, str]:
    return (project_id, '', 'server_groups')


def members_key(project_id: str, user_id: str, group_uuid: str) -> tuple[str, str, str]:
    return (project_id, user_id, MEMBERS_PREFIX + group_uuid)


def instance_keys(project_id: str, user_id: str) -> list[tuple[str, str, str]]:
    return sorted([(project_id, '', r) for r in INSTANCE_RESOURCES]
                  + [(project_id, user_id, r) for r in INSTANCE_RESOURCES])


def ensure_usage(project_id: str, user_id: str, keypairs: bool = False) -> None:
    """Create the ledger rows an admission will lock, in a transaction of their own.

    A read first: once the rows exist (every call but the first) no write happens.
    """
    keys = [(ANY_PROJECT, user_id, 'key_pairs')] if keypairs \
        else instance_keys(project_id, user_id)
    ensure_rows(keys)


def ensure_server_group_usage(project_id: str, user_id: str | None = None,
                              group_uuid: str | None = None) -> None:
    """ensure_usage for the project's server group count, or (group_uuid) for the
    user's member count of that group."""
    ensure_rows([members_key(project_id, user_id or '', group_uuid) if group_uuid
             else groups_key(project_id)])


def ensure_rows(keys: list[tuple[str, str, str]]) -> None:
    u = models.QuotaUsage
    # One statement, no transaction around it (on PostgreSQL: no BEGIN/ROLLBACK).
    with session.statement_connection() as conn:
        found = conn.scalar(sa.select(sa.func.count(u.id)).where(
            sa.tuple_(u.project_id, u.user_id, u.resource).in_(keys)))
    if found == len(keys):
        return
    with session.transaction() as s:
        insert_missing(s, keys)


def lock(s: orm.Session, keys: list[tuple[str, str, str]]) -> dict[tuple, int]:
    """Lock the ledger rows (creating missing ones) in key order; their in_use."""
    u = models.QuotaUsage
    if len(keys) > 1 and s.get_bind().dialect.name == 'postgresql':
        # One statement for all the rows: PostgreSQL locks the rows of a SELECT ...
        # ORDER BY ... FOR UPDATE as it returns them, i.e. in key order, as the loop
        # below does. The rows exist once ensure_usage ran (they are never deleted);
        # if one does not, the loop below creates it.
        rows = s.execute(
            sa.select(u.project_id, u.user_id, u.resource, u.in_use)
            .where(sa.tuple_(u.project_id, u.user_id, u.resource).in_(keys))
            # COLLATE "C": byte order, which is Python's sorted() order of the keys.
            .order_by(u.project_id.collate('C'), u.user_id.collate('C'),
                      u.resource.collate('C'))
            .with_for_update()).all()
        found = {(p, user, r): in_use for p, user, r, in_use in rows}
        if len(found) == len(set(keys)):
            return found
    insert_missing(s, keys)
    in_use = {}
    for key in sorted(keys):
        project_id, user_id, resource = key
        in_use[key] = s.scalar(
            sa.select(u.in_use).where(u.project_id == project_id, u.user_id == user_id,
                                      u.resource == resource)
            .with_for_update())
    return in_use


def charge(s: orm.Session, key: tuple[str, str, str], delta: int, limit: int) -> bool:
    u = models.QuotaUsage
    project_id, user_id, resource = key
    stmt = (sa.update(u)
            .where(u.project_id == project_id, u.user_id == user_id, u.resource == resource)
            .values(in_use=u.in_use + delta, updated_at=models.utcnow())
            .execution_options(synchronize_session=False))
    if limit >= 0:
        stmt = stmt.where(u.in_use + delta <= limit)
    return s.execute(stmt).rowcount == 1


def charge_all(s: orm.Session, charges: list[tuple[tuple[str, str, str], int, int]]
                ) -> bool:
    """charge every (key, delta, limit), all or nothing (False: one would go over its
    limit; the caller raises, which rolls the others back). On PostgreSQL one UPDATE
    ... FROM (VALUES ...) with the same condition per row; elsewhere one per key."""
    if len(charges) < 2 or s.get_bind().dialect.name != 'postgresql':
        return all(charge(s, key, delta, limit) for key, delta, limit in charges)
    u = models.QuotaUsage
    rows = sa.values(sa.column('project_id', sa.String), sa.column('user_id', sa.String),
                     sa.column('resource', sa.String), sa.column('delta', sa.Integer),
                     sa.column('hard_limit', sa.Integer), name='charges').data(
        [(p, user, r, delta, limit) for (p, user, r), delta, limit in charges])
    stmt = (sa.update(u)
            .where(u.project_id == rows.c.project_id, u.user_id == rows.c.user_id,
                   u.resource == rows.c.resource,
                   sa.or_(rows.c.hard_limit < 0,
                          u.in_use + rows.c.delta <= rows.c.hard_limit))
            .values(in_use=u.in_use + rows.c.delta, updated_at=models.utcnow())
            .execution_options(synchronize_session=False))
    return s.execute(stmt).rowcount == len(charges)


def release(s: orm.Session, key: tuple[str, str, str], delta: int) -> None:
    u = models.QuotaUsage
    project_id, user_id, resource = key
    s.execute(sa.update(u)
              .where(u.project_id == project_id, u.user_id == user_id,
                     u.resource == resource)
              .values(in_use=sa.case((u.in_use >= delta, u.in_use - delta), else_=0),
                      updated_at=models.utcnow())
              .execution_options(synchronize_session=False))


def usage(s: orm.Session, project_id: str, user_id: str | None = None) -> dict[str, int]:
    """In-use amounts as quota-sets detail and limits show them.

    Instances, cores and RAM from the ledger (counted when it has no row yet);
    server groups counted; key pairs and server group members are 0, as in Nova
    (per-user resources whose usage is not shown there).
    """
    result = dict.fromkeys(RESOURCES, 0)
    u = models.QuotaUsage
    rows = dict(s.execute(sa.select(u.resource, u.in_use).where(
        u.project_id == project_id, u.user_id == (user_id or ''),
        u.resource.in_(INSTANCE_RESOURCES))).all())
    for resource in INSTANCE_RESOURCES:
        result[resource] = rows[resource] if resource in rows \
            else counted(s, project_id, user_id or '', resource)
    group = models.ServerGroup
    query = sa.select(sa.func.count(group.id)).where(group.project_id == project_id)
    if user_id:
        query = query.where(group.user_id == user_id)
    result['server_groups'] = s.scalar(query)
    return result


def settable_range(s: orm.Session, project_id: str, user_id: str | None = None
                   ) -> dict[str, tuple[int, int]]:
    """(minimum, maximum) a new limit may take without `force` (-1: no maximum).

    A project's limit may not fall below what is in use. A user's may not fall
    below their usage nor rise above what the project has left once the other
    users' overrides are taken out.
    """
    used = usage(s, project_id, user_id)
    if not user_id:
        return {r: (used[r], -1) for r in RESOURCES}
    project_limits = get_limits(s, project_id)
    q = models.Quota
    others = dict(s.execute(
        sa.select(q.resource, sa.func.sum(q.hard_limit))
        .where(q.project_id == project_id, q.user_id != '', q.user_id != user_id)
        .group_by(q.resource)).all())
    ranges = {}
    for resource in RESOURCES:
        limit = project_limits[resource]
        maximum = -1 if limit < 0 else max(limit - int(others.get(resource) or 0), 0)
        ranges[resource] = (used[resource], maximum)
    return ranges
