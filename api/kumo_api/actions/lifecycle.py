"""The API side of lifecycle actions: lock and state checks, the task_state claim,
the instance action record, and the cast to the server's compute agent."""
from __future__ import annotations

from collections.abc import Callable

from oslo_log import log as logging

from kumo_api import errors, rpc_clients
from kumo_common import lifecycle, objects
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session

LOG = logging.getLogger(__name__)


def check_not_locked(ctxt, instance: models.Instance) -> None:
    """Locked servers refuse changes from everyone but admins (409)."""
    if instance.locked and not ctxt.is_admin_role:
        raise errors.Conflict(f'Instance {instance.uuid} is locked')


def invalid_state(action: str, instance: models.Instance, attr: str, state) -> errors.APIError:
    if state is None:
        # Nova's raise_http_conflict_for_instance_invalid_state has nothing to name
        # then (e.g. no task where one is needed).
        return errors.Conflict(f"Instance {instance.uuid} is in an invalid state for "
                               f"'{action}'")
    return errors.Conflict(f"Cannot '{action}' instance {instance.uuid} while it is in "
                           f'{attr} {state}')


def check(ctxt, instance: models.Instance, spec: lifecycle.Action, shown: str,
          check_lock: bool = True) -> None:
    """The lock and state rules of kumo_common.lifecycle for `spec` (409 on a miss)."""
    if check_lock and spec.lock_checked:
        check_not_locked(ctxt, instance)
    if instance.vm_state not in spec.allowed_vm_states:
        raise invalid_state(shown, instance, 'vm_state', instance.vm_state)
    if instance.task_state not in spec.allowed_task_states:
        raise invalid_state(shown, instance, 'task_state', instance.task_state)
    if spec.needs_host and not instance.host:
        raise errors.Conflict(f'Instance {instance.uuid} has no host; cannot {shown} it.')


def run(ctxt, instance: models.Instance, action: str, record_as: str | None = None,
        check_lock: bool = True, params: objects.ActionParams | None = None,
        prepare: Callable | None = None) -> None:
    """Start lifecycle action `action` (kumo_common.lifecycle) on a server, or 409.

    `prepare(session, instance)`, if given, runs in the transaction that claims the
    task_state (so what it writes, e.g. a snapshot's image row, exists exactly when
    the action started) and may return the ActionParams to send.
    """
    spec = lifecycle.get(action)
    # Nova's 409 names the API action ('createImage'), as its instance action does.
    shown = record_as or spec.recorded_as
    check(ctxt, instance, spec, shown, check_lock)
    with session.transaction() as s:
        # The conditional update is the real check: two concurrent actions on one
        # server cannot both start.
        if not instance_db.update_if(s, instance.uuid, {'task_state': spec.task_state},
                                     expected_task_state=spec.allowed_task_states,
                                     expected_vm_state=spec.allowed_vm_states):
            fresh = instance_db.get_instance(s, instance.uuid)
            if fresh.vm_state not in spec.allowed_vm_states:
                raise invalid_state(shown, fresh, 'vm_state', fresh.vm_state)
            raise invalid_state(shown, fresh, 'task_state', fresh.task_state)
        instance_db.start_action(s, instance.uuid, shown, ctxt)
        if spec.dispatch_event:
            # What Nova's conductor records as it passes the action on (here the API
            # passes it on): done once it is sent.
            instance_db.record_event(s, instance.uuid, ctxt.request_id,
                                     spec.dispatch_event, 'Success')
        if prepare is not None:
            params = prepare(s, instance_db.get_instance(s, instance.uuid)) or params
    LOG.info('%s of instance %s on %s requested', shown, instance.uuid, instance.host)
    rpc_clients.compute().perform_action(ctxt, instance.host, instance.uuid, action,
                                         params)
