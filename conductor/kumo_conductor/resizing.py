"""Resize and cold migration, as the conductor drives them (Nova's cold migration,
with a new flavor or the same one).

The API accepts a resize (kumo_api.actions.resize): task_state resize_prep,
a migration record (pre-migrating) that now owns the server's claim on its node
(kumo_common.db.server_migrations), and the growth charged to the quota. From there:

    migrate_server         the scheduler claims the new flavor for the server, on
                           another host unless [DEFAULT] allow_resize_to_same_host;
                           none: back to where it was, with an Error event (NoValidHost)
    resize_instance        (source agent) the guest is powered off, its files put aside
                           -> resize_migrated
    finish_resize          (destination agent) the guest built with the new flavor from
                           those files -> VERIFY_RESIZE (vm_state resized)
    confirm_resize         (source agent) the files put aside are dropped; the old
                           flavor's claim is freed -> ACTIVE (or SHUTOFF)
    revert_resize          (destination agent) the new guest is destroyed, then
    finish_revert_resize   (source agent) the old guest comes back; the new claim is
                           freed -> ACTIVE (or SHUTOFF) with the old flavor

Each agent step is a cast with a step id (its key in the agent's ledger) stored on
the migration, so the reaper (reaper.py) can ask what became of a step whose report
never came, and re-drive it or end the resize truthfully (resize_recovery.py).
A destination that fails to build the guest is rolled back the way a revert is, and
the server ends where it was, with a fault.
"""
from __future__ import annotations

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import context, exceptions, objects, quota, resize, states
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, network_cache, recovery, session, system_metadata
from kumo_common.db import server_migrations as migration_db
from kumo_conductor import build_faults, images, move_specs
from kumo_conductor import ports as server_ports

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
task = states.task

# The task_state a server shows while each agent step runs.
STEP_TASKS = {'resize_instance': task.RESIZE_MIGRATING,
              'finish_resize': task.RESIZE_FINISH,
              'confirm_resize': task.RESIZE_CONFIRMING,
              'revert_resize': task.RESIZE_REVERTING,
              'finish_revert_resize': task.RESIZE_REVERTING}
SCHEDULE_EVENT = resize.SCHEDULE_EVENT
# Nova's conductor reports a cold_migrate within its migrate_server: both end together.
SCHEDULE_EVENTS = (SCHEDULE_EVENT, resize.COLD_MIGRATE_EVENT)
EVENTS = resize.EVENTS
RESIZE_TASKS = resize.RESIZE_TASKS
step_id = resize.step_id
step_of = resize.step_of
host_of = resize.host_of
make_step = resize.make_step


flavor_spec = resize.flavor_spec


def _ports(s, instance_uuid: str, host: str | None = None, ctxt=None
           ) -> list[objects.PortSpec]:
    """The server's ports, as its network info cache lists them (bound to `host`,
    when given: the guest moves there)."""
    if host is not None:
        server_ports.bind(s, instance_uuid, host, ctxt)
    return network_cache.ports(s, instance_uuid)


def build_payload(s, instance: models.Instance, flavor: dict, node_uuid: str,
                  host: str | None = None, ctxt=None) -> objects.InstanceBuild:
    """The server as the destination builds it, with `flavor` (its ports bound to
    `host` when given, with `ctxt`'s token for an external Neutron)."""
    # None when gone: the agent keeps the disk's own backing file then.
    image = images.get_spec(None, instance.image_ref, session=s)
    return objects.InstanceBuild(
        uuid=instance.uuid, name=instance.display_name or '',
        hostname=instance.hostname or '', project_id=instance.project_id,
        user_id=instance.user_id, flavor=flavor_spec(flavor), image=image,
        node_uuid=node_uuid or '',
        metadata={m.key: m.value for m in instance.metadata_items},
        user_data=instance.user_data, key_data=instance.key_data,
        config_drive=bool(instance.config_drive), ports=_ports(s, instance.uuid, host, ctxt),
        availability_zone=instance.availability_zone,
        instance_name='instance-%08x' % instance.id, key_name=instance.key_name,
        kernel=images.boot_image(instance, instance.kernel_id),
        ramdisk=images.boot_image(instance, instance.ramdisk_id),
        files=system_metadata.injected_files(instance))




