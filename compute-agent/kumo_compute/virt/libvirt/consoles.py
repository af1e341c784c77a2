"""A libvirt guest's remote consoles: the devices that make them, and where they listen.

With [serial_console] enabled a guest's first serial port is a TCP server
(`<serial type='tcp'>`, raw, bound to proxyclient_address on a free port of
port_range) that still logs everything to console.log, so os-getConsoleOutput reads
the same file either way. With [vnc] enabled the guest gets `<graphics type='vnc'>`
on server_listen with a port libvirt chooses (autoport). The host and port the proxy
connects to are read back from the live domain's XML, as Nova's driver does.
"""
from __future__ import annotations

import contextlib
import random
import socket
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from oslo_config import cfg

from kumo_common import exceptions
from kumo_compute.virt.libvirt import config as vconfig

CONF = cfg.CONF

# Ports held by guests of this process's agents (they share one libvirtd in
# kumo-all): a port is free only if no defined guest holds it and nothing listens on
# it now. A stopped guest's port is bound by no one, hence the set: filled from the
# defined domains when an agent starts (hold_ports), emptied as domains go
# (release_ports), as Nova's serial_console.acquire_port/release_port pair.
_taken: set[tuple[str, int]] = set()
_taken_lock = threading.Lock()


@dataclass
class TcpSerial:
    """The serial console as a raw TCP server, logging to `log_path` as FileSerial."""
    host: str
    port: int
    log_path: str
    target_port: int = 0

    def render(self, parent: ET.Element) -> None:
        serial = ET.SubElement(parent, 'serial', type='tcp')
        ET.SubElement(serial, 'source', mode='bind', host=self.host,
                      service=str(self.port))
        ET.SubElement(serial, 'protocol', type='raw')
        ET.SubElement(serial, 'log', file=self.log_path, append='on')
        ET.SubElement(serial, 'target', port=str(self.target_port))


@dataclass
class VncGraphics:
    listen: str

    def render(self, parent: ET.Element) -> None:
        graphics = ET.SubElement(parent, 'graphics', type='vnc', port='-1',
                                 autoport='yes', listen=self.listen)
        ET.SubElement(graphics, 'listen', type='address', address=self.listen)


def _port_range() -> range:
    low, high = (int(p) for p in CONF.serial_console.port_range.split(':'))
    return range(low, high + 1)


def _bindable(host: str, port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def acquire_port(host: str) -> int:
    """A port of [serial_console] port_range free on `host`, reserved for this
    process; SocketPortRangeExhausted when there is none. Starts at a random place
    so that agents in different processes rarely try the same port first."""
    ports = _port_range()
    start = random.randrange(len(ports)) if len(ports) else 0
    with _taken_lock:
        for i in range(len(ports)):
            port = ports[(start + i) % len(ports)]
            if (host, port) not in _taken and _bindable(host, port):
                _taken.add((host, port))
                return port
    raise exceptions.SocketPortRangeExhausted(host=host)


def _tcp_serials(xml: str) -> list[tuple[str, int]]:
    root = ET.fromstring(xml)
    found = []
    for serial in root.findall("./devices/serial[@type='tcp']"):
        source = serial.find("./source[@mode='bind']")
        if source is not None and source.get('service'):
            found.append((source.get('host'), int(source.get('service'))))
    return found


def hold_ports(xml: str) -> None:
    """Mark the serial ports of a defined domain (its XML) as taken."""
    with _taken_lock:
        _taken.update(_tcp_serials(xml))


def release_ports(xml: str) -> None:
    """Give back the serial ports of a domain (its XML) that is being undefined."""
    with _taken_lock:
        _taken.difference_update(_tcp_serials(xml))


def serial_devices(log_path: str) -> list:
    """The guest's serial port(s): a TCP console logging to `log_path` when
    [serial_console] is enabled, else the log file alone."""
    if not CONF.serial_console.enabled:
        return [vconfig.FileSerial(log_path)]
    host = CONF.serial_console.proxyclient_address
    return [TcpSerial(host, acquire_port(host), log_path)]


def graphics_devices() -> list:
    return [VncGraphics(CONF.vnc.server_listen)] if CONF.vnc.enabled else []


def serial_from_xml(xml: str) -> tuple[str, int]:
    """(host, port) of the domain's first TCP serial console in bind mode."""
    serials = _tcp_serials(xml)
    if not serials:
        raise exceptions.ConsoleTypeUnavailable(console_type='serial')
    return serials[0]


def vnc_from_xml(xml: str) -> tuple[str, int]:
    """(server_proxyclient_address, port) of the domain's VNC server; its port is
    known only while the domain runs (autoport), -1 otherwise."""
    graphics = ET.fromstring(xml).find("./devices/graphics[@type='vnc']")
    if graphics is None or int(graphics.get('port', '-1')) < 0:
        raise exceptions.ConsoleTypeUnavailable(console_type='vnc')
    return CONF.vnc.server_proxyclient_address, int(graphics.get('port'))
