"""Queries on instances and the rows that hang off them (metadata, faults, actions)."""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from kumo_common import conf as _conf  # noqa: F401  (registers [DEFAULT] host)
from kumo_common import deadlines, exceptions, lifecycle
from kumo_common.db import console_tokens, models
from kumo_common.db.models import utcnow

CONF = cfg.CONF


def get_instance(session: orm.Session, uuid: str, project_id: str | None = None,
                 read_deleted: bool = True, options: tuple = ()) -> models.Instance:
    """One instance by uuid (optionally scoped to a project), or InstanceNotFound.
    `options`: loader options of the query (e.g. a relationship not to load now)."""
    query = sa.select(models.Instance).where(models.Instance.uuid == uuid).options(*options)
    if project_id is not None:
        query = query.where(models.Instance.project_id == project_id)
    if not read_deleted:
        query = query.where(models.Instance.deleted == 0)
    instance = session.scalars(query).first()
    if instance is None:
        raise exceptions.InstanceNotFound(instance_id=uuid)
    return instance


def update_if(session: orm.Session, uuid: str, values: dict,
              expected_task_state: tuple | None = None,
              expected_vm_state: tuple | None = None) -> bool:
    """Conditionally update a live instance: only if its task/vm state is as expected.

    Returns False (and changes nothing) when another actor moved the instance on in
    the meantime, e.g. a delete arrived while it was being scheduled. Setting a
    task_state also sets its deadline (kumo_common.deadlines), so no step can go
    unwatched by the conductor's reaper.
    """
    if 'task_state' in values and 'task_deadline' not in values:
        values = {**values, 'task_deadline': deadlines.deadline_for(values['task_state'])}
    stmt = (sa.update(models.Instance)
            .where(models.Instance.uuid == uuid, models.Instance.deleted == 0)
            .values(updated_at=utcnow(), **values))
    if expected_task_state is not None:
        conds = [models.Instance.task_state.is_(None) if s is None
                 else models.Instance.task_state == s for s in expected_task_state]
        stmt = stmt.where(sa.or_(*conds))
    if expected_vm_state is not None:
        stmt = stmt.where(models.Instance.vm_state.in_(expected_vm_state))
    return session.execute(stmt, execution_options={'synchronize_session': False}
                           ).rowcount == 1


def mark_deleted(session: orm.Session, uuid: str) -> bool:
    """Soft-delete the row the Nova way (deleted = id). False if already deleted."""
    now = utcnow()
    stmt = (sa.update(models.Instance)
            .where(models.Instance.uuid == uuid, models.Instance.deleted == 0)
            .values(deleted=models.Instance.id, deleted_at=now, terminated_at=now,
                    updated_at=now, vm_state='deleted', task_state=None,
                    power_state=0, task_deadline=None)
            .execution_options(synchronize_session=False))
    if session.execute(stmt).rowcount != 1:
        return False
    # Its remote consoles' URLs die with it (as Nova's clean_console_auths).
    console_tokens.delete_for_instance(session, uuid)
    return True


def add_fault(session: orm.Session, uuid: str, code: int, message: str,
              details: str | None = None, host: str | None = None) -> None:
    session.add(models.InstanceFault(instance_uuid=uuid, code=code, message=message[:255],
                                     details=details, host=host))


def latest_faults(session: orm.Session, uuids: list[str]) -> dict[str, models.InstanceFault]:
    """The newest fault of each instance, for the views."""
    if not uuids:
        return {}
    rows = session.scalars(
        sa.select(models.InstanceFault)
        .where(models.InstanceFault.instance_uuid.in_(uuids))
        .order_by(models.InstanceFault.created_at.desc(), models.InstanceFault.id.desc()))
    faults: dict[str, models.InstanceFault] = {}
    for row in rows:
        faults.setdefault(row.instance_uuid, row)
    return faults


def start_action(session: orm.Session, uuid: str, action: str, ctxt) -> models.InstanceAction:
    now = utcnow()
    # updated_at starts at start_time, as Nova's (the 2.58 changes-since filter).
    record = models.InstanceAction(action=action, instance_uuid=uuid,
                                   request_id=ctxt.request_id, user_id=ctxt.user_id,
                                   project_id=ctxt.project_id, start_time=now,
                                   updated_at=now)
    session.add(record)
    return record


