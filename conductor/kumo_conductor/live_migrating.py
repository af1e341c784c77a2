"""Live migration: the conductor's part (a running server moved to another host).

The API accepts a live migration (kumo_api.actions.live_migrate): task_state
migrating (status MIGRATING), an instance action `live-migration`, and a migration
record of that type (accepted) that now owns the server's claim on the source node.
From there, each agent step a cast with a step id, reported through
ConductorManager.migration_step_finished, as a resize's are:

    live_migrate_server    the source's and a requested host's services must be up,
                           a requested host must not be the source; the scheduler
                           claims the destination for the server (never the source;
                           a requested host checked by the filters, or taken as it is
                           when forced) -> preparing
    pre_live_migration     (destination) ready to receive the guest -> running
    live_migration         (source) the running guest's memory and disks are copied
                           to the destination, where it runs on -> post-migrating,
                           the server placed there, its ports bound there, the
                           source's claim given back
    post_live_migration_at_destination
                           (destination) the guest is that host's -> completed, the
                           server as it was (ACTIVE or PAUSED)

A live migration that cannot start (no host, a host down or the same host) ends at
once: the server as it was, with a fault and an Error event, the migration `error`;
before microversion 2.34 the API waits for that verdict and answers it as a 400. A
destination that cannot prepare, or a copy that fails, is rolled back: the server
stays where it runs, as it was, with a fault; the destination removes what it made
(rollback_live_migration_at_destination); the migration `failed`, or `cancelled`
when the user aborted it (os-server-migrations DELETE: a copy in progress is
stopped by the source; one not yet copying is marked cancelled by the API and ends
when the destination's preparation reports). A destination that fails to take the
guest after it arrived leaves the server in ERROR there, with a fault.

While the copy runs, the source reports how far it has got (memory and disk bytes,
every [compute] live_migration_progress_interval): progress() writes the counters
onto the migration record, for GET /servers/{id}/migrations.

The reaper (reaper.py) hands over a live migration past its deadline ([conductor]
live_migration_timeout): overdue().
"""
from __future__ import annotations

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import deadlines, exceptions, objects, resize, states
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, recovery, session
from kumo_common.db import server_migrations as migration_db
from kumo_common.db import services as service_db
from kumo_conductor import build_faults, move_specs, resizing
from kumo_conductor import ports as server_ports

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
task = states.task

# Instance action events, by Nova's names.
SCHEDULE_EVENT = 'conductor_live_migrate_instance'
EVENTS = {'pre_live_migration': 'compute_pre_live_migration',
          'live_migration': 'compute_live_migration',
          'post_live_migration_at_destination':
              'compute_post_live_migration_at_destination',
          'rollback_live_migration_at_destination':
              'compute_rollback_live_migration_at_destination'}
STEPS = tuple(EVENTS)
SOURCE_STEPS = ('live_migration',)
# A migration the API marked cancelled while the destination prepared is still the
# server's until that preparation reports.
ENDING = migration_db.LIVE_HELD + (migration_db.CANCELLED,)
# The migration record's counters of the copy, as the source reports them.
PROGRESS_FIELDS = tuple(f'{what}_{count}' for what in ('memory', 'disk')
                        for count in ('total', 'processed', 'remaining'))


def host_of(migration: models.Migration, step: str) -> str | None:
    return migration.source_compute if step in SOURCE_STEPS else migration.dest_compute


def in_progress(instance_uuid: str) -> models.Migration | None:
    with session.reader() as s:
        return migration_db.live_migration_of(s, instance_uuid, ENDING)


# --- starting ---------------------------------------------------------------------------
def _precheck(s, instance: models.Instance, host: str | None) -> str | None:
    """Nova's LiveMigrationTask checks before scheduling, in its words."""
    def up(name: str | None) -> bool:
        try:
            service = service_db.get_by_host_and_binary(s, name or '',
                                                      service_db.COMPUTE_BINARY)
        except service_db.HostBinaryNotFound:
            return False
        return service_db.is_up(service, CONF.service_down_time)

    if not up(instance.host):
        return f'Compute service of {instance.host} is unavailable at this time.'
    if host is None:
        return None
    if host == instance.host:
        return f'Unable to migrate instance ({instance.uuid}) to current host ({host}).'
    if not up(host):
        return f'Compute service of {host} is unavailable at this time.'
    return None