def quota_back(s, migration: models.Migration, keep: str) -> None:
    """Give back what the flavor not kept ('old' or 'new') held beyond the other."""
    old, new = migration.old_flavor or {}, migration.new_flavor or {}
    kept, other = (old, new) if keep == 'old' else (new, old)
    quota.release_resize(s, migration.project_id or '', migration.user_id or '',
                         (other.get('vcpus') or 0) - (kept.get('vcpus') or 0),
                         (other.get('memory_mb') or 0) - (kept.get('memory_mb') or 0))


def flavor_columns(flavor: dict, type_id: int | None) -> dict:
    return {'flavor': flavor, 'instance_type_id': type_id,
            'vcpus': flavor.get('vcpus') or 0, 'memory_mb': flavor.get('memory_mb') or 0,
            'root_gb': flavor.get('root_gb') or 0,
            'ephemeral_gb': flavor.get('ephemeral_gb') or 0}


def source_place(migration: models.Migration) -> dict:
    return {'host': migration.source_compute, 'node': migration.source_node,
            'compute_node_uuid': migration.source_node_uuid}


class Resizer:
    """The conductor's resize logic; `conductor` is its ConductorManager (for the
    scheduler and compute agents' RPC clients)."""

    def __init__(self, conductor):
        self.conductor = conductor

    @property
    def compute(self):
        return self.conductor.compute

    # --- scheduling ----------------------------------------------------------------------
    def migrate_server(self, ctxt, instance_uuid: str, migration_uuid: str) -> None:
        with session.reader() as s:
            pending = migration_db.waiting(s, instance_uuid, migration_uuid,
                                           task.RESIZE_PREP, migration_db.PRE_MIGRATING)
            if pending is None:
                return
            instance, migration = pending
            spec = self._request_spec(s, instance, migration)
        with session.transaction() as s:
            for event in SCHEDULE_EVENTS:
                instance_db.record_event(s, instance_uuid, ctxt.request_id, event, None)
        try:
            selection = self.conductor.scheduler.select_destinations(ctxt, spec)[0]
        except exceptions.NoValidHost as exc:
            self.abort(ctxt, migration_uuid, str(build_faults.no_valid_host(exc)),
                       event=SCHEDULE_EVENTS, steps=(task.RESIZE_PREP,))
            return
        except messaging.MessagingTimeout:
            # The reaper tries the scheduling again when the step's deadline passes.
            LOG.error('Scheduler did not answer for the resize of %s', instance_uuid)
            return
        except Exception as exc:  # a scheduler bug must not leave the server resizing
            LOG.exception('Scheduling the resize of %s failed', instance_uuid)
            self.abort(ctxt, migration_uuid, f'Scheduling failed: {exc}',
                       event=SCHEDULE_EVENTS, steps=(task.RESIZE_PREP,))
            return
        sid = step_id(ctxt.request_id, 'resize_instance')
        with session.transaction() as s:
            moved = instance_db.update_if(s, instance_uuid,
                                          {'task_state': task.RESIZE_MIGRATING},
                                          expected_task_state=(task.RESIZE_PREP,))
            if not moved or not migration_db.set_status(
                    s, migration_uuid, migration_db.MIGRATING, (migration_db.PRE_MIGRATING,),
                    dest_compute=selection.service_host, dest_node=selection.nodename,
                    dest_node_uuid=selection.compute_node_uuid,
                    dest_host=selection.service_host, step_id=sid):
                # Deleted, or given up on by the reaper, meanwhile: this claim goes.
                LOG.info('Instance %s changed while its resize was scheduled', instance_uuid)
                recovery.free_allocation_on(s, instance_uuid, selection.compute_node_uuid)
                return
            for event in reversed(SCHEDULE_EVENTS):
                instance_db.record_event(s, instance_uuid, ctxt.request_id, event,
                                         'Success')
            # Nova's destination claims the new flavor in its prep_resize; here the
            # scheduler's selection did: that step is done on the destination.
            instance_db.record_event(s, instance_uuid, ctxt.request_id, resize.PREP_EVENT,
                                     'Success', host=selection.service_host)
            migration = migration_db.get(s, migration_uuid)
            instance_db.record_event(s, instance_uuid, ctxt.request_id,
                                     EVENTS['resize_instance'], None,
                                     host=migration.source_compute)
            step = make_step(migration, 'resize_instance', sid)
        LOG.info('Resizing %s from %s to %s', instance_uuid, step.source_host,
                 step.dest_host)
        self.compute.resize_instance(ctxt, step)

    @staticmethod
    def _request_spec(s, instance: models.Instance, migration: models.Migration
                      ) -> objects.RequestSpec:
        spec = move_specs.stored(s, instance, flavor_spec(migration.new_flavor))
        spec.image = images.get_spec(None, instance.image_ref, session=s)
        # The host it is on is out unless the operator allows a same-host resize; a
        # cold migration always leaves it (as Nova's on hosts that cannot migrate to
        # themselves, libvirt's among them).
        cold = migration.migration_type == 'migration'
        spec.ignore_hosts = [] if CONF.allow_resize_to_same_host and not cold \
            else [instance.host] if instance.host else []
        # A create's forced host or requested destination is not the resize's; a
        # cold migration's requested host is (the filters still run, as Nova's).
        spec.force_hosts, spec.force_nodes = [], []
        spec.requested_destination = {'host': migration.requested_host, 'node': None} \
            if migration.requested_host else None
        return spec

    # --- the agents' reports ---------------------------------------------------------------
    def step_finished(self, ctxt, result: objects.MigrationStepResult) -> None:
        with session.reader() as s:
            migration = migration_db.awaiting(s, result.migration_uuid, result.step_id)
        if migration is None:
            return
        LOG.info('Resize %s of %s: %s on %s %s', migration.uuid, migration.instance_uuid,
                 result.step, result.host,
                 'done' if result.success else f'failed ({result.error})')
        handler = getattr(self, f'_after_{result.step}')
        handler(ctxt, migration, result)

    def _event(self, s, ctxt, result: objects.MigrationStepResult) -> None:
        instance_db.record_event(s, result.instance_uuid, ctxt.request_id,
                                 EVENTS[result.step],
                                 'Success' if result.success else 'Error',
                                 host=result.host, details=result.error)

    def _next(self, ctxt, migration: models.Migration, step: str, task_state: str,
              expected_task: tuple, status: str | None, expected_status: tuple,
              build_for: dict | None = None, **values) -> None:
        """Move the resize on to the agent step `step` and send it."""
        sid = step_id(ctxt.request_id, step)
        with session.transaction() as s:
            if not instance_db.update_if(s, migration.instance_uuid,
                                         {'task_state': task_state},
                                         expected_task_state=expected_task):
                return
            migration_db.set_status(s, migration.uuid, status, expected_status,
                                    step_id=sid, **values)
            instance_db.record_event(s, migration.instance_uuid, ctxt.request_id,
                                     EVENTS[step], None, host=host_of(migration, step))
            fresh = migration_db.get(s, migration.uuid)
            build = None
            if build_for is not None:
                instance = instance_db.get_instance(s, migration.instance_uuid)
                build = build_payload(s, instance, build_for, fresh.dest_node_uuid,
                                      host=fresh.dest_compute, ctxt=ctxt)
            payload = make_step(fresh, step, sid, build)
        getattr(self.compute, step)(ctxt, payload)

    def _after_resize_instance(self, ctxt, migration, result) -> None:
        if not result.success:
            with session.transaction() as s:
                self._event(s, ctxt, result)
            # The guest is where it was (the driver puts back what it moved), with its
            # old flavor; the fault is the step's error, as Nova's (e.g. "Resize error:
            # Unable to resize disk down.", its InstanceFaultRollback).
            self.abort(ctxt, migration.uuid, result.error or 'Resize failed',
                       steps=(task.RESIZE_MIGRATING,), power_state=result.power_state)
            return
        with session.transaction() as s:
            self._event(s, ctxt, result)
            # (resize_migrated too: a conductor that stopped right after this
            # transaction left it there, and the reaper sends the report again.)
            if not instance_db.update_if(s, migration.instance_uuid,
                                         {'task_state': task.RESIZE_MIGRATED},
                                         expected_task_state=(task.RESIZE_MIGRATING,
                                                              task.RESIZE_MIGRATED)):
                return
            migration_db.set_status(s, migration.uuid, migration_db.POST_MIGRATING,
                                    (migration_db.MIGRATING, migration_db.POST_MIGRATING),
                                    source_path=result.source_path)
        migration.source_path = result.source_path
        self._next(ctxt, migration, 'finish_resize', task.RESIZE_FINISH,
                   (task.RESIZE_MIGRATED,), None, (migration_db.POST_MIGRATING,),
                   build_for=migration.new_flavor)

    def _after_finish_resize(self, ctxt, migration, result) -> None:
        if not result.success:
            with session.transaction() as s:
                self._event(s, ctxt, result)
                instance_db.add_fault(s, migration.instance_uuid, 500,
                                      f'Resize failed on {result.host}: {result.error}',
                                      host=result.host)
            # Rolled back as a revert is: the destination cleans up, the source brings
            # the old guest back; the server ends where it was (with this fault).
            self._next(ctxt, migration, 'revert_resize', task.RESIZE_REVERTING,
                       (task.RESIZE_FINISH,), migration_db.FAILED,
                       (migration_db.POST_MIGRATING,))
            return
        with session.transaction() as s:
            self._event(s, ctxt, result)
            zone = aggregate_db.zone_of_host(s, migration.dest_compute)
            instance = instance_db.get_instance(s, migration.instance_uuid)
            values = {'vm_state': states.RESIZED, 'task_state': None,
                      'task_deadline': None, 'power_state': result.power_state,
                      'host': migration.dest_compute, 'node': migration.dest_node,
                      'compute_node_uuid': migration.dest_node_uuid,
                      'availability_zone': instance.pinned_availability_zone or zone,
                      **flavor_columns(migration.new_flavor or {},
                                        migration.new_instance_type_id)}
            if instance_db.update_if(s, migration.instance_uuid, values,
                                     expected_task_state=(task.RESIZE_FINISH,)):
                migration_db.set_status(s, migration.uuid, migration_db.FINISHED,
                                        (migration_db.POST_MIGRATING,), step_id=None)
        LOG.info('Instance %s resized on %s; waiting for confirm or revert',
                 migration.instance_uuid, migration.dest_compute)

    def _after_confirm_resize(self, ctxt, migration, result) -> None:
        with session.transaction() as s:
            self._event(s, ctxt, result)
            if not result.success:
                # The server runs with its new flavor; only the source's old files
                # may be left over. Confirmed all the same, with a fault saying so.
                instance_db.add_fault(s, migration.instance_uuid, 500,
                                      f'Cleaning up the source {result.host} after the '
                                      f'resize failed: {result.error}', host=result.host)
            self.confirmed(s, migration)

    def confirmed(self, s, migration: models.Migration) -> bool:
        done_state = states.STOPPED if migration.old_vm_state == states.STOPPED \
            else states.ACTIVE
        if not instance_db.update_if(s, migration.instance_uuid,
                                     {'vm_state': done_state, 'task_state': None,
                                      'task_deadline': None},
                                     expected_task_state=(task.RESIZE_CONFIRMING,),
                                     expected_vm_state=(states.RESIZED,)):
            return False
        migration_db.free_claims(s, migration.uuid)
        quota_back(s, migration, keep='new')
        migration_db.set_status(s, migration.uuid, migration_db.CONFIRMED, step_id=None)
        # Later reschedules and resizes start from the new flavor.
        record = s.query(models.RequestSpecRecord).filter_by(
            instance_uuid=migration.instance_uuid).first()
        if record is not None:
            spec = objects.Payload.from_primitive(record.spec)
            spec.flavor = flavor_spec(migration.new_flavor)
            record.spec = spec.to_primitive()
        LOG.info('Resize of %s confirmed', migration.instance_uuid)
        return True

    def _after_revert_resize(self, ctxt, migration, result) -> None:
        if not result.success:
            with session.transaction() as s:
                self._event(s, ctxt, result)
            # The new guest may still be there: the server stays resized (or, in a
            # rollback, ends in ERROR), with a fault; the user may try again.
            self.revert_failed(ctxt, migration, f'Revert failed on {result.host}: '
                                                 f'{result.error}', result.host)
            return
        with session.transaction() as s:
            self._event(s, ctxt, result)
        self._next(ctxt, migration, 'finish_revert_resize', task.RESIZE_REVERTING,
                   (task.RESIZE_REVERTING,), None,
                   (migration_db.REVERTING, migration_db.FAILED),
                   build_for=migration.old_flavor)

    def revert_failed(self, ctxt, migration, message: str, host: str | None) -> None:
        with session.transaction() as s:
            rollback = migration.status == migration_db.FAILED
            values = {'task_state': None, 'task_deadline': None,
                      'vm_state': states.ERROR if rollback else states.RESIZED}
            if not instance_db.update_if(s, migration.instance_uuid, values,
                                         expected_task_state=(task.RESIZE_REVERTING,)):
                return
            instance_db.add_fault(s, migration.instance_uuid, 500, message, host=host)
            if rollback:
                migration_db.give_back(s, migration_db.get(s, migration.uuid))
                quota_back(s, migration, keep='old')
                migration_db.set_status(s, migration.uuid, migration_db.ERROR,
                                        step_id=None)
            else:
                migration_db.set_status(s, migration.uuid, migration_db.FINISHED,
                                        step_id=None)
        LOG.warning('Instance %s: %s', migration.instance_uuid, message)

    def _after_finish_revert_resize(self, ctxt, migration, result) -> None:
        with session.transaction() as s:
            self._event(s, ctxt, result)
            rollback = migration.status == migration_db.FAILED
            if result.success:
                vm_state = migration.old_vm_state or states.ACTIVE
            else:
                vm_state = states.ERROR
            values = {'vm_state': vm_state, 'task_state': None, 'task_deadline': None,
                      'power_state': result.power_state, **source_place(migration),
                      **flavor_columns(migration.old_flavor or {},
                                        migration.old_instance_type_id)}
            instance = instance_db.get_instance(s, migration.instance_uuid)
            zone = aggregate_db.zone_of_host(s, migration.source_compute)
            values['availability_zone'] = instance.pinned_availability_zone or zone
            if not instance_db.update_if(s, migration.instance_uuid, values,
                                         expected_task_state=(task.RESIZE_REVERTING,)):
                return
            server_ports.bind(s, migration.instance_uuid, migration.source_compute, ctxt)
            migration_db.give_back(s, migration_db.get(s, migration.uuid))
            quota_back(s, migration, keep='old')
            migration_db.set_status(
                s, migration.uuid,
                migration_db.ERROR if rollback or not result.success
                else migration_db.REVERTED, step_id=None)
            if not result.success:
                instance_db.add_fault(s, migration.instance_uuid, 500,
                                      f'Revert failed on {result.host}: {result.error}',
                                      host=result.host)
        LOG.info('Resize of %s %s', migration.instance_uuid,
                 'rolled back' if rollback else 'reverted')

    # --- endings --------------------------------------------------------------------------
    def abort(self, ctxt, migration_uuid: str, message: str, steps: tuple,
              event: str | tuple = (), vm_state: str | None = None, **values) -> bool:
        """The resize did not happen: the server is where it was, as it was (Nova's
        NoValidHost / rollback on a resize: its vm_state again, not ERROR), with a
        fault and an Error event; the new claim goes, the old one is its own again,
        the growth is given back."""
        with session.transaction() as s:
            try:
                migration = migration_db.get(s, migration_uuid)
            except migration_db.MigrationNotFound:
                return False
            if migration.status in migration_db.DONE:
                return False
            vm_state = vm_state or migration.old_vm_state or states.ACTIVE
            if not instance_db.update_if(
                    s, migration.instance_uuid,
                    {'vm_state': vm_state, 'task_state': None, 'task_deadline': None,
                     **source_place(migration), **values},
                    expected_task_state=steps):
                return False
            migration_db.give_back(s, migration)
            quota_back(s, migration, keep='old')
            migration_db.set_status(s, migration_uuid, migration_db.ERROR, step_id=None)
            instance_db.add_fault(s, migration.instance_uuid, 500, message,
                                  host=migration.source_compute)
            for name in (event,) if isinstance(event, str) else event:
                instance_db.record_event(s, migration.instance_uuid, ctxt.request_id,
                                         name, 'Error', details=message)
        LOG.warning('Resize of %s abandoned: %s', migration.instance_uuid, message)
        return True

    # --- confirm / revert (the API and the auto-confirm start them) -----------------------
    def start_confirm(self, ctxt, instance_uuid: str) -> bool:
        return resize.start_confirm(ctxt, self.compute, instance_uuid)

    def confirm_due(self) -> int:
        """Auto-confirm resizes older than [DEFAULT] resize_confirm_window."""
        window = CONF.resize_confirm_window
        if window <= 0:
            return 0
        with session.reader() as s:
            due = [(m.instance_uuid, m.project_id, m.user_id)
                   for m in migration_db.finished_before(s, window)]
        confirmed = 0
        for uuid, project_id, user_id in due:
            ctxt = context.RequestContext(user_id=user_id, project_id=project_id,
                                          is_admin=True, roles=['admin'], overwrite=False)
            if self.start_confirm(ctxt, uuid):
                LOG.info('Resize of %s confirmed automatically after %ss', uuid, window)
                confirmed += 1
        return confirmed

    # --- deletes ---------------------------------------------------------------------------
    @staticmethod
    def forget(s, instance: models.Instance) -> None:
        """The server is deleted in this transaction: its resize ends, the claim its
        migration owns goes, and the quota it held beyond the server's flavor."""
        migration = migration_db.in_flight(s, instance.uuid)
        if migration is None:
            return
        migration_db.free_claims(s, migration.uuid)
        old, new = migration.old_flavor or {}, migration.new_flavor or {}
        quota.release_resize(
            s, migration.project_id or '', migration.user_id or '',
            max(old.get('vcpus') or 0, new.get('vcpus') or 0) - (instance.vcpus or 0),
            max(old.get('memory_mb') or 0, new.get('memory_mb') or 0)
            - (instance.memory_mb or 0))
        migration_db.set_status(s, migration.uuid, migration_db.ERROR, step_id=None)

    def leftovers(self, ctxt, instance: models.Instance) -> None:
        """A deleted server's resize left files (and a guest) on its other host."""
        with session.reader() as s:
            migration = migration_db.in_flight(s, instance.uuid)
            if migration is None:
                return
            other = migration.source_compute if instance.host != migration.source_compute \
                else migration.dest_compute
        if other and other != instance.host:
            LOG.info('Instance %s is deleted during its resize; destroying what is left '
                     'on %s', instance.uuid, other)
            self.compute.terminate_instance(ctxt, other, instance.uuid)


def migration_db_get(uuid: str) -> models.Migration:
    with session.reader() as s:
        return migration_db.get(s, uuid)
