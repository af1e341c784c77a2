"""The scheduler's writes and lookups: group-aware claims, scheduling reports,
build-failure counts, and where named instances are."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common.db import compute_nodes as node_db
from kumo_common.db import models
from kumo_common.db import server_groups as group_db


@dataclass(frozen=True)
class GroupClaim:
    """The hard group policy a claim must respect."""
    group_id: int
    policy: str
    max_server_per_host: int = 1


def claim(session: orm.Session, node_id: int, host: str, instance_uuid: str, vcpus: int,
          memory_mb: int, disk_gb: int, group: GroupClaim | None = None) -> str | None:
    """Claim a node's resources, and the group's policy, in the caller's transaction.

    Returns None on success, else why not: 'group' (the policy would break) or
    'resources' (the node has no room left). The group row is locked first, so two
    claims for members of one group are serialised and each sees the other's
    allocation: two anti-affinity members can never both land on one host.
    """
    if group is not None and group.policy in group_db.HARD_POLICIES:
        group_db.lock(session, group.group_id)
        if group.policy == 'anti-affinity':
            count = group_db.members_on_host(session, group.group_id, host,
                                             exclude=instance_uuid)
            if count >= group.max_server_per_host:
                return 'group'
        else:
            hosts = group_db.member_hosts(session, group.group_id, exclude=instance_uuid)
            if hosts and host not in hosts:
                return 'group'
    if not node_db.claim(session, node_id, instance_uuid, vcpus, memory_mb, disk_gb):
        return 'resources'
    return None


def instance_places(session: orm.Session, uuids: list[str]) -> dict[str, tuple[str, str]]:
    """uuid -> (host, cell_name) of the named live instances that are placed."""
    if not uuids:
        return {}
    a, cn = models.Allocation, models.ComputeNode
    places = {uuid: (host, cell) for uuid, host, cell in session.execute(
        sa.select(a.instance_uuid, cn.host, cn.cell_name)
        .join(cn, cn.id == a.compute_node_id).where(a.instance_uuid.in_(uuids)))}
    missing = [u for u in uuids if u not in places]
    if missing:
        inst = models.Instance
        for uuid, host, cell in session.execute(
                sa.select(inst.uuid, inst.host, inst.cell_name)
                .where(inst.uuid.in_(missing), inst.deleted == 0, inst.host.is_not(None))):
            places[uuid] = (host, cell)
    return places


def record_build_result(session: orm.Session, host: str, success: bool) -> None:
    """Count consecutive failed builds per host (a success resets the count)."""
    cn = models.ComputeNode
    value = 0 if success else cn.failed_builds + 1
    stmt = sa.update(cn).where(cn.host == host, cn.deleted.is_(False))
    if success:
        stmt = stmt.where(cn.failed_builds != 0)
    session.execute(stmt.values(failed_builds=value)
                    .execution_options(synchronize_session=False))


def save_report(session: orm.Session, instance_uuid: str, request_id: str | None,
                result: str, summary: str, report: dict) -> int:
    """Store a report as the instance's next attempt; returns the attempt number."""
    sr = models.SchedulingReport
    attempt = (session.scalar(sa.select(sa.func.max(sr.attempt))
                              .where(sr.instance_uuid == instance_uuid)) or 0) + 1
    report = dict(report, attempt=attempt)
    session.add(sr(instance_uuid=instance_uuid, request_id=request_id, attempt=attempt,
                   result=result, summary=summary[:1024], report=report))
    return attempt


def reports(session: orm.Session, instance_uuid: str) -> list[models.SchedulingReport]:
    sr = models.SchedulingReport
    return list(session.scalars(sa.select(sr).where(sr.instance_uuid == instance_uuid)
                                .order_by(sr.attempt)))
