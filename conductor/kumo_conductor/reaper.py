"""The deadline reaper: no server stays in a task_state past its deadline.

Every task_state carries a deadline (kumo_common.deadlines). When one passes, the
reaper takes the step (pushes its deadline on, conditionally: of several conductors
one acts, kumo_common.db.recovery.take_overdue) and then re-drives it where that is
safe, or ends it truthfully with a fault naming the step and the host:

* scheduling / networking (nothing was sent to a host yet: the conductor died, a
  message was lost, the scheduler did not answer): the claims and ports are given
  back, in the same transaction as the step goes back to scheduling, and the server
  is scheduled again from its stored request spec, at most [conductor]
  max_step_redrives times; then it fails.
* spawning: the agent is asked what became of the build (ComputeAPI.check_instance,
  which fences a build that never arrived). Built, or failed, with the report lost:
  the report is sent again. Still building: the server fails. Never arrived, or the
  host does not answer: the build fails there and is rescheduled ([scheduler]
  max_attempts) or fails. The agent refuses a build it gets after its deadline.
* deleting: the agent is asked; destroyed already (report lost): completed; else the
  terminate is sent again. On a host that is down the delete is completed in the
  database ([conductor] complete_deletes_on_dead_hosts) or waits for the host.
* an evacuation (kumo_conductor.evacuating): never placed, it fails; placed, the new
  host is asked what became of the rebuild (report lost: applied), else it fails.
* a live migration (kumo_conductor.live_migrating): the agent's record of its step
  (report lost: applied); a copy still running is aborted; else it ends where the
  guest is known to run.
* a lifecycle action: the agent's record of the request says how it ended (report
  lost: applied); otherwise the task ends with a fault and the vm_state it had.

Builds and deletes on a host whose heartbeat is late are handled at once rather than
when their (long) deadline passes, if the agent does not answer either. Each run
also gives back claims no placement owns
(kumo_common.db.recovery.free_orphan_allocations).
"""
from __future__ import annotations

import dataclasses

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import uuidutils

from kumo_common import context, deadlines, health, lifecycle, objects, states
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, recovery, session
from kumo_common.rpcapi import conductor as conductor_rpcapi
from kumo_conductor import evacuating, live_migrating, resize_recovery, resizing, shelving
from kumo_conductor import ports as server_ports

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
task = states.task

_PLACING = (task.SCHEDULING, task.NETWORKING, task.BLOCK_DEVICE_MAPPING)
# Steps that cannot end while their host is down: due at once on a dead host.
_HOST_BOUND = (task.SPAWNING, task.DELETING)
_SCHEDULE_EVENT = lifecycle.SCHEDULE_BUILD_EVENT
_SPAWN_EVENT = lifecycle.BUILD_EVENT
_IMAGE_ACTIONS = ('createImage', 'createBackup')


@dataclasses.dataclass
class _Run:
    """What one run learnt about hosts: each compute service's heartbeat verdict (why
    it is down, or None), and the hosts that did not answer a question."""
    heartbeats: dict[str, str | None]
    unreachable: dict[str, str] = dataclasses.field(default_factory=dict)

    def dead(self, host: str) -> str | None:
        """Why the host's heartbeat says it is down, or None if it heartbeats."""
        if host not in self.heartbeats:
            return 'no such compute service'
        return self.heartbeats[host]


