"""A resize step past its deadline, as the reaper hands it over.

What the agent's ledger says of the step decides: a step that ended but whose
report was lost is recovered; one still running is left to run; one that never
arrived is sent again, up to [conductor] max_step_redrives; past that the resize
ends where the truth is known (the source's guest as it was, or ERROR with the old
flavor where no guest is known to run). Scheduling that never ended
(resize_prep) is scheduled again the same way, or aborted.
"""
from __future__ import annotations

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import deadlines, objects, states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, recovery, session
from kumo_common.db import server_migrations as migration_db
from kumo_common.rpcapi import conductor as conductor_rpcapi
from kumo_conductor import resizing

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
task = states.task


def overdue(resizer: resizing.Resizer, ctxt, instance: models.Instance, ask) -> bool:
    """A resize step past its deadline (the reaper took it). `ask(host, step_id)`
    returns the agent's GuestCheck (fencing the step) or (None, why)."""
    with session.reader() as s:
        migration = migration_db.in_flight(s, instance.uuid)
    if migration is None:
        # No resize behind it (e.g. lost before the API's record): as it was.
        with session.transaction() as s:
            instance_db.update_if(s, instance.uuid, {'task_state': None,
                                                     'task_deadline': None},
                                  expected_task_state=(instance.task_state,))
        return True
    step = instance.task_state
    timeout = deadlines.timeout_for(step)
    if step == task.RESIZE_PREP:
        return _scheduling_overdue(resizer, ctxt, instance, migration, timeout)
    agent_step = resizing.step_of(migration.step_id)
    if agent_step is None:
        return False
    host = resizing.host_of(migration, agent_step)
    check, why = ask(host, migration.step_id)
    record = check.actions.get(migration.step_id) if check is not None else None
    if record is not None:
        LOG.warning('Instance %s: resize step %s on %s ended but the report was lost; '
                    'recovering it', instance.uuid, agent_step, host)
        resizer.step_finished(ctxt, objects.MigrationStepResult(
            migration_uuid=migration.uuid, instance_uuid=instance.uuid,
            step=agent_step, step_id=migration.step_id, host=host,
            success=record['success'], power_state=record['power_state'],
            error=record['error'], source_path=record.get('source_path')))
        return True
    if check is not None and check.busy:
        LOG.warning('Instance %s: resize step %s still running on %s', instance.uuid,
                    agent_step, host)
        return True
    reason = why or f'the step never reached {host}'
    with session.transaction() as s:
        count = recovery.redrives(s, instance.uuid, step)
        if count < CONF.conductor.max_step_redrives:
            sid = resizing.step_id(ctxt.request_id, agent_step, count + 1)
            migration_db.set_status(s, migration.uuid, None, step_id=sid)
            recovery.note_redrive(s, instance.uuid, step,
                                  f'{agent_step} on {host} did not end within '
                                  f'{timeout}s ({reason}); sent again', host=host)
            fresh = migration_db.get(s, migration.uuid)
            build = None
            if agent_step == 'finish_resize':
                build = resizing.build_payload(s, instance_db.get_instance(s, instance.uuid),
                                      fresh.new_flavor, fresh.dest_node_uuid)
            elif agent_step == 'finish_revert_resize':
                build = resizing.build_payload(s, instance_db.get_instance(s, instance.uuid),
                                      fresh.old_flavor, fresh.source_node_uuid)
            payload = resizing.make_step(fresh, agent_step, sid, build)
        else:
            payload = None
    if payload is not None:
        LOG.warning('Instance %s: resize step %s on %s overdue (%s); sending it again',
                    instance.uuid, agent_step, host, reason)
        getattr(resizer.compute, agent_step)(ctxt, payload)
        return True
    return _give_up(resizer, ctxt, instance, migration, agent_step, host,
                         f'Task {step} timed out on {host} after {timeout}s: {reason}',
                         answered=check is not None)

def _scheduling_overdue(resizer: resizing.Resizer, ctxt, instance, migration, timeout: int) -> bool:
    with session.transaction() as s:
        count = recovery.redrives(s, instance.uuid, task.RESIZE_PREP)
        if count < CONF.conductor.max_step_redrives \
                and migration.status == migration_db.PRE_MIGRATING:
            recovery.note_redrive(s, instance.uuid, task.RESIZE_PREP,
                                  f'resize_prep did not end within {timeout}s; '
                                  f'scheduling the resize again')
            # Whatever the lost pass claimed for the new flavor (the server's own
            # claims: the old one is the migration's).
            migration_db.free_claims(s, instance.uuid)
            redrive = True
        else:
            redrive = False
    if redrive:
        conductor_rpcapi.ConductorAPI().migrate_server(ctxt, instance.uuid, migration.uuid)
        return True
    return resizer.abort(ctxt, migration.uuid,
                      f'Task resize_prep timed out after {timeout}s',
                      steps=(task.RESIZE_PREP,), event=resizing.SCHEDULE_EVENTS)


def _give_up(resizer: resizing.Resizer, ctxt, instance, migration, agent_step: str, host: str,
             message: str, answered: bool) -> bool:
    """Out of re-drives: end where the truth is known."""
    event = resizing.EVENTS[agent_step]
    if agent_step == 'resize_instance':
        # The source answered that the step never reached it (and now refuses
        # it): the guest is as it was. It did not answer: what became of the
        # guest is unknown, an ERROR (on the source, with the old flavor).
        return resizer.abort(ctxt, migration.uuid, message,
                          steps=(task.RESIZE_MIGRATING,), event=event,
                          vm_state=None if answered else states.ERROR)
    if agent_step == 'confirm_resize':
        with session.transaction() as s:
            instance_db.record_event(s, instance.uuid, ctxt.request_id, event, 'Error',
                                     host=host, details=message)
            instance_db.add_fault(s, instance.uuid, 500, message, host=host)
            return resizer.confirmed(s, migration_db.get(s, migration.uuid))
    if agent_step == 'revert_resize':
        with session.transaction() as s:
            instance_db.record_event(s, instance.uuid, ctxt.request_id, event, 'Error',
                                     host=host, details=message)
        resizer.revert_failed(ctxt, resizing.migration_db_get(migration.uuid), message, host)
        return True
    # finish_resize / finish_revert_resize: no guest known to run anywhere: ERROR,
    # on the source, with the old flavor (its disks are there).
    with session.transaction() as s:
        values = {'vm_state': states.ERROR, 'task_state': None, 'task_deadline': None,
                  **resizing.source_place(migration),
                  **resizing.flavor_columns(migration.old_flavor or {},
                                    migration.old_instance_type_id)}
        if not instance_db.update_if(s, instance.uuid, values,
                                     expected_task_state=(instance.task_state,)):
            return False
        migration_db.give_back(s, migration_db.get(s, migration.uuid))
        resizing.quota_back(s, migration, keep='old')
        migration_db.set_status(s, migration.uuid, migration_db.ERROR, step_id=None)
        instance_db.add_fault(s, instance.uuid, 500, message, host=host)
        instance_db.record_event(s, instance.uuid, ctxt.request_id, event, 'Error',
                                 host=host, details=message)
    LOG.warning('Instance %s: %s', instance.uuid, message)
    return True
