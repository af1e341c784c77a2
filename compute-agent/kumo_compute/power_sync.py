"""Reporting guests' power states to the conductor, which applies Nova's sync rules.

Three paths, all ending in ConductorAPI.sync_power_states:
* events: the driver says a guest changed (libvirt lifecycle events); shortly after,
  its state is read and reported. A guest with an action running on it is reported
  once the action is over (its result carries the state anyway), and one the
  conductor finds busy with a task is reported again a little later.
* the periodic sync every [DEFAULT] sync_power_state_interval: every guest, so what
  an event missed is caught;
* the start-up sync, the same, right after the agent registers: this is the restart
  reconciliation (a guest destroyed while the agent was down becomes SHUTOFF, one
  the database no longer knows is a stray).

Strays get [DEFAULT] running_deleted_instance_action: noop, log, shutdown or reap.
"""
from __future__ import annotations

import threading
import time

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import context, objects, service
from kumo_common.rpcapi import conductor as conductor_rpcapi
from kumo_compute.virt.driver import ComputeDriver

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

EVENT_DELAY = 0.5      # seconds: let a burst of events for one guest settle
RETRY_DELAY = 1.0      # seconds before reporting a busy guest again
MAX_RETRIES = 120      # ... for up to about two minutes; the periodic sync does the rest


class PowerSync:
    def __init__(self, host: str, driver: ComputeDriver,
                 conductor: conductor_rpcapi.ConductorAPI, instance_lock):
        self.host = host
        self.driver = driver
        self.conductor = conductor
        self.instance_lock = instance_lock   # ComputeManager.instance_lock
        self._due: dict[str, tuple[float, int]] = {}   # uuid -> (when, tries)
        self._cond = threading.Condition()
        self._stopped = False
        self._worker: threading.Thread | None = None
        self._periodic: service.PeriodicTask | None = None

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._worker = threading.Thread(target=self._run_events, daemon=True,
                                        name=f'power-events-{self.host}')
        self._worker.start()
        self.driver.register_event_listener(self.guest_changed)
        self.sync_all()
        if CONF.sync_power_state_interval > 0:
            self._periodic = service.PeriodicTask(CONF.sync_power_state_interval,
                                                  self.sync_all, f'power-sync-{self.host}')
            self._periodic.start()

    def stop(self) -> None:
        if self._periodic is not None:
            self._periodic.stop()
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # --- events -----------------------------------------------------------------------------
    def guest_changed(self, instance_uuid: str) -> None:
        """Called by the driver (from its event thread): report this guest soon."""
        self._schedule(instance_uuid, EVENT_DELAY, 0)

    def _schedule(self, instance_uuid: str, delay: float, tries: int) -> None:
        with self._cond:
            self._due[instance_uuid] = (time.monotonic() + delay, tries)
            self._cond.notify_all()

    def _run_events(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    ready = [u for u, (when, _) in self._due.items() if when <= now]
                    if ready:
                        break
                    wait = min((w for w, _ in self._due.values()), default=now + 60) - now
                    self._cond.wait(max(wait, 0.01))
                if self._stopped:
                    return
                batch = [(u, self._due.pop(u)[1]) for u in ready]
            for uuid, tries in batch:
                try:
                    self._report_one(uuid, tries)
                except Exception:  # one bad report must not end the worker
                    LOG.exception('Reporting the power state of %s failed', uuid)

    def _report_one(self, instance_uuid: str, tries: int) -> None:
        lock = self.instance_lock(instance_uuid)
        if not lock.acquire(blocking=False):
            # An action (build, stop, delete...) is running; look again after it.
            self._schedule(instance_uuid, RETRY_DELAY, tries)
            return
        try:
            states = self.driver.power_states([instance_uuid])
        finally:
            lock.release()
        if instance_uuid not in states:
            return  # not ours, or gone (a delete)
        if states[instance_uuid] is None:
            # Between two states (e.g. starting): its next state is what counts.
            if tries < MAX_RETRIES:
                self._schedule(instance_uuid, EVENT_DELAY, tries + 1)
            return
        result = self._send(objects.PowerStateReport(host=self.host, power_states=states,
                                                     complete=False))
        if result is None or instance_uuid in result.pending:
            if tries < MAX_RETRIES:
                self._schedule(instance_uuid, RETRY_DELAY, tries + 1)
            return
        self._handle_strays(result)

    # --- the whole host -----------------------------------------------------------------------
    def sync_all(self) -> objects.PowerSyncResult | None:
        """Report every guest of this node (periodic and start-up sync)."""
        states = self.driver.power_states()
        unsettled = sorted(u for u, state in states.items() if state is None)
        result = self._send(objects.PowerStateReport(
            host=self.host, complete=True, unsettled=unsettled,
            power_states={u: s for u, s in states.items() if s is not None}))
        if result is not None:
            self._handle_strays(result)
        return result

    def _send(self, report: objects.PowerStateReport) -> objects.PowerSyncResult | None:
        try:
            # A fresh context each time: actions the conductor starts are recorded
            # under its request id.
            return self.conductor.sync_power_states(context.get_admin_context(), report)
        except messaging.MessagingTimeout:
            LOG.warning('The conductor did not answer the power state report of %s',
                        self.host)
            return None

    def _handle_strays(self, result: objects.PowerSyncResult) -> None:
        action = CONF.running_deleted_instance_action
        for uuid in result.strays:
            if action == 'noop':
                continue
            unknown = uuid in result.unknown
            LOG.warning('Guest %s on %s is %s (running_deleted_instance_action = %s)',
                        uuid, self.host, 'unknown to the database' if unknown
                        else 'deleted in the database', action)
            if action == 'log':
                continue
            if (unknown or uuid in result.elsewhere) and not self.driver.claims(uuid):
                # Merely named like an instance, and no server we ever had (it may be
                # another cloud's or a person's), or a server of another agent on the
                # same hypervisor (it is that agent's to deal with). Reported, not
                # touched.
                LOG.warning('Leaving guest %s alone: nothing says it is ours', uuid)
                continue
            with self.instance_lock(uuid):
                try:
                    if action == 'shutdown':
                        self.driver.power_off(uuid)
                    elif action == 'reap':
                        self.driver.destroy(uuid)
                        LOG.info('Reaped stray guest %s', uuid)
                except Exception:
                    LOG.exception('Could not %s stray guest %s', action, uuid)
