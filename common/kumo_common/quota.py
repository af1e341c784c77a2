"""Quota: limits (defaults, project and user overrides), usage, and atomic admission.

Limits. Every resource of Nova's quota sets has a default: the 'default' quota
class's limit (os-quota-class-sets, `quota_classes` rows) if an operator set one,
else the [quota] option (the network resources Nova still lists have none and are
-1). An operator overrides a default for a project (a `quotas` row with user_id '')
or for one user of a project (user_id set); a user's effective limit is their
override, else the project's. -1 means unlimited. `server_groups` and the network
resources are per project only. Quota classes other than 'default' are stored and
shown but used for nothing, as in Nova.

Usage. Instances, cores and RAM are counted in a ledger, `quota_usages`, with one row
per (project, '', resource) and one per (project, user, resource). Key pairs belong
to a user whatever the project, so theirs is one row per ('', user, 'key_pairs').
A row is created on first use with what the live rows (instances, keypairs) add up
to, so data that predates the ledger is counted.

Admission. Creating servers (or a key pair) and charging the ledger happen in ONE
transaction, the caller's:

  1. lock the ledger rows involved, one at a time in a fixed order (sorted by
     project, user, resource) with SELECT ... FOR UPDATE. On PostgreSQL and MariaDB
     the row lock is held to commit and a locking read sees the latest committed
     value, whatever the isolation level. SQLite has no row locks and needs none:
     Kumo's writers BEGIN IMMEDIATE (kumo_common.db.session), so write transactions
     run one at a time. The fixed order means two admissions cannot deadlock, and
     releases (decrements) take the same order;
  2. compute how many of min_count..max_count fit under the project's and the
     user's limits (Nova's partial fit: fewer than min_count -> 403);
  3. add the usage with a conditional UPDATE (`in_use + n <= limit`), which would
     refuse rather than overshoot even if step 1 did not hold a lock;
  4. the caller writes its rows; commit releases the locks. A rollback (the
     caller failed after admission) undoes the charge with everything else.

Releasing happens where the resource stops existing, in the same transaction
(instances: the conductor when it marks a server deleted; key pairs: on delete).
Servers in ERROR still count, as in Nova.

Server groups use the same ledger: one row per (project, '', 'server_groups'), and
one per (project, user, 'server_group_members:<group uuid>') counting that user's
live servers in the group (Nova counts members by user). A server that joins a group
is charged in the transaction that creates it (after its instance rows, which keeps
the lock order) and given back with the rest of its usage when it is deleted.

Rows are best created before the admitting transaction (`ensure_usage`, its own
short transaction): creating them inside it also works, but on MariaDB concurrent
first uses of one project could then deadlock (INSERT IGNORE takes a shared lock
that the later FOR UPDATE must upgrade).
"""
from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql, sqlite

from kumo_common import exceptions
from kumo_common.db import models, session

CONF = cfg.CONF

# Every resource of Nova's quota sets, in the order its samples list them.
RESOURCES = ('cores', 'fixed_ips', 'floating_ips', 'injected_file_content_bytes',
             'injected_file_path_bytes', 'injected_files', 'instances', 'key_pairs',
             'metadata_items', 'ram', 'security_group_rules', 'security_groups',
             'server_groups', 'server_group_members')
# Limits that only a project has (a per-user value is ignored, as Nova).
PER_PROJECT = ('fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups',
               'server_groups')
# Network resources: listed before 2.36, never enforced here (Neutron's business).
NETWORK_RESOURCES = ('fixed_ips', 'floating_ips', 'security_group_rules',
                     'security_groups')
INSTANCE_RESOURCES = ('cores', 'instances', 'ram')
_ANY_PROJECT = ''
# Ledger resource of one group's members (per user): this prefix + the group's uuid.
_MEMBERS_PREFIX = 'server_group_members:'


class QuotaError(exceptions.Forbidden):
    """Over quota: a 403 in Nova's words."""


