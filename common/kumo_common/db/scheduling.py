"""The scheduler's writes and lookups: group-aware claims, scheduling reports,
build-failure counts, and where named instances are."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common.db import compute_nodes as node_db
from kumo_common.db import models
from kumo_common.db import server_groups as group_db
from kumo_common.db.models import utcnow


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
        # group_db.lock and group_db.members_on_host, as statements built once.
        session.execute(_GROUP_LOCK, {'group_id': group.group_id})
        if group.policy == 'anti-affinity':
            count = session.scalar(_MEMBERS_ON_HOST, {
                'group_id': group.group_id, 'host': host, 'exclude': instance_uuid}) or 0
            if count >= group.max_server_per_host:
                return 'group'
        else:
            hosts = group_db.member_hosts(session, group.group_id, exclude=instance_uuid)
            if hosts and host not in hosts:
                return 'group'
    if not node_db.claim(session, node_id, instance_uuid, vcpus, memory_mb, disk_gb):
        return 'resources'
    return None


def _statements() -> dict[str, sa.Executable]:
    """The scheduler's per-request statements, built (and cache-keyed) once."""
    m, a = models.ServerGroupMember.__table__.c, models.Allocation.__table__.c
    cn, inst = models.ComputeNode.__table__.c, models.Instance.__table__.c
    sg = models.ServerGroup.__table__.c
    sr = models.SchedulingReport.__table__.c
    nodes = models.ComputeNode.__table__
    allocations = models.Allocation.__table__
    members = models.ServerGroupMember.__table__
    return {
        'group_lock': sa.select(sg.id).where(sg.id == sa.bindparam('group_id'))
        .with_for_update(),
        'members_on_host': sa.select(sa.func.count(m.id))
        .select_from(members.join(allocations, a.instance_uuid == m.instance_uuid)
                     .join(nodes, cn.id == a.compute_node_id))
        .where(m.group_id == sa.bindparam('group_id'), cn.host == sa.bindparam('host'),
               m.instance_uuid != sa.bindparam('exclude')),
        'places_claimed': sa.select(a.instance_uuid, cn.host, cn.cell_name)
        .select_from(allocations.join(nodes, cn.id == a.compute_node_id))
        .where(a.instance_uuid.in_(sa.bindparam('uuids', expanding=True))),
        'places_recorded': sa.select(inst.uuid, inst.host, inst.cell_name)
        .where(inst.uuid.in_(sa.bindparam('uuids', expanding=True)), inst.deleted == 0,
               inst.host.is_not(None)),
        'group_by_uuid': sa.select(sg.id, sg.uuid, sg.policy, sg.rules)
        .where(sg.uuid == sa.bindparam('uuid')),
        'last_attempts': sa.select(sr.instance_uuid, sa.func.max(sr.attempt))
        .where(sr.instance_uuid.in_(sa.bindparam('uuids', expanding=True)))
        .group_by(sr.instance_uuid),
        'group_member_hosts': sa.select(m.instance_uuid, cn.host)
        .select_from(members.outerjoin(allocations, a.instance_uuid == m.instance_uuid)
                     .outerjoin(nodes, cn.id == a.compute_node_id))
        .where(m.group_id == sa.bindparam('group_id')),
    }


_STATEMENTS = _statements()
_GROUP_LOCK = _STATEMENTS['group_lock']
_MEMBERS_ON_HOST = _STATEMENTS['members_on_host']


def instance_places(session: orm.Session, uuids: list[str]) -> dict[str, tuple[str, str]]:
    """uuid -> (host, cell_name) of the named live instances that are placed."""
    if not uuids:
        return {}
    places = {uuid: (host, cell) for uuid, host, cell in session.execute(
        _STATEMENTS['places_claimed'], {'uuids': list(uuids)})}
    missing = [u for u in uuids if u not in places]
    if missing:
        for uuid, host, cell in session.execute(_STATEMENTS['places_recorded'],
                                                {'uuids': missing}):
            places[uuid] = (host, cell)
    return places


def group_by_uuid(session: orm.Session, uuid: str) -> sa.Row | None:
    """(id, uuid, policy, rules) of a server group, None if there is none."""
    return session.execute(_STATEMENTS['group_by_uuid'], {'uuid': uuid}).first()


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


def _json_text(report: dict) -> str:
    return json.dumps(report, sort_keys=True)  # as the column type would


def save_reports(session: orm.Session, items: list[tuple[str, str | None, str, str, dict]],
                 encode: Callable[[dict], str] = _json_text) -> None:
    """Store several reports, (instance_uuid, request_id, result, summary, report)
    each, as their instances' next attempts: two statements whatever their number
    (the scheduler saves them in the transaction of its last claim). `encode`
    writes a report as JSON text (the scheduler brings a faster encoder: a report
    lists up to report_max_removed_hosts hosts per filter, 1,000 by default)."""
    if not items:
        return
    uuids = sorted({uuid for uuid, *_rest in items})
    last = dict(session.execute(_STATEMENTS['last_attempts'], {'uuids': uuids}).all())
    rows = []
    for uuid, request_id, result, summary, report in items:
        attempt = last[uuid] = (last.get(uuid) or 0) + 1
        rows.append({'instance_uuid': uuid, 'request_id': request_id, 'attempt': attempt,
                     'result': result, 'summary': summary[:1024], 'created_at': utcnow(),
                     'report_text': encode(dict(report, attempt=attempt))})
    session.execute(_INSERT_REPORT, rows)


# The report column's text comes from `encode`, bound as plain text.
_INSERT_REPORT = sa.insert(models.SchedulingReport.__table__).values(
    report=sa.bindparam('report_text', type_=sa.Text))


def group_member_hosts(session: orm.Session, group_id: int) -> list[tuple[str, str | None]]:
    """(instance_uuid, host or None) of every member of a group, in one query: the
    host of each member holding a claim, None for the others."""
    return [tuple(row) for row in session.execute(_STATEMENTS['group_member_hosts'],
                                                  {'group_id': group_id})]


def reports(session: orm.Session, instance_uuid: str) -> list[models.SchedulingReport]:
    sr = models.SchedulingReport
    return list(session.scalars(sa.select(sr).where(sr.instance_uuid == instance_uuid)
                                .order_by(sr.attempt)))
