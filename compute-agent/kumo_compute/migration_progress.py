"""The source's reports of how far a live migration's copy has got.

While the live_migration step copies the guest (it holds the instance's lock until
the guest runs at the destination), the driver is asked every [compute]
live_migration_progress_interval seconds for the copy's counters (memory and disk
bytes, as Nova's libvirt monitor reads the domain's job info), which are cast to
the conductor; it writes them onto the migration record while it is running. The
reports of a copy end with its step, however the step ends.

One reporter thread per process does it for every copy, started with the agent
(start()), idle when nothing is copied: a step that started a thread of its own
would give way to the other threads just as the copy begins, and an abort sent
right after the migration began running would then come before the copy it is
meant to stop.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import objects
from kumo_common.rpcapi import conductor as conductor_rpcapi
from kumo_compute.virt.driver import ComputeDriver

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# How long the step's end waits for a report of its copy being sent to finish (a
# cast that hangs on the broker must not hold the step's own report back for long).
STOP_PATIENCE = 5.0


@dataclass(eq=False)
class _Copy:
    """A copy being reported: whom to ask and tell, and when next."""
    driver: ComputeDriver
    conductor: conductor_rpcapi.ConductorAPI
    ctxt: object
    step: objects.MigrationStep
    interval: float
    due: float
    sending: bool = False


_copies: set[_Copy] = set()
_changed = threading.Condition()
_reporter: threading.Thread | None = None


def start() -> None:
    """Start this process's reporter, if it is not running yet."""
    global _reporter
    with _changed:
        if _reporter is None or not _reporter.is_alive():
            _reporter = threading.Thread(target=_report_forever,
                                         name='live-migration-progress', daemon=True)
            _reporter.start()


@contextlib.contextmanager
def reporting(driver: ComputeDriver, conductor: conductor_rpcapi.ConductorAPI, ctxt,
              step: objects.MigrationStep) -> Iterator[None]:
    """Report the copy's progress for as long as the block runs."""
    start()
    interval = CONF.compute.live_migration_progress_interval
    copy = _Copy(driver, conductor, ctxt, step, interval, time.monotonic() + interval)
    with _changed:
        _copies.add(copy)
        _changed.notify_all()
    try:
        yield
    finally:
        with _changed:
            _copies.discard(copy)
            # A report being sent ends first: none follows the step's end.
            deadline = time.monotonic() + STOP_PATIENCE
            while copy.sending and time.monotonic() < deadline:
                _changed.wait(deadline - time.monotonic())
        if copy.sending:
            LOG.warning('The progress report of the live migration %s of %s is still '
                        'being sent; it is the last', step.migration_uuid,
                        step.instance_uuid)


def watched() -> list[str]:
    """The instances whose copies are being reported (for tests)."""
    with _changed:
        return [copy.step.instance_uuid for copy in _copies]


def _report_forever() -> None:
    while True:
        with _changed:
            now = time.monotonic()
            due = [copy for copy in _copies if copy.due <= now]
            if not due:
                upcoming = min((copy.due for copy in _copies), default=None)
                _changed.wait(None if upcoming is None else upcoming - now)
                continue
            for copy in due:
                copy.sending, copy.due = True, now + copy.interval
        for copy in due:
            try:
                _report(copy)
            finally:
                with _changed:
                    copy.sending = False
                    _changed.notify_all()


def _report(copy: _Copy) -> None:
    step = copy.step
    try:
        progress = copy.driver.live_migration_progress(step.instance_uuid)
        if progress is None:
            return
        LOG.debug('Live migration %s of %s: %s', step.migration_uuid, step.instance_uuid,
                  progress)
        copy.conductor.live_migration_progress(copy.ctxt, step.migration_uuid, progress)
    except Exception:
        # A report lost is only a report: the copy goes on, and so do they.
        LOG.exception('Reporting the progress of the live migration %s of %s failed',
                      step.migration_uuid, step.instance_uuid)