class Reaper:
    def __init__(self, conductor):
        self.conductor = conductor           # the ConductorManager of this process
        self.compute = conductor.compute     # compute agents' RPC client
        self.conductor_rpc = conductor_rpcapi.ConductorAPI()

    # --- one run -------------------------------------------------------------------------
    def run_once(self, ctxt) -> int:
        """Handle every overdue server once, and the builds and deletes of hosts whose
        heartbeat is late; returns how many were acted on."""
        with session.transaction() as s:
            freed = recovery.free_orphan_allocations(s)
        if freed:
            LOG.warning('Gave back claims nobody owns, of instances %s', ', '.join(freed))
        with session.reader() as s:
            heartbeats = health.compute_heartbeats(s)
            overdue = instance_db.past_deadline(s)
            early = recovery.on_hosts(s, sorted(h for h, why in heartbeats.items() if why),
                                      _HOST_BOUND)
        run = _Run(heartbeats)
        acted = 0
        for instance, handle in ([(i, self._handle) for i in overdue]
                                 + [(i, self._handle_early) for i in early]):
            try:
                if handle(instance, run):
                    acted += 1
            except Exception:
                LOG.exception('Reaper could not handle instance %s', instance.uuid)
        return acted

    def _handle(self, instance: models.Instance, run: _Run) -> bool:
        step = instance.task_state
        ctxt = self._context(instance)
        if step in _PLACING:
            return self._placing_overdue(ctxt, instance)
        if step == task.SPAWNING:
            return self._spawn_overdue(ctxt, instance, run)
        if step in deadlines.DELETE_STEPS:
            return self._delete_overdue(ctxt, instance, run)
        if step in resizing.RESIZE_TASKS:
            return self._resize_overdue(ctxt, instance, run)
        if step in evacuating.STEPS and evacuating.in_progress(instance.uuid):
            return evacuating.overdue(
                self.conductor, ctxt, instance,
                lambda host, request_id: self._ask(ctxt, host, instance.uuid, run,
                                                   request_id=request_id, fence=True))
        if step == task.MIGRATING:
            return live_migrating.overdue(
                self.conductor, ctxt, instance,
                lambda host, step_id: self._ask(ctxt, host, instance.uuid, run,
                                                request_id=step_id, fence=step_id is not None))
        return self._action_overdue(ctxt, instance, run)

    # --- resize ------------------------------------------------------------------------------
    def _resize_overdue(self, ctxt, instance: models.Instance, run: _Run) -> bool:
        """A resize step past its deadline: the agent's record of the step (a lost
        report is recovered), else the step is sent again ([conductor]
        max_step_redrives), else the resize ends where the truth is known
        (kumo_conductor.resize_recovery)."""
        with session.transaction() as s:
            if not recovery.take_overdue(s, instance.uuid, instance.task_state):
                return False

        def ask(host, step_id):
            return self._ask(ctxt, host, instance.uuid, run, request_id=step_id,
                             fence=True)
        return resize_recovery.overdue(self.conductor.resizer, ctxt, instance, ask)

    def _handle_early(self, instance: models.Instance, run: _Run) -> bool:
        """A build or delete on a host whose heartbeat is late, before its deadline:
        acted on only if the agent does not answer either (a late heartbeat alone may
        be a conductor that was down, not the host)."""
        if instance.task_state == task.DELETING \
                and not CONF.conductor.complete_deletes_on_dead_hosts:
            return False  # it waits for the host, whatever the deadline
        ctxt = self._context(instance)
        check, why = self._ask(ctxt, instance.host, instance.uuid, run)
        if check is not None:
            return False
        why = f'{why}; {run.dead(instance.host)}'
        with session.transaction() as s:
            if not recovery.take_overdue(s, instance.uuid, instance.task_state,
                                         seen_deadline=instance.task_deadline):
                return False
        if instance.task_state == task.SPAWNING:
            self._spawn_outcome(ctxt, instance, None, why)
        else:
            self._delete_outcome(ctxt, instance, run, None, why)
        return True

    @staticmethod
    def _context(instance: models.Instance) -> context.RequestContext:
        """An admin context under the request id of the instance's current action, so
        that what the reaper does lands in that action's events and log lines."""
        with session.reader() as s:
            action = recovery.latest_action(s, instance.uuid)
        request_id = (action.request_id if action and action.request_id
                      else 'req-' + uuidutils.generate_uuid())
        return context.RequestContext(
            request_id=request_id, user_id=action.user_id if action else None,
            project_id=instance.project_id, is_admin=True, roles=['admin'],
            overwrite=True)

    def _ask(self, ctxt, host: str | None, uuid: str, run: _Run, **kwargs
             ) -> tuple[objects.GuestCheck | None, str]:
        """The agent's answer about the instance, or None and why there is none. Each
        host is asked even if its heartbeat is late (the answer is the truth), but one
        that did not answer is not asked again in this run."""
        if not host:
            return None, 'no host'
        if host not in run.heartbeats:
            return None, f'{host} is no compute service'
        if host in run.unreachable:
            return None, run.unreachable[host]
        try:
            return self.compute.check_instance(ctxt, host, uuid, **kwargs), ''
        except messaging.MessagingTimeout:
            why = f'no answer from {host} within {CONF.conductor.agent_rpc_timeout}s'
        except Exception as exc:  # e.g. an agent too old to answer
            why = f'asking {host} failed: {type(exc).__name__}: {exc}'
        run.unreachable[host] = why
        return None, why

    # --- scheduling, networking -----------------------------------------------------------
    def _placing_overdue(self, ctxt, instance: models.Instance) -> bool:
        uuid, step = instance.uuid, instance.task_state
        where = instance.host or 'no host'
        timeout = deadlines.timeout_for(step)
        with session.transaction() as s:
            count = recovery.redrives(s, uuid, task.SCHEDULING)
            if count >= CONF.conductor.max_step_redrives:
                message = f'Build timed out in step {step} on {where} after {timeout}s'
                if count:
                    message += f' (scheduled again {count} times)'
                # Conditional on the step being still overdue: another conductor may
                # just have re-driven it.
                return self._fail_in(s, ctxt, instance, step, states.ERROR, message,
                                     free=True, event=_SCHEDULE_EVENT, overdue=True)
            if not recovery.take_overdue(s, uuid, step, {
                    'task_state': task.SCHEDULING, 'task_request_id': None, 'host': None,
                    'node': None, 'compute_node_uuid': None}):
                return False
            node_db.free_allocations(s, uuid)
            server_ports.release(s, uuid)
            recovery.note_redrive(s, uuid, task.SCHEDULING,
                                  f'{step} timed out after {timeout}s on {where}; '
                                  f'scheduling again')
            record = s.query(models.RequestSpecRecord).filter_by(instance_uuid=uuid).first()
            spec = objects.Payload.from_primitive(record.spec) if record else None
        if spec is None:
            return self._fail(ctxt, instance, task.SCHEDULING, states.ERROR,
                              f'Build timed out in step {step}; no request spec to '
                              f'schedule it again', free=True)
        spec.instance_uuids = [uuid]
        LOG.warning('Instance %s: %s timed out on %s; scheduling it again (%d of %d)',
                    uuid, step, where, count + 1, CONF.conductor.max_step_redrives)
        # A cast: any conductor schedules it, and this loop does not wait for it.
        self.conductor_rpc.build_instances(ctxt, spec)
        return True

    # --- spawning ---------------------------------------------------------------------------
    def _spawn_overdue(self, ctxt, instance: models.Instance, run: _Run) -> bool:
        with session.transaction() as s:
            if not recovery.take_overdue(s, instance.uuid, task.SPAWNING):
                return False
        check, why = self._ask(ctxt, instance.host, instance.uuid, run,
                               build_attempt=self._attempt(instance.uuid), fence=True)
        self._spawn_outcome(ctxt, instance, check, why)
        return True

    @staticmethod
    def _attempt(uuid: str) -> int:
        """The build attempt the instance is in (as the conductor numbered it)."""
        with session.reader() as s:
            record = s.query(models.RequestSpecRecord).filter_by(instance_uuid=uuid).first()
        if record is None:
            return 1
        return len(objects.Payload.from_primitive(record.spec).ignore_hosts) + 1

    def _spawn_outcome(self, ctxt, instance: models.Instance,
                       check: objects.GuestCheck | None, why: str) -> None:
        uuid, host = instance.uuid, instance.host
        if check is not None and check.busy == 'build':
            self._fail(ctxt, instance, task.SPAWNING, states.ERROR,
                       f'Build timed out in step spawning on {host} after '
                       f'{deadlines.timeout_for(task.SPAWNING)}s (still building)',
                       free=False, event=_SPAWN_EVENT)
            return
        finished = (check is not None and check.build is not None
                    and check.build['attempt'] == self._attempt(uuid))
        if finished and check.build['success'] and not check.exists:
            finished, why = False, f'built on {host}, but its guest is gone'
        if finished:
            # It ended; its report was lost. Send it again, as the agent would have.
            LOG.warning('Instance %s: build on %s ended (%s) but the report was lost; '
                        'recovering it', uuid, host,
                        'built' if check.build['success'] else check.build['error'])
            result = objects.BuildResult(instance_uuid=uuid, host=host,
                                         success=check.build['success'],
                                         power_state=check.build['power_state'],
                                         error=check.build['error'],
                                         traceback=check.build.get('traceback'))
        elif check is not None and check.exists:
            LOG.warning('Instance %s: its guest exists on %s; the build report was lost',
                        uuid, host)
            result = objects.BuildResult(instance_uuid=uuid, host=host, success=True,
                                         power_state=check.power_state)
        else:
            why = why or f'the build never reached {host}'
            LOG.warning('Instance %s: spawning on %s failed (%s); rescheduling it', uuid,
                        host, why)
            result = objects.BuildResult(instance_uuid=uuid, host=host, success=False,
                                         error=f'step spawning did not end ({why})',
                                         reschedulable=True)
        # Through the conductor's own report handling (reschedule or fail), as a cast.
        self.conductor_rpc.build_finished(ctxt, result)

    # --- deleting -----------------------------------------------------------------------------
    def _delete_overdue(self, ctxt, instance: models.Instance, run: _Run) -> bool:
        with session.transaction() as s:
            if not recovery.take_overdue(s, instance.uuid, task.DELETING):
                return False
        if not instance.host:
            self.conductor.instance_destroyed(ctxt, instance.uuid, None)
            return True
        check, why = self._ask(ctxt, instance.host, instance.uuid, run)
        self._delete_outcome(ctxt, instance, run, check, why)
        return True

    def _delete_outcome(self, ctxt, instance: models.Instance, run: _Run,
                        check: objects.GuestCheck | None, why: str) -> None:
        uuid, host = instance.uuid, instance.host
        if check is not None:
            if check.busy == 'terminate':
                LOG.info('Instance %s: %s is still destroying it', uuid, host)
            elif not check.exists:
                LOG.warning('Instance %s: destroyed on %s but the report was lost; '
                            'completing the delete', uuid, host)
                self.conductor.instance_destroyed(ctxt, uuid, host)
            else:
                LOG.warning('Instance %s: delete overdue; asking %s again', uuid, host)
                self.compute.terminate_instance(ctxt, host, uuid)
            return
        if not run.dead(host):
            # Not answering but heartbeating: ask again (the message waits in its
            # queue); once the heartbeat is late too, the delete is completed.
            LOG.warning('Instance %s: delete overdue (%s); asking %s again', uuid, why, host)
            self.compute.terminate_instance(ctxt, host, uuid)
        elif CONF.conductor.complete_deletes_on_dead_hosts:
            LOG.warning('Instance %s: %s is down (%s); completing the delete in the '
                        'database (the agent reaps the guest if it returns)', uuid, host,
                        why)
            self.conductor.instance_destroyed(ctxt, uuid, host)
        else:
            LOG.warning('Instance %s: the delete waits for %s to return (%s)', uuid, host,
                        why)
            self.compute.terminate_instance(ctxt, host, uuid)

    # --- lifecycle actions ------------------------------------------------------------------
    def _action_overdue(self, ctxt, instance: models.Instance, run: _Run) -> bool:
        uuid, host, step = instance.uuid, instance.host, instance.task_state
        with session.transaction() as s:
            if not recovery.take_overdue(s, uuid, step):
                return False
        action = lifecycle.owning(step)
        check, why = self._ask(ctxt, host, uuid, run, request_id=ctxt.request_id,
                               fence=True)
        record = check.actions.get(ctxt.request_id) if check is not None else None
        if record is not None and record.get('action') in lifecycle.ACTIONS:
            # The agent's record names its action (shelving_offloading may be a
            # shelve's last step as well as a shelveOffload).
            action = lifecycle.get(record['action'])
        if action is not None and record is not None:
            LOG.warning('Instance %s: %s on %s ended but the report was lost; recovering '
                        'it', uuid, action.name, host)
            result = record.get('result')
            self.conductor.action_finished(
                ctxt, uuid, host, action.name, record['success'], record['power_state'],
                record['error'],
                objects.Payload.from_primitive(result) if result else None,
                traceback=record.get('traceback'))
            return True
        if check is None:
            reason = why
        elif check.busy:
            reason = f'{check.busy} still running'
        else:
            reason = 'the request never reached the host'
        message = (f'Task {step} timed out on {host or "no host"} after '
                   f'{deadlines.timeout_for(step)}s: {reason}')
        extra = {'power_state': check.power_state} if check is not None else {}
        event = action.event_for(instance.vm_state) if action else f'conductor_{step}'
        if action is not None and action.instance_action in _IMAGE_ACTIONS:
            # The snapshot will not be finished: its image goes, as Nova's does.
            self.conductor.discard_snapshot(ctxt, uuid)
        vm_state = (action.error_vm_state if action is not None and action.error_vm_state
                    else instance.vm_state)
        if action is not None and action.name == 'shelve':
            self.conductor.discard_snapshot(ctxt, uuid)
        if action is not None and action.name == 'unshelve' \
                and instance.vm_state == states.SHELVED_OFFLOADED:
            return self._unshelve_rolled_back(ctxt, instance, step, message, extra)
        return self._fail(ctxt, instance, step, vm_state, message, free=False,
                          event=event, **extra)

    def _unshelve_rolled_back(self, ctxt, instance: models.Instance, step: str,
                              message: str, extra: dict) -> bool:
        """An offloaded server whose unshelve did not end: SHELVED_OFFLOADED again,
        its claim given back (its ports are kept), and whatever the host may have
        spawned of it destroyed there (the cast waits for an agent that is down)."""
        extra = {**extra, **shelving.UNPLACED, 'power_state': states.power.NOSTATE}
        with session.transaction() as s:
            if not self._fail_in(s, ctxt, instance, step, states.SHELVED_OFFLOADED, message,
                                 False, lifecycle.get('unshelve').event, **extra):
                return False
            node_db.free_allocations(s, instance.uuid)
        if instance.host:
            self.compute.terminate_instance(ctxt, instance.host, instance.uuid)
        return True

    # --- endings ------------------------------------------------------------------------------
    def _fail(self, ctxt, instance, step: str, vm_state: str, message: str, free: bool,
              event: str = _SCHEDULE_EVENT, **values) -> bool:
        with session.transaction() as s:
            return self._fail_in(s, ctxt, instance, step, vm_state, message, free, event,
                                 **values)

    @staticmethod
    def _fail_in(s, ctxt, instance, step: str, vm_state: str, message: str, free: bool,
                 event: str, overdue: bool = False, **values) -> bool:
        """End the step with a fault, and with an Error event in the action it
        belongs to (os-instance-actions shows it, also where the view shows no
        fault: Nova shows a server's fault only while it is in ERROR)."""
        values = {'vm_state': vm_state, 'task_state': None, 'task_deadline': None, **values}
        if overdue:
            ended = recovery.take_overdue(s, instance.uuid, step, values)
        else:
            ended = instance_db.update_if(s, instance.uuid, values,
                                          expected_task_state=(step,))
        if not ended:
            return False
        instance_db.add_fault(s, instance.uuid, 500, message, host=instance.host)
        instance_db.record_event(s, instance.uuid, ctxt.request_id, event, 'Error',
                                 host=instance.host, details=message)
        if free:
            node_db.free_allocations(s, instance.uuid)
            server_ports.release(s, instance.uuid)
        LOG.warning('Instance %s: %s', instance.uuid, message)
        return True