class TooManyInstances(QuotaError):
    message = ('Quota exceeded for %(overs)s: Requested %(req)s, but already used '
               '%(used)s of %(allowed)s %(overs)s')


class KeypairLimitExceeded(QuotaError):
    message = 'Quota exceeded, too many key pairs.'


class MetadataLimitExceeded(QuotaError):
    message = 'Maximum number of metadata items exceeds %(allowed)d'


class OnsetFileLimitExceeded(QuotaError):
    message = 'Personality file limit exceeded'


class OnsetFilePathLimitExceeded(QuotaError):
    message = 'Personality file path exceeds maximum %(allowed)s'


class OnsetFileContentLimitExceeded(QuotaError):
    message = 'Personality file content exceeds maximum %(allowed)s'


class ServerGroupLimitExceeded(QuotaError):
    message = 'Quota exceeded, too many server groups.'


class GroupMemberLimitExceeded(QuotaError):
    message = 'Quota exceeded, too many servers in group'


# --- limits --------------------------------------------------------------------------

def defaults() -> dict[str, int]:
    """The [quota] defaults of every resource."""
    q = CONF.quota
    return {
        'cores': q.cores, 'fixed_ips': -1, 'floating_ips': -1,
        'injected_file_content_bytes': q.injected_file_content_bytes,
        'injected_file_path_bytes': q.injected_file_path_length,
        'injected_files': q.injected_files, 'instances': q.instances,
        'key_pairs': q.key_pairs, 'metadata_items': q.metadata_items, 'ram': q.ram,
        'security_group_rules': -1, 'security_groups': -1,
        'server_groups': q.server_groups, 'server_group_members': q.server_group_members,
    }


DEFAULT_CLASS = 'default'


def class_overrides(s: orm.Session, class_name: str) -> dict[str, int]:
    """The limits stored for a quota class."""
    qc = models.QuotaClass
    rows = s.execute(sa.select(qc.resource, qc.hard_limit).where(
        qc.class_name == class_name))
    return {resource: limit for resource, limit in rows if resource in RESOURCES}


def default_limits(s: orm.Session) -> dict[str, int]:
    """The defaults every project gets: the 'default' class over the [quota] options."""
    limits = defaults()
    limits.update(class_overrides(s, DEFAULT_CLASS))
    return limits


def get_class_limits(s: orm.Session, class_name: str) -> dict[str, int]:
    """A quota class's limits: its own, else the defaults (as Nova shows any class)."""
    limits = default_limits(s)
    limits.update(class_overrides(s, class_name))
    return limits


def set_class_limits(s: orm.Session, class_name: str, values: dict[str, int]) -> None:
    """Store a quota class's limits (insert or update). The network resources too,
    as Nova's database quota driver keeps them (shown before 2.50, never enforced)."""
    qc = models.QuotaClass
    existing = {row.resource: row for row in s.scalars(sa.select(qc).where(
        qc.class_name == class_name))}
    for resource, limit in values.items():
        if resource not in RESOURCES:
            continue
        if resource in existing:
            existing[resource].hard_limit = limit
        else:
            s.add(qc(class_name=class_name, resource=resource, hard_limit=limit))
    s.flush()


def overrides(s: orm.Session, project_id: str, user_id: str | None = None
              ) -> dict[str, int]:
    """The limits stored for the project (user_id None) or for one of its users."""
    q = models.Quota
    rows = s.execute(sa.select(q.resource, q.hard_limit).where(
        q.project_id == project_id, q.user_id == (user_id or '')))
    return {resource: limit for resource, limit in rows if resource in RESOURCES}


def get_limits(s: orm.Session, project_id: str, user_id: str | None = None,
               project_limits: dict[str, int] | None = None) -> dict[str, int]:
    """Effective limits of a project, or of a user in it (their overrides win).
    `project_limits`: the project's, if the caller read them already in this
    transaction (only the user's overrides are read then)."""
    if project_limits is None:
        limits = default_limits(s)
        limits.update(overrides(s, project_id))
    else:
        limits = dict(project_limits)
    if user_id:
        limits.update({r: v for r, v in overrides(s, project_id, user_id).items()
                       if r not in PER_PROJECT})
    return limits


