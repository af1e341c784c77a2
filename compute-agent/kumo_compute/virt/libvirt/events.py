"""Libvirt lifecycle events, the fast path of power state reporting.

libvirt delivers events on its default event loop, which one daemon thread per
process runs. Callbacks must not call back into libvirt (Nova hands events to another
thread for the same reason), so a callback only records which guest changed; the
agent's power state sync (kumo_compute.power_sync) reads the guest's state afterwards
and reports it, with Nova's rules applied by the conductor. The periodic sync there
catches whatever an event missed.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import libvirt
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_loop_lock = threading.Lock()
_loop_started = False

# Names for the log of libvirt's VIR_DOMAIN_EVENT_* lifecycle events.
EVENT_NAMES = {
    libvirt.VIR_DOMAIN_EVENT_DEFINED: 'defined',
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: 'undefined',
    libvirt.VIR_DOMAIN_EVENT_STARTED: 'started',
    libvirt.VIR_DOMAIN_EVENT_SUSPENDED: 'paused',
    libvirt.VIR_DOMAIN_EVENT_RESUMED: 'resumed',
    libvirt.VIR_DOMAIN_EVENT_STOPPED: 'stopped',
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: 'shutdown',
    libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: 'pmsuspended',
    libvirt.VIR_DOMAIN_EVENT_CRASHED: 'crashed',
}
# Events after which the guest's power state may differ (not defined/undefined).
POWER_EVENTS = frozenset({
    libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED,
    libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_STOPPED,
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED,
    libvirt.VIR_DOMAIN_EVENT_CRASHED,
})


def start_event_loop() -> None:
    """Register libvirt's default event loop and run it in a daemon thread (once per
    process; must happen before the connections that want events are opened)."""
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()
        thread = threading.Thread(target=_run_loop, name='libvirt-event-loop', daemon=True)
        thread.start()
        _loop_started = True


def _run_loop() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except Exception:  # keep delivering events whatever one iteration did
            LOG.exception('libvirt event loop iteration failed')


class LifecycleEvents:
    """Lifecycle events of one connection, handed to `listener(instance_uuid)`."""

    def __init__(self, conn: libvirt.virConnect, listener: Callable[[str], None]):
        self.conn = conn
        self.listener = listener
        self._callback_id = conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_event, None)

    def _on_event(self, _conn, dom, event: int, detail: int, _opaque) -> None:
        try:
            uuid = dom.UUIDString()
            LOG.debug('libvirt event %s (detail %s) for domain %s (%s)',
                      EVENT_NAMES.get(event, event), detail, dom.name(), uuid)
            if event in POWER_EVENTS:
                self.listener(uuid)
        except Exception:  # never raise into libvirt's loop
            LOG.exception('Handling a libvirt lifecycle event failed')

    def close(self) -> None:
        try:
            self.conn.domainEventDeregisterAny(self._callback_id)
        except libvirt.libvirtError:
            pass