def record_event(session: orm.Session, uuid: str, request_id: str | None, event: str,
                 result: str | None, host: str | None = None,
                 details: str | None = None, traceback: str | None = None) -> None:
    """Start (result None) or finish an event of the request's instance action, if
    that action exists; a finish with no started event records both at once.

    A failed step finishes with result 'Error', the failure's message as `details`
    (2.84) and, when an exception caused it, its `traceback` (admins see it). The
    conductor's own events carry the host of the conductor recording them (2.62
    shows it), as Nova's do."""
    if event in lifecycle.CONDUCTOR_EVENTS:
        host = CONF.host
    action = session.scalars(
        sa.select(models.InstanceAction)
        .where(models.InstanceAction.instance_uuid == uuid,
               models.InstanceAction.request_id == request_id)).first()
    if action is None:
        return
    now = utcnow()
    started = None
    if result is not None:
        # The end of an event this request started: finish that row, as Nova's
        # action_event_finish does, rather than adding a second one.
        ev = models.InstanceActionEvent
        started = session.scalars(
            sa.select(ev).where(ev.action_id == action.id, ev.event == event,
                                ev.finish_time.is_(None))
            .order_by(ev.id.desc())).first()
    if started is not None:
        started.result = result
        started.finish_time = now
        started.host = host or started.host
        started.details = details if details is not None else started.details
        started.traceback = traceback if traceback is not None else started.traceback
    else:
        session.add(models.InstanceActionEvent(action_id=action.id, event=event,
                                               result=result, start_time=now,
                                               finish_time=now if result else None,
                                               host=host, details=details,
                                               traceback=traceback))
    action.updated_at = now
    if result is not None and result != 'Success':
        action.message = 'Error'
    if result is not None:
        action.finish_time = now


def soft_deleted_before(session: orm.Session, seconds: int) -> list[str]:
    """Idle soft-deleted instances whose deletion is older than `seconds`."""
    cutoff = utcnow() - datetime.timedelta(seconds=seconds)
    return list(session.scalars(sa.select(models.Instance.uuid).where(
        models.Instance.deleted == 0,
        models.Instance.vm_state == 'soft-delete',
        models.Instance.task_state.is_(None),
        models.Instance.deleted_at <= cutoff)))


def past_deadline(session: orm.Session, limit: int = 500) -> list[models.Instance]:
    """Live instances whose current task has outlived its deadline."""
    return list(session.scalars(
        sa.select(models.Instance)
        .where(models.Instance.deleted == 0, models.Instance.task_state.is_not(None),
               models.Instance.task_deadline.is_not(None),
               models.Instance.task_deadline < utcnow())
        .order_by(models.Instance.task_deadline).limit(limit)))


def scheduler_hints(session: orm.Session, uuids: list[str]) -> dict[str, dict]:
    """The hints each instance was created with (2.100 view)."""
    if not uuids:
        return {}
    return {uuid: hints or {} for uuid, hints in session.execute(
        sa.select(models.RequestSpecRecord.instance_uuid,
                  models.RequestSpecRecord.scheduler_hints)
        .where(models.RequestSpecRecord.instance_uuid.in_(uuids)))}


def server_groups(session: orm.Session, uuids: list[str]) -> dict[str, list[str]]:
    """{instance uuid: [uuids of the server groups it belongs to]} (2.71 view)."""
    result: dict[str, list[str]] = {}
    if not uuids:
        return result
    for uuid, group_uuid in session.execute(
            sa.select(models.ServerGroupMember.instance_uuid, models.ServerGroup.uuid)
            .join(models.ServerGroup,
                  models.ServerGroup.id == models.ServerGroupMember.group_id)
            .where(models.ServerGroupMember.instance_uuid.in_(uuids))):
        result.setdefault(uuid, []).append(group_uuid)
    return result


def on_host(session: orm.Session, host: str, uuids: list[str] | None = None
            ) -> list[models.Instance]:
    """Live instances of a compute host (only those of `uuids` when given)."""
    query = sa.select(models.Instance).where(models.Instance.host == host,
                                             models.Instance.deleted == 0)
    if uuids is not None:
        query = query.where(models.Instance.uuid.in_(uuids))
    return list(session.scalars(query))


def by_uuids(session: orm.Session, uuids: list[str]) -> dict[str, models.Instance]:
    """{uuid: instance} of those uuids the database knows, deleted ones included."""
    if not uuids:
        return {}
    return {i.uuid: i for i in session.scalars(
        sa.select(models.Instance).where(models.Instance.uuid.in_(uuids)))}
