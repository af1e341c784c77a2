"""The compute agent's RPC endpoint: build and destroy guests, report results."""
from __future__ import annotations

import threading
import traceback
from collections import defaultdict

import oslo_messaging as messaging
from oslo_log import log as logging

from kumo_common import exceptions, lifecycle, objects, states
from kumo_common.rpcapi import conductor as conductor_rpcapi
from kumo_compute import consoles, image_upload, ledger, migration_progress
from kumo_compute.virt.driver import ComputeDriver, LiveMigrationAborted

LOG = logging.getLogger(__name__)


class ComputeManager:
    """Answers kumo_common.rpcapi.compute.ComputeAPI for one host."""

    target = messaging.Target(version='1.13')

    def __init__(self, host: str, driver: ComputeDriver,
                 conductor: conductor_rpcapi.ConductorAPI):
        self.host = host
        self.driver = driver
        self.conductor = conductor
        # One operation at a time per instance: a delete that arrives during a build
        # waits for it, then destroys what was built.
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self._terminated: set[str] = set()
        # Every operation keyed by instance and request/attempt: casts delivered twice
        # run once, and the conductor's reaper can ask what became of one.
        self.ledger = ledger.Ledger()
        # Ready before any live migration's copy, which it reports on.
        migration_progress.start()

    def _lock(self, uuid: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks[uuid]

    def instance_lock(self, uuid: str) -> threading.Lock:
        """The lock every operation on the instance holds (power sync takes it too)."""
        return self._lock(uuid)

    def build_and_run_instance(self, ctxt, build: objects.InstanceBuild) -> None:
        key = ledger.build_key(build.attempt)
        if ledger.expired(build.deadline):
            LOG.warning('Build of instance %s (attempt %d) arrived after its deadline %s; '
                        'refused: the conductor has rescheduled or failed it',
                        build.uuid, build.attempt, build.deadline)
            return
        verdict = self.ledger.begin(build.uuid, key, 'build')
        if verdict == ledger.DONE:
            record = self.ledger.build_record(build.uuid)
            LOG.info('Build of instance %s (attempt %d) was done already; reporting it '
                     'again', build.uuid, build.attempt)
            self.conductor.build_finished(ctxt, objects.BuildResult(
                instance_uuid=build.uuid, host=self.host, success=record['success'],
                power_state=record['power_state'], error=record['error'],
                traceback=record.get('traceback')))
            return
        if verdict != ledger.GO:
            LOG.info('Build of instance %s (attempt %d) is %s; not building it again',
                     build.uuid, build.attempt, verdict)
            return
        result = None
        try:
            result = self._build(build)
        finally:
            record = None if result is None else {
                'attempt': build.attempt, 'success': result.success,
                'error': result.error, 'power_state': result.power_state}
            if result is not None and result.traceback:
                record['traceback'] = result.traceback  # so a report sent again has it
            self.ledger.finish(build.uuid, key, record)
        if result is not None:
            self.conductor.build_finished(ctxt, result)

    def _build(self, build: objects.InstanceBuild) -> objects.BuildResult | None:
        with self._lock(build.uuid):
            if build.uuid in self._terminated:
                LOG.info('Instance %s was deleted before its build started', build.uuid)
                return None
            if build.uuid in self.driver.list_instances():
                # Built here already (e.g. before the agent restarted): not twice.
                LOG.info('Instance %s already has a guest on this host; not building it '
                         'again', build.uuid)
                return objects.BuildResult(instance_uuid=build.uuid, host=self.host,
                                           success=True,
                                           power_state=self.driver.power_state(build.uuid))
            LOG.info('Spawning instance %s (%s)', build.uuid, build.name)
            try:
                self.driver.spawn(build)
            except Exception as exc:
                LOG.exception('Spawn of %s failed', build.uuid)
                # Taken before the clean-up below can raise and replace it.
                trace = traceback.format_exc()
                try:
                    self.driver.destroy(build.uuid)
                except Exception:  # the failure must be reported whatever happens here
                    LOG.exception('Cleaning up the failed spawn of %s failed', build.uuid)
                return objects.BuildResult(instance_uuid=build.uuid, host=self.host,
                                           success=False,
                                           error=str(exc) or type(exc).__name__,
                                           traceback=trace)
            return objects.BuildResult(instance_uuid=build.uuid, host=self.host,
                                       success=True,
                                       power_state=self.driver.power_state(build.uuid))

    def terminate_instance(self, ctxt, instance_uuid: str) -> None:
        # Idempotent: a terminate sent again (the reaper re-drives a delete whose report
        # was lost) destroys nothing more and reports again.
        if self.ledger.begin(instance_uuid, ledger.TERMINATE, 'terminate') != ledger.GO:
            LOG.info('Instance %s is being destroyed already', instance_uuid)
            return
        try:
            with self._lock(instance_uuid):
                LOG.info('Destroying instance %s', instance_uuid)
                self._terminated.add(instance_uuid)
                self.driver.destroy(instance_uuid)
        finally:
            self.ledger.finish(instance_uuid, ledger.TERMINATE)
        self.conductor.instance_destroyed(ctxt, instance_uuid, self.host)

    def perform_action(self, ctxt, instance_uuid: str, action: str,
                       params: objects.ActionParams | None = None) -> None:
        """Run one lifecycle action on the guest and report the outcome (once per
        request id: the same request delivered again reports the same outcome)."""
        spec = lifecycle.get(action)
        key = ledger.action_key(ctxt.request_id)
        verdict = self.ledger.begin(instance_uuid, key, action)
        if verdict == ledger.DONE:
            record = self.ledger.action_record(instance_uuid, ctxt.request_id)
            self.conductor.action_finished(ctxt, instance_uuid, self.host, action,
                                           record['success'], record['power_state'],
                                           record['error'], _result_of(record),
                                           traceback=record.get('traceback'))
            return
        if verdict != ledger.GO:
            LOG.info('%s of instance %s (%s) is %s; not running it again', action,
                     instance_uuid, ctxt.request_id, verdict)
            return
        error, power_state, result = 'interrupted', states.power.NOSTATE, None
        trace = None
        try:
            with self._lock(instance_uuid):
                LOG.info('Running %s on instance %s', action, instance_uuid)
                try:
                    call = getattr(self.driver, spec.driver_call)
                    if image_upload.needs_upload(params):
                        # An external Glance: the driver writes the snapshot to a
                        # scratch file, uploaded before the outcome is reported.
                        call = image_upload.uploading(ctxt, call)
                    if spec.step_task_states:
                        # Each step shows as the server's task_state (shelve's).
                        result = call(instance_uuid, params or objects.ActionParams(),
                                      progress=lambda step: self.conductor.task_progress(
                                          ctxt, instance_uuid, self.host, step))
                    elif spec.takes_params:
                        result = call(instance_uuid, params or objects.ActionParams())
                    else:
                        call(instance_uuid)
                    error = None
                except Exception as exc:
                    LOG.exception('%s of %s failed', action, instance_uuid)
                    error = str(exc) or type(exc).__name__
                    trace = traceback.format_exc()
                power_state = self.driver.power_state(instance_uuid)
        finally:
            record = {'action': action, 'success': error is None, 'error': error,
                      'power_state': power_state}
            if result is not None:
                record['result'] = result.to_primitive()
            if trace is not None:
                record['traceback'] = trace
            self.ledger.finish(instance_uuid, key, record)
        self.conductor.action_finished(ctxt, instance_uuid, self.host, action,
                                       error is None, power_state, error, result,
                                       traceback=trace)

    # --- resize (compute RPC 1.5): one step each, reported to the conductor ------------
    def resize_instance(self, ctxt, step: objects.MigrationStep) -> None:
        """Source: power the guest off and put its files aside (for the destination);
        a resize the driver cannot do is refused first, the guest left running."""
        self._migration_step(ctxt, step, self._resize_source)

    def _resize_source(self, instance_uuid: str, step: objects.MigrationStep) -> str | None:
        self.driver.check_resize(step)
        return self.driver.migrate_disk_and_power_off(instance_uuid, step)

    def finish_resize(self, ctxt, step: objects.MigrationStep) -> None:
        """Destination: the guest with its new flavor, from the files put aside."""
        self._migration_step(ctxt, step, self.driver.finish_migration)

    def confirm_resize(self, ctxt, step: objects.MigrationStep) -> None:
        """Source: the old guest's files go."""
        self._migration_step(ctxt, step, self.driver.confirm_migration)

    def revert_resize(self, ctxt, step: objects.MigrationStep) -> None:
        """Destination: the new guest goes."""
        self._migration_step(ctxt, step, self.driver.destroy_migrated)

    def finish_revert_resize(self, ctxt, step: objects.MigrationStep) -> None:
        """Source: the old guest back, as it was."""
        self._migration_step(ctxt, step, self.driver.finish_revert_migration)

    # --- live migration (compute RPC 1.13): steps reported as the resize's -------------
    def pre_live_migration(self, ctxt, step: objects.MigrationStep) -> None:
        """Destination: ready to receive the running guest."""
        self._migration_step(ctxt, step, self.driver.pre_live_migration)

    def live_migration(self, ctxt, step: objects.MigrationStep) -> None:
        """Source: the running guest moves to the destination (this holds the
        instance's lock while the guest's memory and disks are copied, and reports
        the copy's progress meanwhile: kumo_compute.migration_progress)."""
        def copy(instance_uuid: str, step: objects.MigrationStep) -> None:
            with migration_progress.reporting(self.driver, self.conductor, ctxt, step):
                return self.driver.live_migration(instance_uuid, step)

        self._migration_step(ctxt, step, copy)

    def post_live_migration_at_destination(self, ctxt, step: objects.MigrationStep) -> None:
        """Destination: the guest that arrived is this host's."""
        self._migration_step(ctxt, step, self.driver.post_live_migration_at_destination)

    def rollback_live_migration_at_destination(self, ctxt, step: objects.MigrationStep
                                               ) -> None:
        """Destination: what pre_live_migration made goes."""
        self._migration_step(ctxt, step, self.driver.rollback_live_migration_at_destination)

    def live_migration_abort(self, ctxt, instance_uuid: str, migration_uuid: str) -> None:
        """Stop a live migration in progress. Not under the instance's lock: the
        live_migration step holds it until the migration ends, which this makes
        happen (its report then says it was aborted)."""
        LOG.info('Aborting the live migration %s of instance %s', migration_uuid,
                 instance_uuid)
        try:
            self.driver.live_migration_abort(instance_uuid)
        except Exception:
            LOG.exception('Aborting the live migration of %s failed', instance_uuid)

    def live_migration_force_complete(self, ctxt, instance_uuid: str) -> None:
        """Have a live migration in progress finish (not under the lock either)."""
        LOG.info('Forcing the live migration of instance %s to complete', instance_uuid)
        try:
            self.driver.live_migration_force_complete(instance_uuid)
        except Exception:
            LOG.exception('Forcing the live migration of %s to complete failed',
                          instance_uuid)

    def _migration_step(self, ctxt, step: objects.MigrationStep, call) -> None:
        """Run one resize or live migration step once per step id (a step delivered
        again reports its recorded outcome; one the reaper fenced is refused), then
        report it."""
        uuid = step.instance_uuid
        key = ledger.action_key(step.step_id)
        verdict = self.ledger.begin(uuid, key, step.step)
        if verdict == ledger.DONE:
            record = self.ledger.action_record(uuid, step.step_id)
            self._report_step(ctxt, step, record)
            return
        if verdict != ledger.GO:
            LOG.info('%s of instance %s (%s) is %s; not running it again', step.step, uuid,
                     step.step_id, verdict)
            return
        record = {'action': step.step, 'success': False, 'error': 'interrupted',
                  'power_state': states.power.NOSTATE, 'source_path': None}
        try:
            with self._lock(uuid):
                LOG.info('Running %s of instance %s (migration %s)', step.step, uuid,
                         step.migration_uuid)
                try:
                    if uuid in self._terminated:
                        # Deleted meanwhile: no guest is made again here.
                        raise RuntimeError(f'Instance {uuid} was deleted')
                    record['source_path'] = call(uuid, step)
                    record['success'], record['error'] = True, None
                except LiveMigrationAborted as exc:
                    LOG.info('%s', exc)
                    record['error'], record['aborted'] = str(exc), True
                except Exception as exc:
                    LOG.exception('%s of %s failed', step.step, uuid)
                    record['error'] = str(exc) or type(exc).__name__
                record['power_state'] = self.driver.power_state(uuid)
        finally:
            self.ledger.finish(uuid, key, record)
        self._report_step(ctxt, step, record)

    def _report_step(self, ctxt, step: objects.MigrationStep, record: dict) -> None:
        self.conductor.migration_step_finished(ctxt, objects.MigrationStepResult(
            migration_uuid=step.migration_uuid, instance_uuid=step.instance_uuid,
            step=step.step, step_id=step.step_id, host=self.host,
            success=record['success'], power_state=record['power_state'],
            error=record['error'], source_path=record.get('source_path'),
            aborted=record.get('aborted', False)))

    # --- evacuate: this host returns after its servers were evacuated away -------------
    def destroy_evacuated(self, ctxt) -> list[str]:
        """At start-up, before the power sync: destroy the local guests of servers
        evacuated away while this host was down, and report them cleaned (their
        migrations are completed and this host's claims given back), as Nova's
        _destroy_evacuated_instances. Returns the instances destroyed. Also an RPC
        cast (1.12): the conductor sends it when an evacuation that was still under
        way at this agent's start-up has ended."""
        evacuations = self.conductor.evacuations_from(ctxt, self.host)
        if not evacuations:
            return []
        destroyed = []
        for evacuation in evacuations:
            uuid = evacuation['instance_uuid']
            # The driver's call: a guest left here, or only its files (on libvirt, a
            # host whose domains died with it), never what is another host's.
            with self._lock(uuid):
                if self.driver.cleanup_evacuated(uuid):
                    LOG.info('Destroyed what was left here of instance %s: it was '
                             'evacuated from this host', uuid)
                    destroyed.append(uuid)
        self.conductor.evacuations_cleaned(ctxt, self.host,
                                           [e['migration_uuid'] for e in evacuations])
        return destroyed

    def get_console_output(self, ctxt, instance_uuid: str, length: int | None = None
                           ) -> str | None:
        """The guest's console log; None when this driver keeps none (API: 501)."""
        try:
            return self.driver.get_console_output(instance_uuid, length)
        except NotImplementedError:
            return None

    @messaging.expected_exceptions(exceptions.ConsoleTypeUnavailable)
    def get_serial_console(self, ctxt, instance_uuid: str) -> dict | None:
        """Host and port of the guest's serial console (kumo_compute.consoles)."""
        return consoles.serial_console(self.driver, instance_uuid)

    @messaging.expected_exceptions(exceptions.ConsoleTypeUnavailable)
    def get_vnc_console(self, ctxt, instance_uuid: str) -> dict | None:
        """Host and port of the guest's VNC server (kumo_compute.consoles)."""
        return consoles.vnc_console(self.driver, instance_uuid)

    def get_host_uptime(self, ctxt) -> str | None:
        """The host's `uptime` line; None when this driver cannot tell (API: 501)."""
        try:
            return self.driver.get_host_uptime()
        except NotImplementedError:
            return None

    @messaging.expected_exceptions(exceptions.InstanceInvalidState)
    def get_instance_diagnostics(self, ctxt, instance_uuid: str
                                 ) -> objects.InstanceDiagnostics | None:
        """What the driver tells of the guest, which must be running (as Nova's
        manager: a guest in any other power state, or none, is refused); None when
        this driver cannot tell (API: 501)."""
        current = self.driver.power_state(instance_uuid)
        if current != states.power.RUNNING:
            raise exceptions.InstanceInvalidState(
                action='get_diagnostics', instance_uuid=instance_uuid,
                attr='power state', state=states.power.NAMES.get(current, current))
        try:
            return self.driver.get_instance_diagnostics(instance_uuid)
        except NotImplementedError:
            return None

    @messaging.expected_exceptions(exceptions.InterfaceAttachFailed)
    def attach_interface(self, ctxt, instance_uuid: str, port: objects.PortSpec) -> None:
        """Hot-plug one port into the guest (compute RPC 1.9, a call): whatever the
        driver fails with is Nova's InterfaceAttachFailed, for the API to roll back."""
        with self._lock(instance_uuid):
            LOG.info('Attaching port %s (%s) to instance %s', port.id, port.mac_address,
                     instance_uuid)
            try:
                self.driver.attach_interface(instance_uuid, port)
            except Exception as exc:
                LOG.exception('Attaching port %s to %s failed', port.id, instance_uuid)
                raise exceptions.InterfaceAttachFailed(instance_uuid=instance_uuid) from exc

    @messaging.expected_exceptions(exceptions.InterfaceDetachFailed)
    def detach_interface(self, ctxt, instance_uuid: str, port: objects.PortSpec) -> None:
        """Unplug one port from the guest (compute RPC 1.9, a call)."""
        with self._lock(instance_uuid):
            LOG.info('Detaching port %s (%s) from instance %s', port.id, port.mac_address,
                     instance_uuid)
            try:
                self.driver.detach_interface(instance_uuid, port)
            except Exception as exc:
                LOG.exception('Detaching port %s from %s failed', port.id, instance_uuid)
                raise exceptions.InterfaceDetachFailed(instance_uuid=instance_uuid) from exc

    def trigger_crash_dump(self, ctxt, instance_uuid: str) -> None:
        """Send the guest an NMI (compute RPC 1.11, a cast) and report the outcome as
        the action's event: the guest's state is left as it is, whatever happens."""
        action = lifecycle.CRASH_DUMP_ACTION
        error = trace = None
        with self._lock(instance_uuid):
            LOG.info('Triggering a crash dump of instance %s', instance_uuid)
            try:
                self.driver.trigger_crash_dump(instance_uuid)
            except Exception as exc:
                LOG.warning('Crash dump of %s failed: %s', instance_uuid, exc)
                error = str(exc) or type(exc).__name__
                trace = traceback.format_exc()
            power_state = self.driver.power_state(instance_uuid)
        self.conductor.action_finished(ctxt, instance_uuid, self.host, action,
                                       error is None, power_state, error,
                                       traceback=trace)

    def check_instance(self, ctxt, instance_uuid: str, build_attempt: int | None = None,
                       request_id: str | None = None, fence: bool = False
                       ) -> objects.GuestCheck:
        """What this agent knows of the instance, for the conductor's reaper."""
        known = self.ledger.check(instance_uuid, build_attempt, request_id, fence)
        exists = instance_uuid in self.driver.list_instances()
        if known.fenced:
            LOG.warning('Instance %s: %s never reached this host; it will be refused '
                        'should it arrive', instance_uuid,
                        f'build attempt {build_attempt}' if build_attempt is not None
                        else f'request {request_id}')
        return objects.GuestCheck(
            host=self.host, instance_uuid=instance_uuid, exists=exists,
            power_state=self.driver.power_state(instance_uuid) if exists
            else states.power.NOSTATE,
            busy=known.busy, build=known.build, actions=known.actions,
            fenced=known.fenced)


def _result_of(record: dict) -> objects.ActionResult | None:
    """The ActionResult a ledger record keeps (as a primitive: records cross RPC)."""
    primitive = record.get('result')
    return objects.Payload.from_primitive(primitive) if primitive else None
