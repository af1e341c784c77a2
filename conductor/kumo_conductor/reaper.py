"""The deadline reaper: no server stays in a task_state past its deadline.

Every task_state carries a deadline (kumo_common.deadlines). When one passes, the
reaper either re-drives the step, where that is safe because the step is idempotent
(a delete), or ends it in a truthful state with a fault naming the step and the host.
Several conductors may run it at once: each ending is a conditional update on the
task_state the reaper saw, so only one of them acts on a given server.
"""
from __future__ import annotations

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import deadlines, states
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_common.db import networks as network_db

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
task = states.task

def _host_is_down(s, host: str | None) -> bool:
    if not host:
        return True
    service = node_db.services_by_host(s, {host}).get(host)
    if service is None or service.last_seen_up is None:
        return True
    age = (models.utcnow() - service.last_seen_up).total_seconds()
    return service.forced_down or age > CONF.service_down_time


class Reaper:
    def __init__(self, conductor):
        self.conductor = conductor

    def run_once(self, ctxt) -> int:
        """Handle every overdue server once; returns how many were acted on."""
        with session.reader() as s:
            overdue = instance_db.past_deadline(s)
        acted = 0
        for instance in overdue:
            try:
                if self._handle(ctxt, instance):
                    acted += 1
            except Exception:
                LOG.exception('Reaper could not handle instance %s', instance.uuid)
        return acted

    def _handle(self, ctxt, instance: models.Instance) -> bool:
        step = instance.task_state
        where = instance.host or 'no host'
        if step in deadlines.DELETE_STEPS:
            return self._redrive_delete(ctxt, instance)
        if step in deadlines.BUILD_STEPS or step == task.SPAWNING:
            message = (f'Build timed out in step {step} on {where} after '
                       f'{deadlines.timeout_for(step)}s')
            return self._fail(instance, step, states.ERROR, message, free=step != task.SPAWNING)
        # A lifecycle action changes vm_state only when it succeeds, so one that timed
        # out leaves the server in the vm_state it had; the fault says what happened.
        message = f'Task {step} timed out on {where} after {deadlines.timeout_for(step)}s'
        return self._fail(instance, step, instance.vm_state, message, free=False)

    def _fail(self, instance, step: str, vm_state: str, message: str, free: bool) -> bool:
        with session.transaction() as s:
            if not instance_db.update_if(s, instance.uuid,
                                         {'vm_state': vm_state, 'task_state': None},
                                         expected_task_state=(step,)):
                return False
            instance_db.add_fault(s, instance.uuid, 500, message, host=instance.host)
            if free:
                node_db.free_allocations(s, instance.uuid)
                network_db.release_ports(s, instance.uuid)
        LOG.warning('Instance %s: %s', instance.uuid, message)
        return True

    def _redrive_delete(self, ctxt, instance) -> bool:
        with session.transaction() as s:
            host_down = _host_is_down(s, instance.host)
            # Push the deadline on first, so only one conductor re-drives.
            if not instance_db.update_if(s, instance.uuid, {'task_state': task.DELETING},
                                         expected_task_state=(task.DELETING,)):
                return False
        if host_down:
            LOG.warning('Instance %s: delete overdue and host %s is down; completing it '
                        'in the database', instance.uuid, instance.host)
            self.conductor.instance_destroyed(ctxt, instance.uuid, instance.host)
        else:
            LOG.warning('Instance %s: delete overdue; asking %s again', instance.uuid,
                        instance.host)
            self.conductor.delete_instance(ctxt, instance.uuid)
        return True
