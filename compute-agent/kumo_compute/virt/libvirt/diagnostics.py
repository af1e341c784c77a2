"""A live libvirt domain's diagnostics (vCPUs, memory, disks, NICs, uptime) as
objects.InstanceDiagnostics, for GET /servers/{id}/diagnostics.

Each counter is read where the hypervisor gives it and left out (or None) where it
does not, as Nova's libvirt driver does: a disk whose statistics cannot be read is
not listed, a NIC without a host device (user networking) is listed by its MAC alone.
"""
from __future__ import annotations

import os
import urllib.parse
import xml.etree.ElementTree as ET

import libvirt

from kumo_common import objects

# Where libvirtd (qemu:///system) keeps each running domain's QEMU pid file.
QEMU_RUN_DIR = '/run/libvirt/qemu'
# The config drive's file in the instance directory (guest_layout).
CONFIG_DRIVE_FILE = 'disk.config'


def read(dom: libvirt.virDomain, power_state: int, virt_type: str, uri: str
         ) -> objects.InstanceDiagnostics:
    """Everything the domain tells of its guest now (`power_state` as the driver
    maps the domain's state)."""
    xml = ET.fromstring(dom.XMLDesc(0))
    _state, max_kib, used_kib, vcpus, _cpu_time = dom.info()
    return objects.InstanceDiagnostics(
        power_state=power_state, driver='libvirt', hypervisor=virt_type,
        hypervisor_os='linux', uptime=seconds_since_start(dom.name(), uri),
        config_drive=has_config_drive(xml), memory_kib=max_kib, memory_used_kib=used_kib,
        memory_stats=memory_stats(dom), cpus=cpus(dom, vcpus), disks=disks(dom, xml),
        nics=nics(dom, xml))


def cpus(dom: libvirt.virDomain, count: int) -> list[objects.CpuDiagnostics]:
    """Each vCPU with the time it ran; by number alone where the hypervisor keeps no
    per-vCPU times (Nova then lists none; the count is still worth showing)."""
    try:
        info = dom.vcpus()[0]
    except libvirt.libvirtError:
        return [objects.CpuDiagnostics(id=n) for n in range(count)]
    return [objects.CpuDiagnostics(id=number, time=cpu_time)
            for number, _state, cpu_time, _host_cpu in info]


def memory_stats(dom: libvirt.virDomain) -> dict:
    """The balloon's counters ({name: KiB}); {} where the hypervisor has none."""
    try:
        return dict(dom.memoryStats())
    except libvirt.libvirtError:
        return {}


def disks(dom: libvirt.virDomain, xml: ET.Element) -> list[objects.DiskDiagnostics]:
    found = []
    for disk in xml.findall('./devices/disk'):
        target = disk.find('target')
        dev = target.get('dev') if target is not None else None
        if not dev:
            continue
        try:
            read_requests, read_bytes, write_requests, write_bytes, errors = \
                dom.blockStats(dev)
        except libvirt.libvirtError:
            continue
        found.append(objects.DiskDiagnostics(
            device=dev, read_bytes=read_bytes, read_requests=read_requests,
            write_bytes=write_bytes, write_requests=write_requests, errors_count=errors))
    return found


def nics(dom: libvirt.virDomain, xml: ET.Element) -> list[objects.NicDiagnostics]:
    found = []
    for interface in xml.findall('./devices/interface'):
        mac = interface.find('mac')
        address = mac.get('address') if mac is not None else None
        target = interface.find('target')
        dev = target.get('dev') if target is not None else None
        if not dev:
            # No host device (user networking): nothing to count it with.
            found.append(objects.NicDiagnostics(mac_address=address))
            continue
        try:
            (rx_octets, rx_packets, rx_errors, rx_drop,
             tx_octets, tx_packets, tx_errors, tx_drop) = dom.interfaceStats(dev)
        except libvirt.libvirtError:
            continue
        found.append(objects.NicDiagnostics(
            mac_address=address, device=dev, rx_octets=rx_octets, rx_errors=rx_errors,
            rx_drop=rx_drop, rx_packets=rx_packets, tx_octets=tx_octets,
            tx_errors=tx_errors, tx_drop=tx_drop, tx_packets=tx_packets))
    return found


def has_config_drive(xml: ET.Element) -> bool:
    for source in xml.findall('./devices/disk/source'):
        path = source.get('file') or ''
        if os.path.basename(path) == CONFIG_DRIVE_FILE:
            return True
    return False


def seconds_since_start(name: str, uri: str, run_dir: str = QEMU_RUN_DIR) -> int | None:
    """How long the domain's QEMU process has run, from its pid file and /proc; None
    where that cannot be told from here (a remote or session libvirtd, no access):
    the API then counts from the server's launch, as Nova does."""
    if urllib.parse.urlparse(uri).hostname or not uri.startswith('qemu'):
        return None
    try:
        with open(os.path.join(run_dir, f'{name}.pid')) as f:
            pid = int(f.read().strip())
        with open(f'/proc/{pid}/stat') as f:
            # Fields after the command's closing parenthesis start at field 3; the
            # 22nd, starttime, is in clock ticks since the host booted.
            started = int(f.read().rsplit(')', 1)[1].split()[19])
        with open('/proc/uptime') as f:
            host_uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0, int(host_uptime - started / os.sysconf('SC_CLK_TCK')))
