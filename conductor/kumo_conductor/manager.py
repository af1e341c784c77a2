"""The conductor's RPC endpoint: build, reschedule, delete, and agents' reports."""
from __future__ import annotations

import traceback

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import uuidutils
from sqlalchemy import orm

from kumo_common import deadlines, exceptions, lifecycle, network, objects, quota, states
from kumo_common.db import block_devices as bdm_db
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import console_tokens, models, recovery, session, system_metadata
from kumo_common.db import instances as instance_db
from kumo_common.db import scheduling as sched_db
from kumo_common.rpcapi import compute as compute_rpcapi
from kumo_common.rpcapi import scheduler as scheduler_rpcapi
from kumo_conductor import (
    build_faults,
    evacuating,
    images,
    live_migrating,
    power_sync,
    resizing,
    shelving,
    snapshots,
)
from kumo_conductor import ports as server_ports

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

task = states.task


def _message_of(exc: Exception) -> str:
    """An exception's own message. str() of one raised across RPC (a remote
    NoValidHost) also holds the remote traceback, which belongs in an event's
    traceback (admins) rather than in a fault message or details everyone sees."""
    if exc.args and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)


class ConductorManager:
    """Answers kumo_common.rpcapi.conductor.ConductorAPI."""

    target = messaging.Target(version='1.9')

    def __init__(self):
        self.scheduler = scheduler_rpcapi.SchedulerAPI()
        self.compute = compute_rpcapi.ComputeAPI()
        self.resizer = resizing.Resizer(self)

    # --- builds ------------------------------------------------------------------
    def build_instances(self, ctxt, request_spec: objects.RequestSpec) -> None:
        # A scheduling pass first leases its instances (kumo_common.db.recovery): the
        # same build delivered twice, or a queued one the reaper re-drove meanwhile,
        # schedules each instance once.
        token = uuidutils.generate_uuid()
        with session.transaction() as s:
            leased = recovery.lease_scheduling(s, list(request_spec.instance_uuids), token)
        if len(leased) < len(request_spec.instance_uuids):
            LOG.info('Not scheduling %s: deleted, or scheduled by another pass',
                     ', '.join(u for u in request_spec.instance_uuids if u not in leased))
        if not leased:
            return
        request_spec.instance_uuids = leased
        LOG.info('Scheduling %d instance(s): %s', len(request_spec.instance_uuids),
                 ', '.join(request_spec.instance_uuids))
        try:
            selections = self.scheduler.select_destinations(ctxt, request_spec)
        except exceptions.NoValidHost as exc:
            LOG.warning('No valid host for %s: %s', request_spec.instance_uuids,
                        _message_of(exc))
            if request_spec.ignore_hosts:
                # A reschedule that finds no other host: Nova's MaxRetriesExceeded
                # (its alternates are used up), and no conductor event (the failed
                # build's own event tells).
                for uuid in request_spec.instance_uuids:
                    fault = build_faults.hosts_exhausted(uuid)
                    self._fail_build(ctxt, uuid, str(fault), token=token,
                                     trace=build_faults.traceback_of(fault), event=None)
                return
            # Nova's words for the fault and the event (kumo_conductor.build_faults);
            # why no host passed is the scheduling report, and the scheduler's
            # traceback (it came over RPC: oslo.messaging appends it to the text) is
            # the details, for admins.
            message = str(build_faults.no_valid_host(exc))
            trace = traceback.format_exc()
            for uuid in request_spec.instance_uuids:
                self._fail_build(ctxt, uuid, message, code=500, token=token, trace=trace,
                                 event=lifecycle.SCHEDULE_BUILD_EVENT)
            return
        except messaging.MessagingTimeout:
            LOG.error('Scheduler did not answer for %s', request_spec.instance_uuids)
            self._scheduling_lost(ctxt, request_spec.instance_uuids, token)
            return
        except Exception as exc:  # a scheduler bug must not leave servers in BUILD
            LOG.exception('Scheduling %s failed', request_spec.instance_uuids)
            trace = traceback.format_exc()
            for uuid in request_spec.instance_uuids:
                self._fail_build(ctxt, uuid, f'Scheduling failed: {_message_of(exc)}',
                                 free=True, token=token, trace=trace)
            return
        for selection in selections:
            self._dispatch(ctxt, request_spec, selection, token)

    def _scheduling_lost(self, ctxt, uuids: list[str], token: str) -> None:
        """The scheduler did not answer: give the instances back to the reaper, which
        schedules them again when their deadline passes (max_step_redrives times),
        or fail them."""
        for uuid in uuids:
            with session.transaction() as s:
                if recovery.redrives(s, uuid, task.SCHEDULING) \
                        < CONF.conductor.max_step_redrives:
                    if recovery.update_leased(s, uuid, token, {'task_request_id': None},
                                              (task.SCHEDULING,)):
                        # Whatever the scheduler claimed before it went quiet.
                        node_db.free_allocations(s, uuid)
                        LOG.info('Instance %s waits for the reaper to schedule it again',
                                 uuid)
                    continue
            self._fail_build(ctxt, uuid, 'Timed out waiting for the scheduler.', free=True,
                             token=token)

    def _dispatch(self, ctxt, spec: objects.RequestSpec, selection: objects.Selection,
                  token: str | None = None) -> None:
        """Record the chosen host, give the instance its ports, and cast the build."""
        uuid = selection.instance_uuid
        with session.transaction() as s:
            values = {'host': selection.service_host, 'node': selection.nodename,
                      'compute_node_uuid': selection.compute_node_uuid,
                      'cell_name': selection.cell_name, 'task_state': task.NETWORKING,
                      'scheduled_at': models.utcnow()}
            if token is None:
                moved = instance_db.update_if(s, uuid, values,
                                              expected_task_state=(task.SCHEDULING,))
            else:
                moved = recovery.update_leased(s, uuid, token, values, (task.SCHEDULING,))
            if not moved:
                # Deleted, or re-driven by the reaper, while we were scheduling it: give
                # back this pass's claim only (another pass may own the others).
                LOG.info('Instance %s changed while scheduling; releasing its claim', uuid)
                recovery.free_allocation_on(s, uuid, selection.compute_node_uuid)
                return
            # Read here rather than in a transaction of their own (images.boot_images).
            boot_image_ids = images.boot_image_ids(s, uuid)
            groups = system_metadata.security_groups(s, uuid)
        try:
            ports = self._allocate_ports(ctxt, uuid, spec, selection.service_host, groups)
        except exceptions.KumoException as exc:
            # Nova's compute allocates the ports within its build: that event fails.
            self._fail_build(ctxt, uuid, str(exc), free=True, trace=traceback.format_exc(),
                             host=selection.service_host, event=lifecycle.BUILD_EVENT)
            return
        # The kernel and ramdisk images, read before the transaction (they may be
        # image API calls).
        boot_images = images.boot_images(ctxt, uuid, boot_image_ids)
        with session.transaction() as s:
            # Without its tags (the build does not carry them): one statement less.
            instance = instance_db.get_instance(s, uuid,
                                                options=(orm.lazyload(models.Instance.tags),))
            deadline = deadlines.deadline_for(task.SPAWNING)
            if not instance_db.update_if(s, uuid, {'task_state': task.SPAWNING,
                                                   'task_deadline': deadline},
                                         expected_task_state=(task.NETWORKING,)):
                node_db.free_allocations(s, uuid)
                server_ports.release(s, uuid)
                return
            # What the server views and the ip filters read, whichever network
            # service holds the ports.
            server_ports.remember(s, uuid, ports)
            build = self._build_payload(instance, spec, selection, ports, boot_images)
            build.block_devices = bdm_db.local_specs(s, uuid)
            # The agent refuses the build if it gets it after this (it waited in a
            # queue while the reaper rescheduled the server).
            build.deadline = deadline.isoformat()
            instance_db.record_event(s, uuid, ctxt.request_id, lifecycle.BUILD_EVENT,
                                     None, host=selection.service_host)
        LOG.info('Building instance %s on %s', uuid, selection.service_host)
        self.compute.build_and_run_instance(ctxt, selection.service_host, build)

    def _allocate_ports(self, ctxt, uuid: str, spec: objects.RequestSpec,
                        host: str | None = None, security_groups: list[str] | None = None
                        ) -> list[objects.PortSpec]:
        """One port per requested NIC: the user's own port bound to the server, or a
        new port on the network (with the requested fixed IP, else one per subnet;
        in the server's security groups)."""
        result = []
        nics = spec.network_requests or [objects.NetworkRequest(network_id=n)
                                         for n in spec.requested_networks]
        api = network.api()
        for nic in nics:
            result.append(api.allocate_for_instance(ctxt, uuid, spec.project_id, host, nic,
                                                    security_groups))
        # Device tags (2.32, 2.42+) live with the port ids they were given to, as
        # Nova's virtual interfaces keep them: os-interface shows them from 2.70.
        tagged = [(port.id, nic.tag) for nic, port in zip(nics, result, strict=True) if nic.tag]
        if tagged:
            with session.transaction() as s:
                for port_id, tag in tagged:
                    system_metadata.set_interface_tag(s, uuid, port_id, tag)
        return result

    @staticmethod
    def _build_payload(instance: models.Instance, spec: objects.RequestSpec,
                       selection: objects.Selection, ports: list[objects.PortSpec],
                       boot_images: tuple | None = None) -> objects.InstanceBuild:
        kernel, ramdisk = boot_images if boot_images is not None else (
            images.boot_image(instance, instance.kernel_id),
            images.boot_image(instance, instance.ramdisk_id))
        return objects.InstanceBuild(
            uuid=instance.uuid, name=instance.display_name or '',
            hostname=instance.hostname or '', project_id=instance.project_id,
            user_id=instance.user_id, flavor=spec.flavor, image=spec.image,
            node_uuid=selection.compute_node_uuid,
            metadata={m.key: m.value for m in instance.metadata_items},
            user_data=instance.user_data, key_data=instance.key_data,
            config_drive=bool(instance.config_drive),
            admin_password=instance.admin_password, ports=ports,
            availability_zone=instance.availability_zone,
            attempt=len(spec.ignore_hosts) + 1,
            instance_name='instance-%08x' % instance.id, key_name=instance.key_name,
            kernel=kernel, ramdisk=ramdisk,
            files=system_metadata.injected_files(instance))

    def build_finished(self, ctxt, result: objects.BuildResult) -> None:
        uuid = result.instance_uuid
        if result.success:
            with session.transaction() as s:
                done = instance_db.update_if(
                    s, uuid,
                    {'vm_state': states.ACTIVE, 'task_state': None,
                     'power_state': result.power_state, 'launched_at': models.utcnow(),
                     'progress': 0, 'task_deadline': None, 'admin_password': None},
                    expected_task_state=(task.SPAWNING,))
                instance_db.record_event(s, uuid, ctxt.request_id,
                                         lifecycle.BUILD_EVENT, 'Success',
                                         host=result.host)
                sched_db.record_build_result(s, result.host, success=True)
            if done:
                LOG.info('Instance %s is ACTIVE on %s', uuid, result.host)
            else:
                LOG.info('Instance %s finished building on %s but was changed meanwhile',
                         uuid, result.host)
                self._destroy_if_stray(ctxt, uuid, result.host)
            return
        LOG.warning('Build of %s failed on %s: %s', uuid, result.host, result.error)
        with session.transaction() as s:
            # The BuildFailureWeigher steers the next builds away from this host.
            sched_db.record_build_result(s, result.host, success=False)
        self._reschedule_or_fail(ctxt, uuid, result)

    def _reschedule_or_fail(self, ctxt, uuid: str, result: objects.BuildResult) -> None:
        """Try the instance on another host while attempts remain, else fail it."""
        spec = None
        out_of_attempts = False
        with session.transaction() as s:
            record = s.query(models.RequestSpecRecord).filter_by(instance_uuid=uuid).first()
            if record is not None and result.reschedulable:
                spec = objects.Payload.from_primitive(record.spec)
                attempts = len(spec.ignore_hosts) + 1
                out_of_attempts = attempts >= CONF.scheduler.max_attempts
                if attempts < CONF.scheduler.max_attempts and instance_db.update_if(
                        s, uuid, {'task_state': task.SCHEDULING, 'host': None, 'node': None,
                                  'task_request_id': None},
                        expected_task_state=(task.SPAWNING,)):
                    node_db.free_allocations(s, uuid)
                    server_ports.release(s, uuid)
                    spec.ignore_hosts = list(spec.ignore_hosts) + [result.host]
                    spec.instance_uuids = [uuid]
                    record.spec = spec.to_primitive()
                    instance_db.record_event(s, uuid, ctxt.request_id,
                                             lifecycle.BUILD_EVENT, 'Error',
                                             host=result.host, details=result.error,
                                             traceback=result.traceback)
                else:
                    spec = None
        if spec is not None:
            LOG.info('Rescheduling %s away from %s (attempt %d of %d)', uuid, result.host,
                     len(spec.ignore_hosts) + 1, CONF.scheduler.max_attempts)
            self.build_instances(ctxt, spec)
            return
        message, trace = self._build_failure(uuid, result, out_of_attempts)
        self._fail_build(ctxt, uuid, message, free=True, host=result.host, trace=trace,
                         failed_build=result)

    @staticmethod
    def _build_failure(uuid: str, result: objects.BuildResult,
                       out_of_attempts: bool) -> tuple[str, str | None]:
        """The fault message of a build that failed for good, and its details (None:
        the agent's traceback), as Nova's (kumo_conductor.build_faults)."""
        if not result.reschedulable:
            return build_faults.aborted(uuid, result.error), None
        if out_of_attempts and CONF.scheduler.max_attempts > 1:
            fault = build_faults.attempts_exceeded(uuid, CONF.scheduler.max_attempts,
                                                   result.error)
            return str(fault), build_faults.traceback_of(fault)
        # Rescheduling disabled (max_attempts 1): the host's error as it is.
        return result.error or '', None

    def _fail_build(self, ctxt, uuid: str, message: str, code: int = 500,
                    free: bool = False, host: str | None = None,
                    token: str | None = None, trace: str | None = None,
                    failed_build: objects.BuildResult | None = None,
                    event: str | None = lifecycle.SCHEDULE_BUILD_EVENT) -> None:
        """ERROR with a fault; `token`: only if that scheduling pass owns it.

        `event` (None: none) ends in 'Error' with the message as details and `trace`
        (the exception that failed the step) as traceback; `failed_build`, the
        agent's report of the last attempt, finishes that build's event instead.
        """
        values = {'vm_state': states.ERROR, 'task_state': None, 'task_deadline': None}
        steps = (task.SCHEDULING, task.NETWORKING, task.SPAWNING)
        with session.transaction() as s:
            if token is None:
                changed = instance_db.update_if(s, uuid, values, expected_task_state=steps)
            else:
                changed = recovery.update_leased(s, uuid, token, values, steps)
            if not changed:
                return
            if failed_build is not None:
                trace = trace or failed_build.traceback
            # The traceback is the fault's details too, as Nova's (admins see them).
            instance_db.add_fault(s, uuid, code, message, host=host, details=trace)
            if failed_build is not None:
                # (As Nova's: no conductor event after a build its compute failed.)
                instance_db.record_event(s, uuid, ctxt.request_id,
                                         lifecycle.BUILD_EVENT, 'Error',
                                         host=failed_build.host, details=failed_build.error,
                                         traceback=failed_build.traceback)
            elif event is not None:
                instance_db.record_event(s, uuid, ctxt.request_id, event, 'Error',
                                         host=host, details=message, traceback=trace)
            if free:
                node_db.free_allocations(s, uuid)
                server_ports.release(s, uuid)

    # --- deletes -----------------------------------------------------------------
    def delete_instance(self, ctxt, instance_uuid: str) -> None:
        with session.reader() as s:
            try:
                instance = instance_db.get_instance(s, instance_uuid, read_deleted=False)
            except exceptions.InstanceNotFound:
                return
        if instance.host:
            LOG.info('Asking %s to destroy instance %s', instance.host, instance_uuid)
            live_migrating.leftovers(self, ctxt, instance)
            self.compute.terminate_instance(ctxt, instance.host, instance_uuid)
            self.resizer.leftovers(ctxt, instance)
        else:
            self._finish_delete(ctxt, instance_uuid, None)

    def _destroy_if_stray(self, ctxt, uuid: str, host: str) -> None:
        """A build finished on `host` after the server was rescheduled elsewhere (the
        reaper took the host for dead): that guest is a second one; destroy it."""
        with session.reader() as s:
            try:
                instance = instance_db.get_instance(s, uuid)
            except exceptions.InstanceNotFound:
                instance = None
        if instance is not None and instance.host == host:
            return  # its own guest (e.g. the server was failed meanwhile): kept
        LOG.warning('Instance %s now lives on %s; destroying the guest %s built late',
                    uuid, instance.host if instance else None, host)
        self.compute.terminate_instance(ctxt, host, uuid)

    def instance_destroyed(self, ctxt, instance_uuid: str, host: str) -> None:
        with session.reader() as s:
            try:
                instance = instance_db.get_instance(s, instance_uuid, read_deleted=False)
            except exceptions.InstanceNotFound:
                return
        # Only the server's own host, destroying it for a delete, completes the delete;
        # the report of a stray guest destroyed elsewhere changes nothing.
        if instance.task_state != task.DELETING or (host and instance.host
                                                    and instance.host != host):
            LOG.info('Host %s destroyed a guest of instance %s (on %s, task %s); nothing '
                     'to record', host, instance_uuid, instance.host, instance.task_state)
            return
        self._finish_delete(ctxt, instance_uuid, host)

    def _finish_delete(self, ctxt, uuid: str, host: str | None) -> None:
        with session.transaction() as s:
            if instance_db.mark_deleted(s, uuid):
                node_db.free_allocations(s, uuid)
                server_ports.release(s, uuid)
                instance_db.record_event(s, uuid, ctxt.request_id, lifecycle.TERMINATE_EVENT,
                                         'Success', host=host)
                # In the transaction that marks it deleted, and last: quota rows are
                # locked after every other row (kumo_common.quota).
                instance = instance_db.get_instance(s, uuid)
                # A resize in flight ends with it (its claim, the quota it held).
                resizing.Resizer.forget(s, instance)
                evacuating.forget(s, uuid)
                live_migrating.forget(s, uuid)
                quota.release_instance(s, instance)
        # A shelved server's image goes with it, as Nova's.
        shelving.forget(ctxt, uuid)
        LOG.info('Instance %s deleted', uuid)

    # --- resize (kumo_conductor.resizing) ---------------------------------------------
    def migrate_server(self, ctxt, instance_uuid: str, migration_uuid: str) -> None:
        self.resizer.migrate_server(ctxt, instance_uuid, migration_uuid)

    def migration_step_finished(self, ctxt, result: objects.MigrationStepResult) -> None:
        if result.step in live_migrating.STEPS:
            live_migrating.step_finished(self, ctxt, result)
            return
        self.resizer.step_finished(ctxt, result)

    def confirm_resizes(self, ctxt=None) -> int:
        """The periodic auto-confirm ([DEFAULT] resize_confirm_window)."""
        return self.resizer.confirm_due()

    # --- lifecycle actions ---------------------------------------------------------
    def action_finished(self, ctxt, instance_uuid: str, host: str, action: str,
                        success: bool, power_state: int, error: str | None = None,
                        result: objects.ActionResult | None = None,
                        traceback: str | None = None) -> None:
        """Record where a lifecycle action left the server (a failure's `traceback`
        goes on its event)."""
        if action == 'evacuate':  # (kumo_conductor.evacuating)
            evacuating.finished(self, ctxt, instance_uuid, host, success, power_state, error,
                                traceback)
            return
        if action == lifecycle.CRASH_DUMP_ACTION:
            # Outside the table: no task_state to end, no state to change, only the
            # host's event.
            with session.transaction() as s:
                instance_db.record_event(s, instance_uuid, ctxt.request_id,
                                         lifecycle.CRASH_DUMP_EVENT,
                                         'Success' if success else 'Error', host=host,
                                         details=error, traceback=traceback)
            LOG.info('Crash dump of instance %s on %s: %s', instance_uuid, host,
                     'NMI sent' if success else f'failed ({error})')
            return
        spec = lifecycle.get(action)
        values: dict = {'task_state': None, 'power_state': power_state,
                        'task_deadline': None}
        shelve_image = None
        with session.transaction() as s:
            try:
                instance = instance_db.get_instance(s, instance_uuid)
            except exceptions.InstanceNotFound:
                instance = None
            # (read before the update: the state the action started from)
            current_vm_state = instance.vm_state if instance is not None else None
            if success:
                current = current_vm_state
                values['vm_state'] = spec.vm_state_after(current)
                if spec.done_vm_state == states.SOFT_DELETED:
                    values['deleted_at'] = models.utcnow()
                elif action == 'restore':
                    values['deleted_at'] = None
            elif spec.error_vm_state is not None:
                values['vm_state'] = spec.error_vm_state
            if action in shelving.ACTIONS:
                values.update(shelving.outcome(action, instance, success, result))
                shelve_image = shelving.shelved_image_id(s, instance_uuid)
            changed = instance_db.update_if(s, instance_uuid, values,
                                            expected_task_state=spec.task_states)
            if changed and action in shelving.ACTIONS:
                shelving.settle(s, action, instance, host, success, result, ctxt)
            instance_db.record_event(s, instance_uuid, ctxt.request_id,
                                     spec.event_for(current_vm_state),
                                     'Success' if success else 'Error', host=host,
                                     details=error, traceback=traceback)
            if not success and changed:
                instance_db.add_fault(s, instance_uuid, 500,
                                      f'{action} failed on {host}: {error}', host=host,
                                      details=traceback)
        if spec.instance_action in ('createImage', 'createBackup'):
            snapshots.finish(instance_uuid, success and changed, result, ctxt)
        if action in shelving.ACTIONS:
            shelving.after(ctxt, action, instance_uuid, success, changed, result,
                           shelve_image)
        LOG.info('%s of instance %s on %s: %s', action, instance_uuid, host,
                 'done' if success else f'failed ({error})')

    # --- evacuate (kumo_conductor.evacuating) ----------------------------------------
    def evacuate_server(self, ctxt, instance_uuid: str, migration_uuid: str,
                        host: str | None, force: bool, start: bool,
                        on_shared_storage: bool = False) -> None:
        evacuating.evacuate_server(self, ctxt, instance_uuid, migration_uuid, host, force,
                                   start, on_shared_storage)

    def evacuations_from(self, ctxt, host: str) -> list[dict]:
        return evacuating.evacuations_from(host)

    def evacuations_cleaned(self, ctxt, host: str, migration_uuids: list[str]) -> None:
        evacuating.evacuations_cleaned(host, migration_uuids)

    # --- live migration (kumo_conductor.live_migrating) ------------------------------
    def live_migrate_server(self, ctxt, instance_uuid: str, migration_uuid: str,
                            host: str | None, force: bool, block_migration: bool | None
                            ) -> str | None:
        return live_migrating.live_migrate_server(self, ctxt, instance_uuid, migration_uuid,
                                                  host, force, block_migration)

    def live_migration_progress(self, ctxt, migration_uuid: str,
                                progress: objects.LiveMigrationProgress) -> None:
        live_migrating.progress(migration_uuid, progress)

    # --- shelve (kumo_conductor.shelving) --------------------------------------------
    def unshelve_instance(self, ctxt, instance_uuid: str) -> None:
        shelving.unshelve_offloaded(ctxt, self, instance_uuid)

    def task_progress(self, ctxt, instance_uuid: str, host: str, task_state: str) -> None:
        shelving.progress(instance_uuid, host, task_state)

    def offload_shelved(self, ctxt) -> int:
        """Offload servers shelved longer than [DEFAULT] shelved_offload_time."""
        return shelving.offload_shelved(self)

    def discard_snapshot(self, ctxt, instance_uuid: str) -> None:
        """The reaper gave up on a createImage/createBackup: its image goes."""
        snapshots.finish(instance_uuid, False, None, ctxt)

    def clean_expired_console_tokens(self, ctxt) -> int:
        """Drop the remote consoles' expired tokens (Nova's compute does it every
        instance_delete_interval); how many went."""
        with session.transaction() as s:
            return console_tokens.delete_expired(s)

    def reclaim_soft_deleted(self, ctxt) -> int:
        """Delete soft-deleted servers older than reclaim_instance_interval.

        Nova does this on each compute node; here the conductor decides and tells the
        agent, so a host that is down cannot keep a server soft-deleted forever.
        """
        interval = CONF.reclaim_instance_interval
        if interval <= 0:
            return 0
        with session.reader() as s:
            uuids = instance_db.soft_deleted_before(s, interval)
        reclaimed = 0
        for uuid in uuids:
            with session.transaction() as s:
                # Only one conductor wins the conditional update for a given server.
                if not instance_db.update_if(s, uuid, {'task_state': task.DELETING},
                                             expected_task_state=(None,),
                                             expected_vm_state=(states.SOFT_DELETED,)):
                    continue
                instance_db.start_action(s, uuid, 'delete', ctxt)
            LOG.info('Reclaiming soft-deleted instance %s', uuid)
            self.delete_instance(ctxt, uuid)
            reclaimed += 1
        return reclaimed

    # --- compute agents' reports ---------------------------------------------------
    def sync_power_states(self, ctxt, report: objects.PowerStateReport
                          ) -> objects.PowerSyncResult:
        """Nova's power state sync rules on an agent's report (power_sync.py)."""
        return power_sync.PowerSync(self.compute).apply(ctxt, report)

    def register_node(self, ctxt, report: objects.NodeReport) -> dict:
        with session.transaction() as s:
            node = self._upsert_node(s, report)
            result = {'node_uuid': node.uuid, 'service_id': node.service_id}
        LOG.info('Compute node %s (%s) registered on host %s', report.node_uuid,
                 report.hypervisor_hostname, report.host)
        return result

    def report_node(self, ctxt, report: objects.NodeReport) -> None:
        with session.transaction() as s:
            self._upsert_node(s, report)

    @staticmethod
    def _upsert_node(s, report: objects.NodeReport) -> models.ComputeNode:
        return node_db.upsert_node(s, report, CONF.default_availability_zone)
