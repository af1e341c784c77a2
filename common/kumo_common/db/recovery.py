"""Conditional writes that let lost steps be re-driven exactly once.

* The scheduling lease: a scheduling pass owns the instances it leased
  (instances.task_request_id = its token); only the owner may move them on, so a
  message that waited in a queue while the reaper re-drove the step cannot schedule
  an instance a second time.
* Taking an overdue step: the reaper (of any number of conductors) acts on a step
  only after pushing its deadline on, conditionally on the deadline having passed;
  one conductor wins.
* Claims nobody owns (a claim made for a pass that was abandoned) are given back.
"""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import deadlines, states
from kumo_common.db import models, server_migrations
from kumo_common.db.models import utcnow

task = states.task

def _task_in(states_: tuple):
    conds = [models.Instance.task_state.is_(None) if s is None
             else models.Instance.task_state == s for s in states_]
    return sa.or_(*conds)


def _with_deadline(values: dict) -> dict:
    if 'task_state' in values and 'task_deadline' not in values:
        return {**values, 'task_deadline': deadlines.deadline_for(values['task_state'])}
    return values


def lease_scheduling(session: orm.Session, uuids: list[str], token: str) -> list[str]:
    """Lease the instances of `uuids` that are waiting to be scheduled and that no
    pass owns; returns those this pass (`token`) now owns."""
    if not uuids:
        return []
    inst = models.Instance
    session.execute(
        sa.update(inst)
        .where(inst.uuid.in_(uuids), inst.deleted == 0,
               inst.task_state == task.SCHEDULING, inst.task_request_id.is_(None))
        .values(task_request_id=token)
        .execution_options(synchronize_session=False))
    owned = set(session.scalars(sa.select(inst.uuid).where(
        inst.uuid.in_(uuids), inst.task_request_id == token,
        inst.task_state == task.SCHEDULING)))
    return [u for u in uuids if u in owned]


def update_leased(session: orm.Session, uuid: str, token: str, values: dict,
                  expected_task_state: tuple) -> bool:
    """instances.update_if, and only while the pass `token` owns the instance."""
    inst = models.Instance
    stmt = (sa.update(inst)
            .where(inst.uuid == uuid, inst.deleted == 0, inst.task_request_id == token,
                   _task_in(expected_task_state))
            .values(updated_at=utcnow(), **_with_deadline(values))
            .execution_options(synchronize_session=False))
    return session.execute(stmt).rowcount == 1


def take_overdue(session: orm.Session, uuid: str, step: str, values: dict | None = None,
                 seen_deadline: datetime.datetime | None = None) -> bool:
    """Take a step for this conductor: push its deadline on (and apply `values`),
    only if it is still `step` and still overdue, or, with `seen_deadline` (a step
    taken early, its host being dead), still has the deadline the caller read. False:
    another conductor took it, or the step ended meanwhile."""
    inst = models.Instance
    values = _with_deadline({'task_deadline': deadlines.deadline_for(step), **(values or {})})
    stmt = (sa.update(inst)
            .where(inst.uuid == uuid, inst.deleted == 0, inst.task_state == step,
                   inst.task_deadline < utcnow() if seen_deadline is None
                   else inst.task_deadline == seen_deadline)
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False))
    return session.execute(stmt).rowcount == 1


def on_hosts(session: orm.Session, hosts: list[str], steps: tuple
             ) -> list[models.Instance]:
    """Live instances in one of `steps` on these hosts whose deadline is still ahead
    (the overdue ones the reaper finds anyway)."""
    if not hosts:
        return []
    inst = models.Instance
    return list(session.scalars(sa.select(inst).where(
        inst.host.in_(hosts), inst.deleted == 0, inst.task_state.in_(steps),
        inst.task_deadline >= utcnow())))


def _free(session: orm.Session, alloc: models.Allocation) -> bool:
    """Give one claim back, unless another conductor did already."""
    if session.execute(sa.delete(models.Allocation)
                       .where(models.Allocation.id == alloc.id)
                       .execution_options(synchronize_session=False)).rowcount != 1:
        return False
    cn = models.ComputeNode
    session.execute(
        sa.update(cn).where(cn.id == alloc.compute_node_id)
        .values(vcpus_used=cn.vcpus_used - alloc.vcpus,
                memory_mb_used=cn.memory_mb_used - alloc.memory_mb,
                local_gb_used=cn.local_gb_used - alloc.disk_gb)
        .execution_options(synchronize_session=False))
    return True


def free_allocation_on(session: orm.Session, uuid: str, node_uuid: str) -> bool:
    """Give back the instance's claim on one node (the one a pass made), not the
    others (which another pass may own)."""
    alloc = session.scalars(
        sa.select(models.Allocation)
        .join(models.ComputeNode, models.ComputeNode.id == models.Allocation.compute_node_id)
        .where(models.Allocation.instance_uuid == uuid,
               models.ComputeNode.uuid == node_uuid)).first()
    return alloc is not None and _free(session, alloc)


def free_orphan_allocations(session: orm.Session) -> list[str]:
    """Give back claims that no placement owns: those of deleted or unknown
    instances, and, for an instance that is placed or failed, those on a node other
    than its own (a claim that a scheduling call made after the conductor had given up
    on it). Claims of instances being placed, or resized, are left alone, and so are
    those owned by a resize in flight (a migration record's: the old flavor's claim,
    kumo_common.db.server_migrations). Returns the owner uuids whose claims were
    freed."""
    a, cn, inst = models.Allocation, models.ComputeNode, models.Instance
    settled = sa.and_(
        sa.or_(inst.task_state.is_(None), inst.task_state == task.SPAWNING),
        inst.vm_state != states.RESIZED,
        sa.or_(inst.compute_node_uuid.is_(None), inst.compute_node_uuid != cn.uuid))
    in_flight = server_migrations.owners_in_flight()
    orphans = session.scalars(
        sa.select(a).join(cn, cn.id == a.compute_node_id)
        .outerjoin(inst, inst.uuid == a.instance_uuid)
        .where(sa.or_(inst.id.is_(None), inst.deleted != 0, settled),
               a.instance_uuid.notin_(in_flight))).all()
    return [alloc.instance_uuid for alloc in orphans if _free(session, alloc)]


REDRIVE_EVENT = 'conductor_redrive_%s'


def redrives(session: orm.Session, uuid: str, step: str) -> int:
    """How often `step` of the instance's current action was re-driven."""
    action = latest_action(session, uuid)
    if action is None:
        return 0
    ev = models.InstanceActionEvent
    return session.scalar(sa.select(sa.func.count()).select_from(ev).where(
        ev.action_id == action.id, ev.event == REDRIVE_EVENT % step)) or 0


def note_redrive(session: orm.Session, uuid: str, step: str, details: str,
                 host: str | None = None) -> None:
    """Record a re-drive as an event of the instance's current action (shown by
    os-instance-actions), which is also what redrives() counts."""
    action = latest_action(session, uuid)
    if action is None:
        return
    now = utcnow()
    session.add(models.InstanceActionEvent(action_id=action.id, event=REDRIVE_EVENT % step,
                                           result='Success', start_time=now,
                                           finish_time=now, host=host, details=details))
    action.updated_at = now


def latest_action(session: orm.Session, uuid: str) -> models.InstanceAction | None:
    """The instance's most recent action (the one its current task belongs to)."""
    act = models.InstanceAction
    return session.scalars(sa.select(act).where(act.instance_uuid == uuid)
                           .order_by(act.start_time.desc(), act.id.desc())).first()
