"""Evacuate: the conductor's part (a server whose host is down, rebuilt elsewhere).

The API accepts an evacuation (kumo_api.actions.evacuate): task_state rebuilding, an
instance action `evacuate`, and a migration record of type `evacuation` (accepted)
that now owns the server's claim on the source node (it stays there until the source
agent returns, as Nova's source allocation does). From there:

    evacuate_server    the scheduler claims a host for the server (never the source;
                       its stored hints and group honoured; a requested host checked
                       by the filters, or taken as it is when forced) -> pre-migrating,
                       the server placed there (rebuild_spawning), its ports bound
                       there, and the host told to build it from its image (Kumo has
                       no shared storage: Nova's rebuild on another host)
    finished           (the host's report, through ConductorManager.action_finished)
                       -> done; the server ACTIVE, or STOPPED (it was stopped, or 2.95)

No host: the server stays where it was, in ERROR with Nova's NoValidHost fault, the
migration `error`. A failed rebuild, or a step the reaper ends (reaper.py: the
conductor died before the server was placed, or the host never reported): ERROR
with a fault, back on the source host with its old claim, the migration `failed`.

When the source agent returns it asks for the evacuations away from it (accepted,
pre-migrating or done), destroys their guests, and reports them cleaned: the
migration is `completed` and its claim on the source is given back (Nova's
ComputeManager._destroy_evacuated_instances).
"""
from __future__ import annotations

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import deadlines, exceptions, lifecycle, objects, states
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import block_devices as bdm_db
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, recovery, session
from kumo_common.db import server_migrations as migration_db
from kumo_common.db import services as service_db
from kumo_conductor import build_faults, images, move_specs, resizing
from kumo_conductor import ports as server_ports

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
task = states.task
power = states.power

SCHEDULE_EVENT = lifecycle.EVACUATE_SCHEDULE_EVENT
REBUILD_EVENT = lifecycle.get('evacuate').event
# The task_states of an evacuation: scheduling it, then the new host building it.
STEPS = (task.REBUILDING, task.REBUILD_SPAWNING)


def in_progress(instance_uuid: str) -> models.Migration | None:
    """The evacuation the server is in, if its task is one (else None)."""
    with session.reader() as s:
        return migration_db.evacuation_of(s, instance_uuid)


def evacuate_server(conductor, ctxt, instance_uuid: str, migration_uuid: str,
                    host: str | None, force: bool, start: bool,
                    on_shared_storage: bool = False) -> None:
    with session.reader() as s:
        pending = migration_db.waiting(s, instance_uuid, migration_uuid, task.REBUILDING,
                                       migration_db.ACCEPTED)
        if pending is None:
            return
        instance, migration = pending
        spec = move_specs.for_another_host(s, instance, host, force)
        image_ref = instance.image_ref
    with session.transaction() as s:
        instance_db.record_event(s, instance_uuid, ctxt.request_id, SCHEDULE_EVENT, None)
    try:
        selection = conductor.scheduler.select_destinations(ctxt, spec)[0]
    except exceptions.NoValidHost as exc:
        _end(ctxt, migration_uuid, str(build_faults.no_valid_host(exc)),
             migration_db.ERROR, (task.REBUILDING,), SCHEDULE_EVENT)
        return
    except messaging.MessagingTimeout:
        _end(ctxt, migration_uuid, 'Timed out waiting for the scheduler.',
             migration_db.ERROR, (task.REBUILDING,), SCHEDULE_EVENT)
        return
    except Exception as exc:  # a scheduler bug must not leave the server rebuilding
        LOG.exception('Scheduling the evacuation of %s failed', instance_uuid)
        _end(ctxt, migration_uuid, f'Scheduling failed: {exc}', migration_db.ERROR,
             (task.REBUILDING,), SCHEDULE_EVENT)
        return
    if on_shared_storage:
        # (before 2.14) Kumo's hosts share no storage: the new host finds no files of
        # the server, as Nova's compute refuses it then (its InvalidSharedStorage).
        _end(ctxt, migration_uuid, 'Invalid state of instance files on shared storage',
             migration_db.FAILED, (task.REBUILDING,), REBUILD_EVENT,
             host=selection.service_host, started=(SCHEDULE_EVENT,))
        return
    # Read before the transaction: with an external Glance it is an API call.
    image = images.get_spec(ctxt, image_ref)
    dest = selection.service_host
    with session.transaction() as s:
        instance = instance_db.get_instance(s, instance_uuid)
        zone = instance.pinned_availability_zone or aggregate_db.zone_of_host(s, dest)
        fresh_migration = migration_db.get(s, migration_uuid)
        if fresh_migration.status != migration_db.ACCEPTED or not instance_db.update_if(
                s, instance_uuid,
                {'host': dest, 'node': selection.nodename,
                 'compute_node_uuid': selection.compute_node_uuid,
                 'availability_zone': zone, 'task_state': task.REBUILD_SPAWNING},
                expected_task_state=(task.REBUILDING,)):
            # Deleted, or given up on by the reaper, while it was being scheduled.
            LOG.info('Instance %s changed while its evacuation was scheduled',
                     instance_uuid)
            recovery.free_allocation_on(s, instance_uuid, selection.compute_node_uuid)
            return
        migration_db.set_status(s, migration_uuid, migration_db.PRE_MIGRATING,
                                (migration_db.ACCEPTED,), dest_compute=dest,
                                dest_node=selection.nodename,
                                dest_node_uuid=selection.compute_node_uuid, dest_host=dest)
        s.refresh(instance)
        build = resizing.build_payload(s, instance, instance.flavor or {},
                                       selection.compute_node_uuid, host=dest, ctxt=ctxt)
        if image is not None:
            build.image = image
        build.availability_zone = zone
        build.admin_password = instance.admin_password
        build.block_devices = bdm_db.local_specs(s, instance_uuid)
        instance_db.record_event(s, instance_uuid, ctxt.request_id, SCHEDULE_EVENT,
                                 'Success')
        instance_db.record_event(s, instance_uuid, ctxt.request_id, REBUILD_EVENT, None,
                                 host=dest)
    LOG.info('Evacuating instance %s from %s to %s', instance_uuid,
             migration.source_compute, dest)
    conductor.compute.perform_action(ctxt, dest, instance_uuid, 'evacuate',
                                     objects.ActionParams(build=build, start=start))