def set_limits(s: orm.Session, project_id: str, values: dict[str, int],
               user_id: str | None = None) -> None:
    """Store overrides (insert or update), for the project or one of its users."""
    q = models.Quota
    existing = {row.resource: row for row in s.scalars(sa.select(q).where(
        q.project_id == project_id, q.user_id == (user_id or '')))}
    for resource, limit in values.items():
        if user_id and resource in PER_PROJECT:
            continue
        if resource in existing:
            existing[resource].hard_limit = limit
        else:
            s.add(q(project_id=project_id, user_id=user_id or '', resource=resource,
                    hard_limit=limit))
    s.flush()


def delete_limits(s: orm.Session, project_id: str, user_id: str | None = None) -> None:
    """Back to defaults: a user's overrides, or the project's and all its users'."""
    q = models.Quota
    stmt = sa.delete(q).where(q.project_id == project_id)
    if user_id:
        stmt = stmt.where(q.user_id == user_id)
    s.execute(stmt)


def check_metadata_items(s: orm.Session, project_id: str, count: int,
                         project_limits: dict[str, int] | None = None) -> None:
    """403 if a server would carry more metadata items than the project may
    (`project_limits`: get_limits(s, project_id), if the caller has them)."""
    if project_limits is None:
        project_limits = get_limits(s, project_id)
    allowed = project_limits['metadata_items']
    if 0 <= allowed < count:
        raise MetadataLimitExceeded(allowed=allowed)


def check_injected_files(s: orm.Session, project_id: str, user_id: str,
                         files: list[tuple[str, str]],
                         project_limits: dict[str, int] | None = None) -> None:
    """403 if personality files break the injected_files limits (Nova's order: the
    count, then the longest path, then the longest content, its base64 text)."""
    if not files:
        return
    limits = get_limits(s, project_id, user_id, project_limits)
    allowed = limits['injected_files']
    if 0 <= allowed < len(files):
        raise OnsetFileLimitExceeded()
    allowed = limits['injected_file_path_bytes']
    if 0 <= allowed < max(len(path) for path, _ in files):
        raise OnsetFilePathLimitExceeded(allowed=allowed)
    allowed = limits['injected_file_content_bytes']
    if 0 <= allowed < max(len(contents) for _, contents in files):
        raise OnsetFileContentLimitExceeded(allowed=allowed)


# --- usage ---------------------------------------------------------------------------

def _counted(s: orm.Session, project_id: str, user_id: str, resource: str) -> int:
    """What a usage row should hold, counted from the live rows."""
    if resource == 'key_pairs':
        return s.scalar(sa.select(sa.func.count(models.KeyPair.id)).where(
            models.KeyPair.user_id == user_id))
    if resource == 'server_groups':
        return s.scalar(sa.select(sa.func.count(models.ServerGroup.id)).where(
            models.ServerGroup.project_id == project_id))
    if resource.startswith(_MEMBERS_PREFIX):
        group, member, inst = models.ServerGroup, models.ServerGroupMember, models.Instance
        return s.scalar(
            sa.select(sa.func.count(member.id))
            .join(group, group.id == member.group_id)
            .join(inst, inst.uuid == member.instance_uuid)
            .where(group.uuid == resource[len(_MEMBERS_PREFIX):], inst.user_id == user_id,
                   inst.deleted == 0))
    inst = models.Instance
    column = {'instances': sa.func.count(inst.id),
              'cores': sa.func.coalesce(sa.func.sum(inst.vcpus), 0),
              'ram': sa.func.coalesce(sa.func.sum(inst.memory_mb), 0)}[resource]
    query = sa.select(column).where(inst.project_id == project_id, inst.deleted == 0)
    if user_id:
        query = query.where(inst.user_id == user_id)
    return int(s.scalar(query))


