"""Server groups: lookups, the os-server-groups rows, membership, and where members
are placed.

Placement is read from allocations (written in the claim's transaction), not from
instances.host (written later by the conductor), so a member claimed a moment ago by
another scheduler already counts.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models

HARD_POLICIES = ('affinity', 'anti-affinity')
POLICIES = HARD_POLICIES + ('soft-affinity', 'soft-anti-affinity')


def get_by_uuid(session: orm.Session, uuid: str) -> models.ServerGroup:
    group = session.scalars(sa.select(models.ServerGroup).where(
        models.ServerGroup.uuid == uuid)).first()
    if group is None:
        raise exceptions.InstanceGroupNotFound(group_uuid=uuid)
    return group


def add_members(session: orm.Session, group: models.ServerGroup, uuids: list[str]) -> None:
    for uuid in uuids:
        session.add(models.ServerGroupMember(group_id=group.id, instance_uuid=uuid))
    session.flush()


def members(session: orm.Session, group_id: int) -> set[str]:
    return set(session.scalars(sa.select(models.ServerGroupMember.instance_uuid).where(
        models.ServerGroupMember.group_id == group_id)))


def placed_members(session: orm.Session, group_id: int) -> list[tuple[str, str, int]]:
    """(instance_uuid, host, node_id) of every member holding an allocation."""
    m, a, cn = models.ServerGroupMember, models.Allocation, models.ComputeNode
    return [tuple(row) for row in session.execute(
        sa.select(m.instance_uuid, cn.host, cn.id)
        .join(a, a.instance_uuid == m.instance_uuid)
        .join(cn, cn.id == a.compute_node_id)
        .where(m.group_id == group_id))]


def lock(session: orm.Session, group_id: int) -> None:
    """Serialise claims for members of this group until the transaction ends.

    A row lock on PostgreSQL/MariaDB; on SQLite writers are already serialised
    (BEGIN IMMEDIATE). Statements after it see every claim committed before it.
    """
    session.execute(sa.select(models.ServerGroup.id)
                    .where(models.ServerGroup.id == group_id).with_for_update())


def members_on_host(session: orm.Session, group_id: int, host: str,
                    exclude: str | None = None) -> int:
    m, a, cn = models.ServerGroupMember, models.Allocation, models.ComputeNode
    query = (sa.select(sa.func.count(m.id))
             .join(a, a.instance_uuid == m.instance_uuid)
             .join(cn, cn.id == a.compute_node_id)
             .where(m.group_id == group_id, cn.host == host))
    if exclude is not None:
        query = query.where(m.instance_uuid != exclude)
    return session.scalar(query) or 0


def member_hosts(session: orm.Session, group_id: int, exclude: str | None = None
                 ) -> set[str]:
    return {host for uuid, host, _ in placed_members(session, group_id) if uuid != exclude}


# --- the os-server-groups API -----------------------------------------------------

def create(session: orm.Session, uuid: str, name: str, project_id: str, user_id: str,
           policy: str, rules: dict) -> models.ServerGroup:
    group = models.ServerGroup(uuid=uuid, name=name, project_id=project_id,
                               user_id=user_id, policy=policy, rules=rules)
    session.add(group)
    session.flush()
    return group


def page(session: orm.Session, project_id: str | None, limit: int, offset: int
         ) -> list[models.ServerGroup]:
    """Groups of a project (every project when None), oldest first."""
    query = sa.select(models.ServerGroup)
    if project_id is not None:
        query = query.where(models.ServerGroup.project_id == project_id)
    return list(session.scalars(query.order_by(models.ServerGroup.id)
                                .limit(limit).offset(offset)))


def live_members(session: orm.Session, group_ids: list[int]) -> dict[int, list[str]]:
    """group id -> uuids of its members that are not deleted, in the order they joined."""
    if not group_ids:
        return {}
    m, inst = models.ServerGroupMember, models.Instance
    result: dict[int, list[str]] = {}
    for group_id, uuid in session.execute(
            sa.select(m.group_id, m.instance_uuid)
            .join(inst, inst.uuid == m.instance_uuid)
            .where(m.group_id.in_(group_ids), inst.deleted == 0)
            .order_by(m.id)):
        result.setdefault(group_id, []).append(uuid)
    return result


def lock_existing(session: orm.Session, group_id: int) -> bool:
    """Lock the group row until the transaction ends; False if it was deleted."""
    return session.scalar(sa.select(models.ServerGroup.id)
                          .where(models.ServerGroup.id == group_id)
                          .with_for_update()) is not None


def delete(session: orm.Session, group: models.ServerGroup) -> None:
    """Remove a group and its memberships (the servers stay)."""
    session.execute(sa.delete(models.ServerGroupMember)
                    .where(models.ServerGroupMember.group_id == group.id)
                    .execution_options(synchronize_session=False))
    session.execute(sa.delete(models.ServerGroup)
                    .where(models.ServerGroup.id == group.id)
                    .execution_options(synchronize_session=False))

