"""The trigger_crash_dump server action (2.17+): Nova's checks, the instance action,
and a cast to the server's agent, which sends its guest an NMI.

Unlike the lifecycle actions it claims no task_state and changes no state (what the
guest does with the NMI is its own configuration's business, as Nova says); the
host's outcome is the action's one event, compute_trigger_crash_dump.
"""
from __future__ import annotations

from flask import g
from oslo_log import log as logging

from kumo_api import errors, policy, rpc_clients
from kumo_api.actions import lifecycle
from kumo_common import lifecycle as actions
from kumo_common import states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session

LOG = logging.getLogger(__name__)

# Nova's vm_states.ALLOW_TRIGGER_CRASH_DUMP.
ALLOWED_VM_STATES = (states.ACTIVE, states.PAUSED, states.RESCUED, states.RESIZED,
                     states.ERROR)


def trigger_crash_dump(instance: models.Instance, body) -> None:
    ctxt = g.context
    policy.authorize(ctxt, 'os_compute_api:servers:trigger_crash_dump',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})
    name = actions.CRASH_DUMP_ACTION
    # Nova's order: the lock, the host, then the states (task and launch included).
    lifecycle.check_not_locked(ctxt, instance)
    if not instance.host:
        raise errors.Conflict(f'Instance {instance.uuid} is not ready')
    if instance.vm_state not in ALLOWED_VM_STATES:
        raise lifecycle.invalid_state(name, instance, 'vm_state', instance.vm_state)
    if instance.task_state is not None:
        raise lifecycle.invalid_state(name, instance, 'task_state', instance.task_state)
    if not instance.launched_at:
        raise lifecycle.invalid_state(name, instance, 'launched_at', None)
    with session.transaction() as s:
        instance_db.start_action(s, instance.uuid, name, ctxt)
    LOG.info('Crash dump of instance %s on %s requested', instance.uuid, instance.host)
    rpc_clients.compute().trigger_crash_dump(ctxt, instance.host, instance.uuid)