def live_migrate_server(conductor, ctxt, instance_uuid: str, migration_uuid: str,
                        host: str | None, force: bool, block_migration: bool | None
                        ) -> str | None:
    """Check and schedule the live migration, and start it; the reason it cannot
    start (the migration then ended `error`), or None."""
    with session.reader() as s:
        pending = migration_db.waiting(s, instance_uuid, migration_uuid, task.MIGRATING,
                                       migration_db.ACCEPTED)
        if pending is None:
            return None
        instance, _ = pending
        refused = _precheck(s, instance, host)
        spec = move_specs.for_another_host(s, instance, host, force)
    with session.transaction() as s:
        instance_db.record_event(s, instance_uuid, ctxt.request_id, SCHEDULE_EVENT, None)
    if refused:
        end(ctxt, migration_uuid, refused, migration_db.ERROR, SCHEDULE_EVENT)
        return refused
    try:
        selection = conductor.scheduler.select_destinations(ctxt, spec)[0]
    except exceptions.NoValidHost as exc:
        message = str(build_faults.no_valid_host(exc))
        end(ctxt, migration_uuid, message, migration_db.ERROR, SCHEDULE_EVENT)
        return message
    except messaging.MessagingTimeout:
        message = 'Timed out waiting for the scheduler.'
        end(ctxt, migration_uuid, message, migration_db.ERROR, SCHEDULE_EVENT)
        return message
    except Exception as exc:  # a scheduler bug must not leave the server migrating
        LOG.exception('Scheduling the live migration of %s failed', instance_uuid)
        message = f'Scheduling failed: {exc}'
        end(ctxt, migration_uuid, message, migration_db.ERROR, SCHEDULE_EVENT)
        return message
    dest = selection.service_host
    sid = resize.step_id(ctxt.request_id, 'pre_live_migration')
    with session.transaction() as s:
        fresh = s.query(models.Instance).filter_by(uuid=instance_uuid, deleted=0).first()
        if fresh is None or fresh.task_state != task.MIGRATING or not migration_db.set_status(
                s, migration_uuid, migration_db.PREPARING, (migration_db.ACCEPTED,),
                dest_compute=dest, dest_node=selection.nodename,
                dest_node_uuid=selection.compute_node_uuid, dest_host=dest, step_id=sid):
            # Deleted, or given up on by the reaper, while it was being scheduled.
            LOG.info('Instance %s changed while its live migration was scheduled',
                     instance_uuid)
            recovery.free_allocation_on(s, instance_uuid, selection.compute_node_uuid)
            return None
        instance_db.record_event(s, instance_uuid, ctxt.request_id, SCHEDULE_EVENT,
                                 'Success')
        step = _step_in(s, ctxt, migration_uuid, 'pre_live_migration', sid,
                        block_migration=block_migration)
    LOG.info('Live-migrating instance %s from %s to %s', instance_uuid, step.source_host,
             dest)
    conductor.compute.pre_live_migration(ctxt, step)
    return None


def _step_in(s, ctxt, migration_uuid: str, step: str, sid: str,
             block_migration: bool | None = None) -> objects.MigrationStep:
    """The payload of the agent step `step` (its event started), with the server as
    the destination receives it."""
    migration = migration_db.get(s, migration_uuid)
    instance = instance_db.get_instance(s, migration.instance_uuid)
    instance_db.record_event(s, instance.uuid, ctxt.request_id, EVENTS[step], None,
                             host=host_of(migration, step))
    build = resizing.build_payload(s, instance, instance.flavor or {},
                                   migration.dest_node_uuid or '')
    payload = resize.make_step(migration, step, sid, build)
    payload.start = migration.old_vm_state != states.PAUSED
    payload.block_migration = block_migration
    return payload