def _insert_missing(s: orm.Session, keys: list[tuple[str, str, str]]) -> None:
    """Create the ledger rows that do not exist yet, tolerating a concurrent creator."""
    u = models.QuotaUsage
    present = set(s.execute(sa.select(u.project_id, u.user_id, u.resource).where(
        sa.tuple_(u.project_id, u.user_id, u.resource).in_(keys))).all())
    missing = [k for k in keys if k not in present]
    if not missing:
        return
    rows = [{'project_id': p, 'user_id': user, 'resource': r, 'in_use': _counted(s, p, user, r),
             'created_at': models.utcnow()} for p, user, r in missing]
    dialect = s.get_bind().dialect.name
    if dialect == 'postgresql':
        stmt = postgresql.insert(u).on_conflict_do_nothing()
    elif dialect == 'sqlite':
        stmt = sqlite.insert(u).on_conflict_do_nothing()
    else:
        stmt = sa.insert(u).prefix_with('IGNORE')
    s.execute(stmt, rows)


def _groups_key(project_id: str) -> tuple[str, str, str]:
    return (project_id, '', 'server_groups')


def _members_key(project_id: str, user_id: str, group_uuid: str) -> tuple[str, str, str]:
    return (project_id, user_id, _MEMBERS_PREFIX + group_uuid)


def _instance_keys(project_id: str, user_id: str) -> list[tuple[str, str, str]]:
    return sorted([(project_id, '', r) for r in INSTANCE_RESOURCES]
                  + [(project_id, user_id, r) for r in INSTANCE_RESOURCES])


def ensure_usage(project_id: str, user_id: str, keypairs: bool = False) -> None:
    """Create the ledger rows an admission will lock, in a transaction of their own.

    A read first: once the rows exist (every call but the first) no write happens.
    """
    keys = [(_ANY_PROJECT, user_id, 'key_pairs')] if keypairs \
        else _instance_keys(project_id, user_id)
    _ensure(keys)


def ensure_server_group_usage(project_id: str, user_id: str | None = None,
                              group_uuid: str | None = None) -> None:
    """ensure_usage for the project's server group count, or (group_uuid) for the
    user's member count of that group."""
    _ensure([_members_key(project_id, user_id or '', group_uuid) if group_uuid
             else _groups_key(project_id)])


def _ensure(keys: list[tuple[str, str, str]]) -> None:
    u = models.QuotaUsage
    # One statement, no transaction around it (on PostgreSQL: no BEGIN/ROLLBACK).
    with session.statement_connection() as conn:
        found = conn.scalar(sa.select(sa.func.count(u.id)).where(
            sa.tuple_(u.project_id, u.user_id, u.resource).in_(keys)))
    if found == len(keys):
        return
    with session.transaction() as s:
        _insert_missing(s, keys)


def _lock(s: orm.Session, keys: list[tuple[str, str, str]]) -> dict[tuple, int]:
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
    _insert_missing(s, keys)
    in_use = {}
    for key in sorted(keys):
        project_id, user_id, resource = key
        in_use[key] = s.scalar(
            sa.select(u.in_use).where(u.project_id == project_id, u.user_id == user_id,
                                      u.resource == resource)
            .with_for_update())
    return in_use


def _charge(s: orm.Session, key: tuple[str, str, str], delta: int, limit: int) -> bool:
    u = models.QuotaUsage
    project_id, user_id, resource = key
    stmt = (sa.update(u)
            .where(u.project_id == project_id, u.user_id == user_id, u.resource == resource)
            .values(in_use=u.in_use + delta, updated_at=models.utcnow())
            .execution_options(synchronize_session=False))
    if limit >= 0:
        stmt = stmt.where(u.in_use + delta <= limit)
    return s.execute(stmt).rowcount == 1


def _charge_all(s: orm.Session, charges: list[tuple[tuple[str, str, str], int, int]]
                ) -> bool:
    """_charge every (key, delta, limit), all or nothing (False: one would go over its
    limit; the caller raises, which rolls the others back). On PostgreSQL one UPDATE
    ... FROM (VALUES ...) with the same condition per row; elsewhere one per key."""
    if len(charges) < 2 or s.get_bind().dialect.name != 'postgresql':
        return all(_charge(s, key, delta, limit) for key, delta, limit in charges)
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