def finished(conductor, ctxt, instance_uuid: str, host: str, success: bool,
             power_state: int, error: str | None, traceback: str | None) -> None:
    """The new host's report of the rebuild."""
    with session.reader() as s:
        migration = migration_db.evacuation_of(s, instance_uuid,
                                               (migration_db.PRE_MIGRATING,))
    if migration is None or migration.dest_compute != host:
        LOG.info('Evacuation report of %s from %s ignored: no evacuation there in '
                 'flight', instance_uuid, host)
        return
    if not success:
        _end(ctxt, migration.uuid, f'Evacuation to {host} failed: {error}',
             migration_db.FAILED, (task.REBUILD_SPAWNING,), REBUILD_EVENT, host=host,
             trace=traceback)
        return
    # Left off (a stopped server, or 2.95's target state): STOPPED, as Nova's.
    vm_state = states.STOPPED if power_state in (power.SHUTDOWN, power.CRASHED) \
        else states.ACTIVE
    with session.transaction() as s:
        if not instance_db.update_if(
                s, instance_uuid,
                {'vm_state': vm_state, 'task_state': None, 'task_deadline': None,
                 'power_state': power_state, 'admin_password': None,
                 'launched_at': models.utcnow()},
                expected_task_state=(task.REBUILD_SPAWNING,)):
            LOG.info('Instance %s changed before its evacuation to %s was reported',
                     instance_uuid, host)
            return
        migration_db.set_status(s, migration.uuid, migration_db.EVACUATED,
                                (migration_db.PRE_MIGRATING,))
        instance_db.record_event(s, instance_uuid, ctxt.request_id, REBUILD_EVENT,
                                 'Success', host=host)
    LOG.info('Instance %s evacuated from %s to %s (%s)', instance_uuid,
             migration.source_compute, host, vm_state)
    _source_cleans_up(conductor, ctxt, migration.source_compute)


def _source_cleans_up(conductor, ctxt, source: str | None) -> None:
    """A source agent that came back while the evacuation ran cleaned up at its
    start-up already, but could not complete a migration that was not done yet: it
    is asked again now (a source still down does it when it starts)."""
    with session.reader() as s:
        try:
            service = service_db.get_by_host_and_binary(s, source or '',
                                                      service_db.COMPUTE_BINARY)
        except service_db.HostBinaryNotFound:
            return
        if not service_db.is_up(service, CONF.service_down_time):
            return
    LOG.info('Asking %s, which is up again, to clean up after the servers evacuated '
             'from it', source)
    conductor.compute.destroy_evacuated(ctxt, source)


def _end(ctxt, migration_uuid: str, message: str, status: str, steps: tuple, event: str,
         host: str | None = None, trace: str | None = None, started: tuple = ()) -> bool:
    """The evacuation failed: ERROR with a fault, on the source host with its old claim
    (the new one given back), the migration `status`; the `started` events ended
    well (the step after them failed)."""
    with session.transaction() as s:
        migration = migration_db.get(s, migration_uuid)
        if not end_in(s, ctxt, migration, message, status, steps, event, host, trace):
            return False
        for name in started:
            instance_db.record_event(s, migration.instance_uuid, ctxt.request_id, name,
                                     'Success')
    LOG.warning('Evacuation of %s failed: %s', migration.instance_uuid, message)
    return True


