"""Nova's power state sync rules: what the database does when a guest's power state
changed behind Kumo's back (reported by an agent's lifecycle events and periodic sync).

As Nova's ComputeManager._sync_instance_power_state:
* an instance with a task running is left alone (the task's result will say);
* the recorded power_state follows the guest's;
* ACTIVE with the guest shut off, crashed or suspended: the guest stopped by itself,
  so the server is stopped (a 'stop' action, as Nova calls the stop API) and ends
  SHUTOFF;
* STOPPED with the guest running (started behind our back, e.g. with virsh): stopped
  again; PAUSED with the guest shut off: stopped;
* guests the database does not know, or knows as deleted, are strays: the agent
  deals with them by [DEFAULT] running_deleted_instance_action.
"""
from __future__ import annotations

from oslo_log import log as logging

from kumo_common import objects, states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session

LOG = logging.getLogger(__name__)
power = states.power
task = states.task

# vm_states whose guest may be in any power state without the database reacting.
_IGNORED_VM_STATES = (states.BUILDING, states.RESCUED, states.RESIZED, states.SUSPENDED,
                      states.ERROR)


def _must_stop(vm_state: str, power_state: int) -> str | None:
    """Why the server has to be stopped, or None if its guest's state is acceptable."""
    if vm_state == states.ACTIVE:
        if power_state in (power.SHUTDOWN, power.CRASHED):
            return 'the guest shut down by itself'
        if power_state == power.SUSPENDED:
            return 'the guest is suspended unexpectedly'
    elif vm_state == states.STOPPED:
        if power_state not in (power.NOSTATE, power.SHUTDOWN, power.CRASHED):
            return 'the guest is running although the server is stopped'
    elif vm_state == states.PAUSED:
        if power_state in (power.SHUTDOWN, power.CRASHED):
            return 'the paused guest shut down'
    return None


def _log_oddity(instance: models.Instance, power_state: int) -> None:
    if instance.vm_state == states.ACTIVE and power_state == power.PAUSED:
        LOG.warning('Instance %s is paused unexpectedly; ignoring', instance.uuid)
    elif instance.vm_state == states.ACTIVE and power_state == power.NOSTATE:
        LOG.warning('Instance %s has no guest on %s; ignoring', instance.uuid,
                    instance.host)
    elif instance.vm_state == states.SOFT_DELETED and power_state not in (
            power.NOSTATE, power.SHUTDOWN):
        LOG.warning('Instance %s is soft-deleted but its guest runs', instance.uuid)


class PowerSync:
    """Applies a PowerStateReport; `compute` is the compute agents' RPC client."""

    def __init__(self, compute):
        self.compute = compute

    def apply(self, ctxt, report: objects.PowerStateReport) -> objects.PowerSyncResult:
        result = objects.PowerSyncResult()
        reported = dict(report.power_states)
        with session.reader() as s:
            instances = instance_db.on_host(
                s, report.host, None if report.complete else list(reported))
            mine = {i.uuid for i in instances}
            others = [u for u in reported if u not in mine]
            elsewhere = instance_db.by_uuids(s, others)
        for uuid in others:
            known = elsewhere.get(uuid)
            if known is None or known.deleted:
                LOG.warning('Host %s has guest %s that the database %s', report.host, uuid,
                            'knows as deleted' if known else 'does not know')
                result.strays.append(uuid)
                if known is None:
                    result.unknown.append(uuid)
                elif known.host and known.host != report.host:
                    # (Agents sharing one libvirtd all see an untagged domain.)
                    result.elsewhere.append(uuid)
            else:
                LOG.warning('Host %s has a guest of instance %s, which belongs to %s',
                            report.host, uuid, known.host)
        for instance in instances:
            if instance.uuid in report.unsettled:
                result.pending.append(instance.uuid)
                continue
            state = reported.get(instance.uuid, power.NOSTATE)
            if not self._sync_one(ctxt, instance, state):
                result.pending.append(instance.uuid)
        return result

    def _sync_one(self, ctxt, instance: models.Instance, power_state: int) -> bool:
        """Apply the rules to one instance; False if a task kept us from it."""
        if instance.task_state is not None:
            return False
        values: dict = {}
        if instance.power_state != power_state:
            values['power_state'] = power_state
        reason = None
        if instance.vm_state not in _IGNORED_VM_STATES:
            reason = _must_stop(instance.vm_state, power_state)
            if reason is None:
                _log_oddity(instance, power_state)
        if reason is not None:
            values['task_state'] = task.POWERING_OFF
        if not values:
            return True
        with session.transaction() as s:
            # Conditional: an action the API started meanwhile wins.
            if not instance_db.update_if(s, instance.uuid, values,
                                         expected_task_state=(None,),
                                         expected_vm_state=(instance.vm_state,)):
                return False
            if reason is not None:
                instance_db.start_action(s, instance.uuid, 'stop', ctxt)
        if 'power_state' in values:
            LOG.info('Instance %s: power_state %s -> %s (reported by %s)', instance.uuid,
                     instance.power_state, power_state, instance.host)
        if reason is not None:
            LOG.warning('Instance %s (%s): %s; stopping it', instance.uuid,
                        instance.vm_state, reason)
            self.compute.perform_action(ctxt, instance.host, instance.uuid, 'stop')
        return True