def _release(s: orm.Session, key: tuple[str, str, str], delta: int) -> None:
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
            else _counted(s, project_id, user_id or '', resource)
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


# --- admission -----------------------------------------------------------------------

def admit_instances(s: orm.Session, project_id: str, user_id: str, vcpus: int,
                    memory_mb: int, min_count: int, max_count: int,
                    project_limits: dict[str, int] | None = None) -> int:
    """Charge as many servers of this size as fit, up to max_count; returns how many.

    Runs in the caller's transaction (the one that writes the servers). Raises
    TooManyInstances when not even min_count fit. `project_limits`:
    get_limits(s, project_id), if the caller read them in this transaction.
    """
    keys = _instance_keys(project_id, user_id)
    in_use = _lock(s, keys)
    if project_limits is None:
        project_limits = get_limits(s, project_id)
    # The user's limits are the project's with their overrides on top: the defaults
    # and the project's overrides are read once, not once per scope.
    limits = {'': project_limits,
              user_id: get_limits(s, project_id, user_id, project_limits)}
    per = {'instances': 1, 'cores': vcpus, 'ram': memory_mb}
    # The scope (project or user) with the least room binds each resource.
    room: dict[str, tuple[int, int, int]] = {}
    for _project, scope, resource in keys:
        limit = limits[scope][resource]
        if limit < 0:
            continue
        left = limit - in_use[(project_id, scope, resource)]
        if resource not in room or left < room[resource][0]:
            room[resource] = (left, limit, in_use[(project_id, scope, resource)])
    fits = max_count
    for resource, (left, _limit, _used) in room.items():
        if per[resource] > 0:
            fits = min(fits, max(left, 0) // per[resource])
    if fits < min_count:
        raise _too_many(room, per, min_count, max_count)
    charges = [(key, per[key[2]] * fits, limits[key[1]][key[2]]) for key in keys]
    if not _charge_all(s, [c for c in charges if c[1]]):
        # Only reachable if the lock above did not hold; refuse rather than overshoot.
        raise _too_many(room, per, min_count, max_count)
    return fits


def _too_many(room: dict, per: dict, min_count: int, max_count: int) -> TooManyInstances:
    """Nova's message: the resources over at max_count, what was asked, used, allowed."""
    requested = {'instances': str(min_count) if min_count == max_count
                 else f'{min_count}-{max_count}',
                 'cores': per['cores'] * max_count, 'ram': per['ram'] * max_count}
    overs = sorted(r for r, (left, _limit, _used) in room.items()
                   if per[r] * max_count > left)
    return TooManyInstances(overs=', '.join(overs),
                            req=', '.join(str(requested[r]) for r in overs),
                            used=', '.join(str(room[r][2]) for r in overs),
                            allowed=', '.join(str(room[r][1]) for r in overs))


def release_instance(s: orm.Session, instance: models.Instance) -> None:
    """Give back what a server counted, in the transaction that marks it deleted."""
    per = {'instances': 1, 'cores': instance.vcpus or 0, 'ram': instance.memory_mb or 0}
    for key in _instance_keys(instance.project_id, instance.user_id):
        if per[key[2]]:
            _release(s, key, per[key[2]])
    # Its place in server groups, last: these keys sort after the instance ones.
    group, member = models.ServerGroup, models.ServerGroupMember
    for group_uuid in sorted(s.scalars(
            sa.select(group.uuid).join(member, member.group_id == group.id)
            .where(member.instance_uuid == instance.uuid))):
        _release(s, _members_key(instance.project_id, instance.user_id, group_uuid), 1)


def admit_keypair(s: orm.Session, project_id: str, user_id: str) -> None:
    """Charge one key pair to a user (limit: theirs in the caller's project)."""
    key = (_ANY_PROJECT, user_id, 'key_pairs')
    in_use = _lock(s, [key])[key]
    limit = get_limits(s, project_id, user_id)['key_pairs']
    if (0 <= limit < in_use + 1) or not _charge(s, key, 1, limit):
        raise KeypairLimitExceeded()


def release_keypair(s: orm.Session, user_id: str) -> None:
    _release(s, (_ANY_PROJECT, user_id, 'key_pairs'), 1)


def admit_server_group(s: orm.Session, project_id: str) -> None:
    """Charge one server group to a project (403 in Nova's words when over)."""
    key = _groups_key(project_id)
    in_use = _lock(s, [key])[key]
    limit = get_limits(s, project_id)['server_groups']
    if (0 <= limit < in_use + 1) or not _charge(s, key, 1, limit):
        raise ServerGroupLimitExceeded()


def release_server_group(s: orm.Session, group: models.ServerGroup) -> None:
    """Give a deleted group back to its project; its member counts go with it."""
    _release(s, _groups_key(group.project_id), 1)
    u = models.QuotaUsage
    s.execute(sa.delete(u).where(u.resource == _MEMBERS_PREFIX + group.uuid)
              .execution_options(synchronize_session=False))


def admit_group_members(s: orm.Session, project_id: str, user_id: str, group_uuid: str,
                        count: int) -> None:
    """Charge `count` new servers of a user to a group's server_group_members limit.

    In the transaction that creates the servers, after admit_instances (the members
    key sorts after the instance keys, so the lock order holds).
    """
    key = _members_key(project_id, user_id, group_uuid)
    in_use = _lock(s, [key])[key]
    limit = get_limits(s, project_id, user_id)['server_group_members']
    if (0 <= limit < in_use + count) or not _charge(s, key, count, limit):
        raise GroupMemberLimitExceeded()


# --- resize --------------------------------------------------------------------------
# While a resize is in flight the ledger holds the larger of the two flavors (Nova
# checks the upsize's delta when the resize starts): the growth is charged then, and
# what the kept flavor does not need is given back when the resize ends (confirm: the
# old flavor's excess; revert or failure: the new one's).

def admit_resize(s: orm.Session, project_id: str, user_id: str, vcpus: int,
                 memory_mb: int) -> None:
    """Charge the growth of a resize (positive deltas only), or TooManyInstances."""
    per = {'instances': 0, 'cores': max(vcpus, 0), 'ram': max(memory_mb, 0)}
    if not per['cores'] and not per['ram']:
        return
    keys = _instance_keys(project_id, user_id)
    in_use = _lock(s, keys)
    limits = {'': get_limits(s, project_id), user_id: get_limits(s, project_id, user_id)}
    room: dict[str, tuple[int, int, int]] = {}
    for _project, scope, resource in keys:
        limit = limits[scope][resource]
        if limit < 0 or resource == 'instances':
            continue
        used = in_use[(project_id, scope, resource)]
        if resource not in room or limit - used < room[resource][0]:
            room[resource] = (limit - used, limit, used)
    over = {r: v for r, v in room.items() if per[r] > v[0]}
    if over:
        raise TooManyInstances(overs=', '.join(sorted(over)),
                               req=', '.join(str(per[r]) for r in sorted(over)),
                               used=', '.join(str(over[r][2]) for r in sorted(over)),
                               allowed=', '.join(str(over[r][1]) for r in sorted(over)))
    for key in keys:
        _project, scope, resource = key
        if per[resource] and not _charge(s, key, per[resource], limits[scope][resource]):
            raise TooManyInstances(overs=resource, req=str(per[resource]),
                                   used=str(in_use[key]), allowed=str(limits[scope][resource]))


def release_resize(s: orm.Session, project_id: str, user_id: str, vcpus: int,
                   memory_mb: int) -> None:
    """Give back what a finished resize no longer needs (positive amounts only)."""
    per = {'cores': max(vcpus, 0), 'ram': max(memory_mb, 0)}
    for key in _instance_keys(project_id, user_id):
        if per.get(key[2]):
            _release(s, key, per[key[2]])
