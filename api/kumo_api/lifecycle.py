"""The API side of lifecycle actions: lock and state checks, the task_state claim,
the instance action record, and the cast to the server's compute agent."""
from __future__ import annotations

from oslo_log import log as logging

from kumo_api import errors, rpc_clients
from kumo_common import lifecycle
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session

LOG = logging.getLogger(__name__)


def check_not_locked(ctxt, instance: models.Instance) -> None:
    """Locked servers refuse changes from everyone but admins (409)."""
    if instance.locked and not ctxt.is_admin_role:
        raise errors.Conflict(f'Instance {instance.uuid} is locked')


def invalid_state(action: str, instance: models.Instance, attr: str, state) -> errors.APIError:
    return errors.Conflict(f"Cannot '{action}' instance {instance.uuid} while it is in "
                           f'{attr} {state}')


def run(ctxt, instance: models.Instance, action: str, record_as: str | None = None,
        check_lock: bool = True) -> None:
    """Start lifecycle action `action` (kumo_common.lifecycle) on a server, or 409."""
    spec = lifecycle.get(action)
    shown = record_as or spec.name
    if check_lock:
        check_not_locked(ctxt, instance)
    if instance.vm_state not in spec.allowed_vm_states:
        raise invalid_state(shown, instance, 'vm_state', instance.vm_state)
    if instance.task_state not in spec.allowed_task_states:
        raise invalid_state(shown, instance, 'task_state', instance.task_state)
    if spec.needs_host and not instance.host:
        raise errors.Conflict(f'Instance {instance.uuid} has no host; cannot {shown} it.')
    with session.transaction() as s:
        # The conditional update is the real check: two concurrent actions on one
        # server cannot both start.
        if not instance_db.update_if(s, instance.uuid, {'task_state': spec.task_state},
                                     expected_task_state=spec.allowed_task_states,
                                     expected_vm_state=spec.allowed_vm_states):
            fresh = instance_db.get_instance(s, instance.uuid)
            raise invalid_state(shown, fresh, 'task_state', fresh.task_state)
        instance_db.start_action(s, instance.uuid, shown, ctxt)
    LOG.info('%s of instance %s on %s requested', shown, instance.uuid, instance.host)
    rpc_clients.compute().perform_action(ctxt, instance.host, instance.uuid, action)