def end_in(s, ctxt, migration: models.Migration, message: str, status: str,
           steps: tuple, event: str, host: str | None = None, trace: str | None = None
           ) -> bool:
    uuid = migration.instance_uuid
    if not instance_db.update_if(
            s, uuid, {'vm_state': states.ERROR, 'task_state': None, 'task_deadline': None,
                      'admin_password': None, **resizing.source_place(migration)},
            expected_task_state=steps):
        return False
    migration_db.give_back(s, migration)
    server_ports.bind(s, uuid, migration.source_compute, ctxt)
    migration_db.set_status(s, migration.uuid, status)
    instance_db.add_fault(s, uuid, 500, message, host=host or migration.source_compute,
                          details=trace)
    instance_db.record_event(s, uuid, ctxt.request_id, event, 'Error', host=host,
                             details=message, traceback=trace)
    return True


# --- the reaper (reaper.py): an evacuation past its deadline -----------------------------
def overdue(conductor, ctxt, instance: models.Instance, ask) -> bool:
    """rebuilding (never placed: the conductor died or the scheduler never answered)
    fails; rebuild_spawning asks the new host what became of the rebuild (a lost report
    is recovered), else fails, and whatever the host may have built is destroyed."""
    uuid, step = instance.uuid, instance.task_state
    with session.transaction() as s:
        if not recovery.take_overdue(s, uuid, step):
            return False
    migration = in_progress(uuid)
    if migration is None:
        return False
    timeout = deadlines.timeout_for(step)
    if step == task.REBUILDING:
        return _end(ctxt, migration.uuid,
                    f'Task {step} timed out after {timeout}s: the evacuation was never '
                    'scheduled', migration_db.FAILED, (step,), SCHEDULE_EVENT)
    dest = instance.host
    check, why = ask(dest, ctxt.request_id)
    record = check.actions.get(ctxt.request_id) if check is not None else None
    if record is not None and record.get('action') == 'evacuate':
        LOG.warning('Instance %s: evacuation to %s ended but the report was lost; '
                    'recovering it', uuid, dest)
        finished(conductor, ctxt, uuid, dest, record['success'], record['power_state'],
                 record['error'], record.get('traceback'))
        return True
    reason = why if check is None else (f'{check.busy} still running' if check.busy
                                        else 'the request never reached the host')
    if not _end(ctxt, migration.uuid, f'Task {step} timed out on {dest} after '
                f'{timeout}s: {reason}', migration_db.FAILED, (step,), REBUILD_EVENT,
                host=dest):
        return False
    if dest and (check is None or check.exists or check.busy):
        # Whatever it built of the server goes (the cast waits for a host that is down).
        conductor.compute.terminate_instance(ctxt, dest, uuid)
    return True


# --- the source agent returns --------------------------------------------------------------
def evacuations_from(host: str) -> list[dict]:
    with session.reader() as s:
        return [{'migration_uuid': m.uuid, 'instance_uuid': m.instance_uuid}
                for m in migration_db.evacuated_from(s, host)]


def evacuations_cleaned(host: str, migration_uuids: list[str]) -> None:
    """`host` destroyed its copies: those evacuations are completed and their claims
    on it given back (an evacuation still under way too, as Nova's: its claim moved
    to the destination already or goes back to the server should it fail)."""
    with session.transaction() as s:
        for uuid in migration_uuids:
            try:
                migration = migration_db.get(s, uuid)
            except migration_db.MigrationNotFound:
                continue
            if migration.source_compute != host \
                    or migration.status not in migration_db.EVACUATION_HELD:
                continue
            if migration.status == migration_db.EVACUATED:
                node_db.free_allocations(s, uuid)
                migration_db.set_status(s, uuid, migration_db.COMPLETED,
                                        (migration_db.EVACUATED,))
                LOG.info('Evacuation %s of %s completed: %s cleaned up', uuid,
                         migration.instance_uuid, host)


def forget(s, instance_uuid: str) -> None:
    """The server is deleted in this transaction: the claims its evacuations still hold
    on a source host go with it (the migrations wait for that host to clean up)."""
    m = models.Migration
    for migration in s.query(m).filter(m.instance_uuid == instance_uuid,
                                       m.migration_type == migration_db.EVACUATION,
                                       m.status.in_(migration_db.EVACUATION_HELD)):
        node_db.free_allocations(s, migration.uuid)
