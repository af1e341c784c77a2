"""Admission: charge servers, key pairs, server groups and their members, and
resizes' growth in the caller's transaction, all or nothing; give them back."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common.db import models
from kumo_common.quota.errors import (
    GroupMemberLimitExceeded,
    KeypairLimitExceeded,
    ServerGroupLimitExceeded,
    TooManyInstances,
)
from kumo_common.quota.ledger import (
    ANY_PROJECT,
    MEMBERS_PREFIX,
    charge,
    charge_all,
    groups_key,
    instance_keys,
    lock,
    members_key,
    release,
)
from kumo_common.quota.limits import get_limits


def admit_instances(s: orm.Session, project_id: str, user_id: str, vcpus: int,
                    memory_mb: int, min_count: int, max_count: int,
                    project_limits: dict[str, int] | None = None) -> int:
    """Charge as many servers of this size as fit, up to max_count; returns how many.

    Runs in the caller's transaction (the one that writes the servers). Raises
    TooManyInstances when not even min_count fit. `project_limits`:
    get_limits(s, project_id), if the caller read them in this transaction.
    """
    keys = instance_keys(project_id, user_id)
    in_use = lock(s, keys)
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
    if not charge_all(s, [c for c in charges if c[1]]):
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
    for key in instance_keys(instance.project_id, instance.user_id):
        if per[key[2]]:
            release(s, key, per[key[2]])
    # Its place in server groups, last: these keys sort after the instance ones.
    group, member = models.ServerGroup, models.ServerGroupMember
    for group_uuid in sorted(s.scalars(
            sa.select(group.uuid).join(member, member.group_id == group.id)
            .where(member.instance_uuid == instance.uuid))):
        release(s, members_key(instance.project_id, instance.user_id, group_uuid), 1)


def admit_keypair(s: orm.Session, project_id: str, user_id: str) -> None:
    """Charge one key pair to a user (limit: theirs in the caller's project)."""
    key = (ANY_PROJECT, user_id, 'key_pairs')
    in_use = lock(s, [key])[key]
    limit = get_limits(s, project_id, user_id)['key_pairs']
    if (0 <= limit < in_use + 1) or not charge(s, key, 1, limit):
        raise KeypairLimitExceeded()


def release_keypair(s: orm.Session, user_id: str) -> None:
    release(s, (ANY_PROJECT, user_id, 'key_pairs'), 1)


def admit_server_group(s: orm.Session, project_id: str) -> None:
    """Charge one server group to a project (403 in Nova's words when over)."""
    key = groups_key(project_id)
    in_use = lock(s, [key])[key]
    limit = get_limits(s, project_id)['server_groups']
    if (0 <= limit < in_use + 1) or not charge(s, key, 1, limit):
        raise ServerGroupLimitExceeded()


def release_server_group(s: orm.Session, group: models.ServerGroup) -> None:
    """Give a deleted group back to its project; its member counts go with it."""
    release(s, groups_key(group.project_id), 1)
    u = models.QuotaUsage
    s.execute(sa.delete(u).where(u.resource == MEMBERS_PREFIX + group.uuid)
              .execution_options(synchronize_session=False))


def admit_group_members(s: orm.Session, project_id: str, user_id: str, group_uuid: str,
                        count: int) -> None:
    """Charge `count` new servers of a user to a group's server_group_members limit.

    In the transaction that creates the servers, after admit_instances (the members
    key sorts after the instance keys, so the lock order holds).
    """
    key = members_key(project_id, user_id, group_uuid)
    in_use = lock(s, [key])[key]
    limit = get_limits(s, project_id, user_id)['server_group_members']
    if (0 <= limit < in_use + count) or not charge(s, key, count, limit):
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
    keys = instance_keys(project_id, user_id)
    in_use = lock(s, keys)
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
        if per[resource] and not charge(s, key, per[resource], limits[scope][resource]):
            raise TooManyInstances(overs=resource, req=str(per[resource]),
                                   used=str(in_use[key]), allowed=str(limits[scope][resource]))


def release_resize(s: orm.Session, project_id: str, user_id: str, vcpus: int,
                   memory_mb: int) -> None:
    """Give back what a finished resize no longer needs (positive amounts only)."""
    per = {'cores': max(vcpus, 0), 'ram': max(memory_mb, 0)}
    for key in instance_keys(project_id, user_id):
        if per.get(key[2]):
            release(s, key, per[key[2]])