def _next(conductor, ctxt, migration: models.Migration, step: str, status: str,
          expected: tuple, **values) -> None:
    """Move the migration on to the agent step `step` and send it."""
    sid = resize.step_id(ctxt.request_id, step)
    with session.transaction() as s:
        if not migration_db.set_status(s, migration.uuid, status, expected, step_id=sid,
                                       **values):
            return
        payload = _step_in(s, ctxt, migration.uuid, step, sid)
    getattr(conductor.compute, step)(ctxt, payload)


# --- the agents' reports ------------------------------------------------------------------
def step_finished(conductor, ctxt, result: objects.MigrationStepResult) -> None:
    with session.reader() as s:
        migration = migration_db.awaiting(s, result.migration_uuid, result.step_id)
    if migration is None:
        return
    LOG.info('Live migration %s of %s: %s on %s %s', migration.uuid,
             migration.instance_uuid, result.step, result.host,
             'done' if result.success else f'failed ({result.error})')
    _AFTER[result.step](conductor, ctxt, migration, result)


def _event(s, ctxt, result: objects.MigrationStepResult) -> None:
    instance_db.record_event(s, result.instance_uuid, ctxt.request_id,
                             EVENTS[result.step], 'Success' if result.success else 'Error',
                             host=result.host, details=result.error)


def _after_pre(conductor, ctxt, migration, result) -> None:
    with session.transaction() as s:
        _event(s, ctxt, result)
    if migration.status == migration_db.CANCELLED:
        # Aborted by the user while the destination prepared (2.65).
        _roll_back(conductor, ctxt, migration, migration_db.CANCELLED,
                   f'Live migration to {migration.dest_compute} was aborted',
                   expected=(migration_db.CANCELLED,), fault=False)
        return
    if not result.success:
        _roll_back(conductor, ctxt, migration, migration_db.FAILED,
                   f'Live migration to {result.host} failed: {result.error}',
                   expected=(migration_db.PREPARING,))
        return
    _next(conductor, ctxt, migration, 'live_migration', migration_db.RUNNING,
          (migration_db.PREPARING,))


def _after_live_migration(conductor, ctxt, migration, result) -> None:
    if not result.success:
        with session.transaction() as s:
            _event(s, ctxt, result)
        if result.aborted:
            _roll_back(conductor, ctxt, migration, migration_db.CANCELLED,
                       f'Live migration to {migration.dest_compute} was aborted',
                       expected=(migration_db.RUNNING,), fault=False)
        else:
            _roll_back(conductor, ctxt, migration, migration_db.FAILED,
                       f'Live migration to {migration.dest_compute} failed: '
                       f'{result.error}', expected=(migration_db.RUNNING,))
        return
    # The guest runs at the destination now: the server is placed there, its ports
    # bound there, and the source's claim goes.
    dest = migration.dest_compute
    with session.transaction() as s:
        _event(s, ctxt, result)
        instance = instance_db.get_instance(s, migration.instance_uuid)
        zone = instance.pinned_availability_zone or aggregate_db.zone_of_host(s, dest)
        if not instance_db.update_if(
                s, migration.instance_uuid,
                {'host': dest, 'node': migration.dest_node,
                 'compute_node_uuid': migration.dest_node_uuid, 'availability_zone': zone},
                expected_task_state=(task.MIGRATING,)):
            return
        server_ports.bind(s, migration.instance_uuid, dest, ctxt)
        migration_db.free_claims(s, migration.uuid)
    _next(conductor, ctxt, migration, 'post_live_migration_at_destination',
          migration_db.POST_MIGRATING, (migration_db.RUNNING,))


def _after_post(conductor, ctxt, migration, result) -> None:
    with session.transaction() as s:
        _event(s, ctxt, result)
        if result.success:
            values = {'vm_state': migration.old_vm_state or states.ACTIVE,
                      'task_state': None, 'task_deadline': None,
                      'power_state': result.power_state}
            status = migration_db.COMPLETED
        else:
            # The guest arrived but its new host could not take it: as Nova's.
            values = {'vm_state': states.ERROR, 'task_state': None, 'task_deadline': None}
            status = migration_db.ERROR
            instance_db.add_fault(s, migration.instance_uuid, 500,
                                  f'Live migration to {result.host} failed after the '
                                  f'guest arrived: {result.error}', host=result.host)
        if not instance_db.update_if(s, migration.instance_uuid, values,
                                     expected_task_state=(task.MIGRATING,)):
            return
        migration_db.set_status(s, migration.uuid, status, (migration_db.POST_MIGRATING,),
                                step_id=None)
    LOG.info('Live migration of %s to %s %s', migration.instance_uuid, result.host,
             'completed' if result.success else 'failed after the guest arrived')


