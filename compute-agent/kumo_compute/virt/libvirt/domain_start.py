"""Starting a defined domain, through libvirt's transient refusals.

For each guest it starts, libvirt's QEMU driver loads a cgroup BPF program (its
device controller). On a busy host the kernel can refuse that with EAGAIN ("failed
to load cgroup BPF prog: Resource temporarily unavailable") and the start fails,
although nothing is wrong with the guest; a build would then be rescheduled away
from a good host, or a start or reboot fail. Such a refusal is tried again a few
times, a moment apart; any other error is raised at once.
"""
from __future__ import annotations

import time

import libvirt
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

ATTEMPTS = 5
FIRST_PAUSE = 0.2  # seconds; doubled after each refusal (0.2 + 0.4 + 0.8 + 1.6)
_TRANSIENT = 'Resource temporarily unavailable'


def start(dom: libvirt.virDomain) -> None:
    """dom.create(), again while libvirt refuses it for a transient shortage."""
    pause = FIRST_PAUSE
    for attempt in range(1, ATTEMPTS + 1):
        try:
            dom.create()
            return
        except libvirt.libvirtError as exc:
            if _TRANSIENT not in str(exc) or attempt == ATTEMPTS:
                raise
            LOG.warning('Starting domain %s: %s; trying again in %.1fs (attempt %d of %d)',
                        dom.name(), exc, pause, attempt + 1, ATTEMPTS)
        time.sleep(pause)
        pause *= 2
