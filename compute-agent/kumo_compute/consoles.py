"""The agent's side of remote consoles: where a guest's serial or VNC console listens.

The compute agent answers get_serial_console / get_vnc_console through here: the
console type must be enabled on this host ([serial_console] / [vnc] enabled, as
Nova's compute manager checks), then the driver reads host and port from the guest.
The API makes the token; the agent never sees it.
"""
from __future__ import annotations

from oslo_config import cfg

from kumo_common import exceptions

CONF = cfg.CONF


def _answer(console) -> dict | None:
    if console is None:
        return None
    host, port = console
    return {'host': host, 'port': int(port), 'internal_access_path': None}


def serial_console(driver, instance_uuid: str) -> dict | None:
    """{'host', 'port', 'internal_access_path'}; None when the driver has no serial
    consoles (API: 501). ConsoleTypeUnavailable when disabled here or the guest
    was laid out without one."""
    if not CONF.serial_console.enabled:
        raise exceptions.ConsoleTypeUnavailable(console_type='serial')
    try:
        return _answer(driver.get_serial_console(instance_uuid))
    except NotImplementedError:
        return None


def vnc_console(driver, instance_uuid: str) -> dict | None:
    """As serial_console, for the guest's VNC server."""
    if not CONF.vnc.enabled:
        raise exceptions.ConsoleTypeUnavailable(console_type='novnc')
    try:
        return _answer(driver.get_vnc_console(instance_uuid))
    except NotImplementedError:
        return None