def _after_rollback(conductor, ctxt, migration, result) -> None:
    with session.transaction() as s:
        _event(s, ctxt, result)
        if not result.success:
            instance_db.add_fault(s, migration.instance_uuid, 500,
                                  f'Cleaning up {result.host} after the live migration '
                                  f'failed: {result.error}', host=result.host)


_AFTER = {'pre_live_migration': _after_pre, 'live_migration': _after_live_migration,
          'post_live_migration_at_destination': _after_post,
          'rollback_live_migration_at_destination': _after_rollback}


def progress(migration_uuid: str, report: objects.LiveMigrationProgress) -> None:
    """The source's count of the copy (bytes), written while the migration runs: a
    report that arrives after the copy ended (casts may overtake one another) leaves
    the record as it is."""
    values = {name: getattr(report, name) for name in PROGRESS_FIELDS}
    with session.transaction() as s:
        migration_db.set_status(s, migration_uuid, None, (migration_db.RUNNING,),
                                **values)


# --- endings ------------------------------------------------------------------------------
def _roll_back(conductor, ctxt, migration: models.Migration, status: str, message: str,
               expected: tuple, fault: bool = True) -> None:
    """The guest stayed at the source: the server ends there as it was (with a fault,
    unless the user aborted), and the destination removes what it prepared."""
    sid = resize.step_id(ctxt.request_id, 'rollback_live_migration_at_destination')
    with session.transaction() as s:
        if not _end_in(s, ctxt, migration, message if fault else None, status, expected,
                       step_id=sid):
            return
        payload = _step_in(s, ctxt, migration.uuid,
                           'rollback_live_migration_at_destination', sid)
    LOG.warning('Live migration of %s rolled back: %s', migration.instance_uuid, message)
    conductor.compute.rollback_live_migration_at_destination(ctxt, payload)


def end(ctxt, migration_uuid: str, message: str, status: str, event: str,
        expected: tuple = (migration_db.ACCEPTED,)) -> bool:
    """The live migration never started: the server as it was, with a fault and an
    Error event."""
    with session.transaction() as s:
        migration = migration_db.get(s, migration_uuid)
        if not _end_in(s, ctxt, migration, message, status, expected):
            return False
        instance_db.record_event(s, migration.instance_uuid, ctxt.request_id, event,
                                 'Error', details=message)
    LOG.warning('Live migration of %s did not start: %s', migration.instance_uuid,
                message)
    return True


def _end_in(s, ctxt, migration: models.Migration, message: str | None, status: str,
            expected: tuple, **values) -> bool:
    uuid = migration.instance_uuid
    fresh = migration_db.get(s, migration.uuid)
    if fresh.status not in expected or not instance_db.update_if(
            s, uuid, {'vm_state': migration.old_vm_state or states.ACTIVE,
                      'task_state': None, 'task_deadline': None,
                      **resizing.source_place(migration)},
            expected_task_state=(task.MIGRATING,)):
        return False
    migration_db.set_status(s, migration.uuid, status, expected, **values)
    migration_db.give_back(s, migration)
    server_ports.bind(s, uuid, migration.source_compute, ctxt)
    if message is not None:
        instance_db.add_fault(s, uuid, 500, message, host=migration.source_compute)
    return True


