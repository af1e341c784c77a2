"""What Kumo does with an external event the API accepted for a server: the work of
Nova's ComputeManager.external_instance_event (and of the instance actions Nova's
compute API records for some events), done by the API itself.

Nova answers the sender before a compute host has looked at the events; here the
effects are applied before the answer, and their failures are logged, never
answered: the event was accepted either way, as Nova's answer says.

* network-changed, network-vif-deleted: the server's network info cache is read
  again from the network service (kumo_api.actions.network_info, as injectNetworkInfo). A
  deleted port leaves the cache; its NIC stays in the guest (Kumo cannot detach
  interfaces yet).
* power-update (2.76; tag POWER_ON or POWER_OFF): a 'start' or 'stop' instance
  action with a compute_power_update event; a stopped server whose guest is shut
  down becomes active and running, an active one running becomes stopped and shut
  down (what Nova's Ironic driver records); in any other state, or with a task
  under way, nothing changes. Another tag: nothing at all, as Nova. The guest is
  not touched (the event says its power already changed): where a libvirt or fake
  guest disagrees, the power sync then acts as on any such difference
  (kumo_conductor.power_sync: a guest running under a stopped server is stopped,
  an active server whose guest is off becomes stopped).
* volume-extended (2.51): an 'extend_volume' action, which ends at once, as Nova's
  for a volume not attached to the server: Kumo attaches no volumes.
* network-vif-plugged/-unplugged, accelerator-request-bound, volume-reimaged: only
  logged; nothing in Kumo waits for them (its builds do not wait for Neutron's
  vif-plugged, nor Cyborg's ARQs, nor Cinder's re-image).
"""
from __future__ import annotations

from collections.abc import Callable

from oslo_log import log as logging

from kumo_api.actions import network_info
from kumo_common import exceptions, states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session

LOG = logging.getLogger(__name__)
power = states.power

# power-update's tag -> (instance action, the (vm_state, power_state) the server must
# be in, the (vm_state, power_state) it ends in); Nova's manager and Ironic driver.
POWER_UPDATES = {
    'POWER_ON': ('start', (states.STOPPED, power.SHUTDOWN), (states.ACTIVE, power.RUNNING)),
    'POWER_OFF': ('stop', (states.ACTIVE, power.RUNNING), (states.STOPPED, power.SHUTDOWN)),
}


def process(ctxt, accepted: list[tuple[models.Instance, str, str | None]]) -> None:
    """Apply the accepted events (server, name, tag), in order, to their servers (live
    or deleted ones, on a host). A server's network info is read once per request,
    however many of its ports Neutron's batch names."""
    refreshed: set[str] = set()
    for instance, name, tag in accepted:
        if instance.deleted:
            LOG.info('Event %s for deleted instance %s: nothing to do', _key(name, tag),
                     instance.uuid)
            continue
        effect = _EFFECTS.get(name, _log_only)
        if effect is _refresh_network_info:
            if instance.uuid in refreshed:
                continue
            refreshed.add(instance.uuid)
        try:
            effect(ctxt, instance, name, tag)
        except Exception:  # accepted already; the other events must not be lost
            LOG.exception('Failed to process external event %s of instance %s',
                          _key(name, tag), instance.uuid)


def _key(name: str, tag: str | None) -> str:
    return name if tag is None else f'{name}-{tag}'


def _refresh_network_info(ctxt, instance: models.Instance, name: str,
                          tag: str | None) -> None:
    try:
        network_info.refresh(ctxt, instance.uuid)
    except exceptions.KumoException as exc:  # the network service's trouble, said
        LOG.warning('Could not read the network info of instance %s again for event '
                    '%s: %s', instance.uuid, _key(name, tag), exc)
        return
    LOG.info('Network info of instance %s read again for event %s', instance.uuid,
             _key(name, tag))


def _power_update(ctxt, instance: models.Instance, name: str, tag: str | None) -> None:
    if tag not in POWER_UPDATES:
        LOG.warning('Invalid power state %s in event %s for instance %s; skipped',
                    tag, name, instance.uuid)
        return
    action, (vm_from, power_from), (vm_to, power_to) = POWER_UPDATES[tag]
    event = 'compute_power_update'
    with session.transaction() as s:
        instance_db.start_action(s, instance.uuid, action, ctxt)
        current = s.get(models.Instance, instance.id)
        # Conditional on the task and vm_state too: an action the API started
        # meanwhile wins (Nova's expected_task_state=[None]).
        changed = (current is not None and current.task_state is None
                   and current.vm_state == vm_from and current.power_state == power_from
                   and instance_db.update_if(
                       s, instance.uuid, {'vm_state': vm_to, 'power_state': power_to,
                                          'task_state': None, 'task_deadline': None},
                       expected_task_state=(None,), expected_vm_state=(vm_from,)))
        instance_db.record_event(s, instance.uuid, ctxt.request_id, event, 'Success',
                                 host=instance.host)
    if changed:
        LOG.info('Instance %s: %s by a power-update event (vm_state %s, power_state %s)',
                 instance.uuid, action, vm_to, power_to)
    else:
        LOG.info('The power-update %s event for instance %s is a no-op in vm_state %s, '
                 'task_state %s, power_state %s', tag, instance.uuid,
                 current.vm_state if current else None,
                 current.task_state if current else None,
                 current.power_state if current else None)


def _volume_extended(ctxt, instance: models.Instance, name: str, tag: str | None) -> None:
    with session.transaction() as s:
        instance_db.start_action(s, instance.uuid, 'extend_volume', ctxt)
        instance_db.record_event(s, instance.uuid, ctxt.request_id,
                                 'compute_extend_volume', 'Success', host=instance.host)
    LOG.warning('Extend volume failed, volume %s is not attached to instance %s', tag,
                instance.uuid)


def _log_only(ctxt, instance: models.Instance, name: str, tag: str | None) -> None:
    LOG.info('Received event %s for instance %s (vm_state %s, task_state %s); nothing '
             'waits for it', _key(name, tag), instance.uuid, instance.vm_state,
             instance.task_state)


_EFFECTS: dict[str, Callable] = {
    'network-changed': _refresh_network_info,
    'network-vif-deleted': _refresh_network_info,
    'power-update': _power_update,
    'volume-extended': _volume_extended,
}