# --- the reaper (reaper.py): a live migration past its deadline ----------------------------
def overdue(conductor, ctxt, instance: models.Instance, ask) -> bool:
    """The agent's record of the step decides (a lost report is recovered). Still
    copying: the source is asked to abort (the report of the abort ends it). Else
    the migration ends where the guest is known to run: the destination, when it
    has the guest (then it is asked to take it), otherwise the source."""
    uuid, step_state = instance.uuid, instance.task_state
    with session.transaction() as s:
        if not recovery.take_overdue(s, uuid, step_state):
            return False
    migration = in_progress(uuid)
    timeout = deadlines.timeout_for(step_state)
    if migration is None:
        with session.transaction() as s:
            instance_db.update_if(s, uuid, {'task_state': None, 'task_deadline': None},
                                  expected_task_state=(step_state,))
        return True
    if migration.status == migration_db.ACCEPTED:
        return end(ctxt, migration.uuid, f'Task {step_state} timed out after {timeout}s: '
                   'the live migration was never scheduled', migration_db.FAILED,
                   SCHEDULE_EVENT)
    step = resize.step_of(migration.step_id)
    host = host_of(migration, step) if step else None
    check, why = ask(host, migration.step_id)
    record = check.actions.get(migration.step_id) if check is not None else None
    if record is not None:
        LOG.warning('Instance %s: live migration step %s on %s ended but the report was '
                    'lost; recovering it', uuid, step, host)
        step_finished(conductor, ctxt, objects.MigrationStepResult(
            migration_uuid=migration.uuid, instance_uuid=uuid, step=step,
            step_id=migration.step_id, host=host, success=record['success'],
            power_state=record['power_state'], error=record['error'],
            aborted=record.get('aborted', False)))
        return True
    if step == 'live_migration' and check is not None and check.busy:
        LOG.warning('Instance %s: live migration to %s still copying after %ss; '
                    'aborting it', uuid, migration.dest_compute, timeout)
        with session.transaction() as s:
            instance_db.add_fault(s, uuid, 500, f'Live migration to '
                                  f'{migration.dest_compute} timed out after {timeout}s '
                                  'and was aborted', host=host)
        conductor.compute.live_migration_abort(ctxt, host, uuid, migration.uuid)
        return True
    reason = why if check is None else (f'{check.busy} still running' if check.busy
                                        else 'the request never reached the host')
    message = f'Task {step_state} timed out on {host} after {timeout}s: {reason}'
    if step in ('live_migration', 'post_live_migration_at_destination'):
        there, _ = ask(migration.dest_compute, None)
        if there is not None and there.exists:
            # The guest runs at the destination: it is the server's there.
            if step == 'live_migration':
                _after_live_migration(conductor, ctxt, migration, objects.MigrationStepResult(
                    migration_uuid=migration.uuid, instance_uuid=uuid, step=step,
                    step_id=migration.step_id, host=host or '', success=True))
                return True
            _after_post(conductor, ctxt, migration, objects.MigrationStepResult(
                migration_uuid=migration.uuid, instance_uuid=uuid, step=step,
                step_id=migration.step_id, host=migration.dest_compute or '',
                success=True, power_state=there.power_state))
            return True
    _roll_back(conductor, ctxt, migration, migration_db.FAILED, message,
               expected=ENDING)
    return True


# --- deletes ------------------------------------------------------------------------------
def leftovers(conductor, ctxt, instance: models.Instance) -> None:
    """A server deleted while it live-migrates: a copy in progress is aborted first
    (the source's terminate waits for it, then destroys the guest that stayed), and
    the other host destroys what it has of the server."""
    migration = in_progress(instance.uuid)
    if migration is None:
        return
    if migration.status == migration_db.RUNNING and migration.source_compute:
        conductor.compute.live_migration_abort(ctxt, migration.source_compute,
                                               instance.uuid, migration.uuid)
    for other in (migration.dest_compute, migration.source_compute):
        if other and other != instance.host:
            LOG.info('Instance %s is deleted during its live migration; destroying what '
                     'is left on %s', instance.uuid, other)
            conductor.compute.terminate_instance(ctxt, other, instance.uuid)


def forget(s, instance_uuid: str) -> None:
    """The server is deleted in this transaction: its live migration ends, and the
    claim it owns on the source goes."""
    migration = migration_db.live_migration_of(s, instance_uuid, ENDING)
    if migration is None:
        return
    migration_db.free_claims(s, migration.uuid)
    migration_db.set_status(s, migration.uuid, migration_db.ERROR, step_id=None)
