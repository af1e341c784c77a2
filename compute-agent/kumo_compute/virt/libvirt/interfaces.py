"""Hot-plugging a guest's NICs (os-interface): one port's <interface> added to or
taken from a domain, live when the guest runs and in its definition either way.

The <interface> is the one a build gives the port (config.Interface), so a NIC
plugged later is the same device a boot would have made. Libvirt finds the NIC to
unplug by its MAC. A live unplug only asks the guest to let the device go (an ACPI
hot-unplug request); the device is gone once QEMU says so, which is waited for here,
the request repeated as Nova's driver repeats it. The domain's XML is saved again as
the guest's libvirt.xml, which unrescue and a resize's revert define again.
"""
from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET

import libvirt
from oslo_log import log as logging

from kumo_common import objects
from kumo_compute.virt.libvirt import config as vconfig

LOG = logging.getLogger(__name__)

# How long a live unplug waits for the guest, and how often it asks again.
DETACH_TIMEOUT = 30.0
DETACH_RETRY_INTERVAL = 5.0


def interface_xml(port: objects.PortSpec) -> str:
    devices = ET.Element('devices')
    vconfig.Interface(mac=port.mac_address).render(devices)
    return ET.tostring(devices[0], encoding='unicode')


def macs(dom: libvirt.virDomain, live: bool) -> list[str]:
    """The MACs of the domain's NICs, as it runs (`live`) or as it is defined."""
    flags = 0 if live else libvirt.VIR_DOMAIN_XML_INACTIVE
    root = ET.fromstring(dom.XMLDesc(flags))
    return [(mac.get('address') or '').lower()
            for mac in root.findall('./devices/interface/mac')]


def attach(dom: libvirt.virDomain, port: objects.PortSpec, instance_dir: str) -> None:
    """Plug the port's NIC: into the definition, and live if the guest runs (a NIC
    it has already is not plugged twice: a call repeated is harmless)."""
    xml, mac = interface_xml(port), port.mac_address.lower()
    flags = 0
    if mac not in macs(dom, live=False):
        flags |= libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if dom.isActive() and mac not in macs(dom, live=True):
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    if flags:
        # Both at once where both lack it: libvirt gives the NIC the same PCI slot
        # in the running guest and in its definition.
        dom.attachDeviceFlags(xml, flags)
    _save(dom, instance_dir)
    LOG.info('Port %s (%s) plugged into domain %s', port.id, mac, dom.name())


def detach(dom: libvirt.virDomain, port: objects.PortSpec, instance_dir: str,
           timeout: float = DETACH_TIMEOUT) -> None:
    """Unplug the port's NIC from the definition, and from the running guest, waiting
    until QEMU has let it go (RuntimeError if the guest keeps it past `timeout`)."""
    xml, mac = interface_xml(port), port.mac_address.lower()
    if mac in macs(dom, live=False):
        dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        _save(dom, instance_dir)
    if not dom.isActive():
        return
    deadline = time.monotonic() + timeout
    asked = 0.0
    while mac in macs(dom, live=True):
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError(f'The guest of domain {dom.name()} did not release the NIC '
                               f'{mac} within {timeout:.0f} s')
        if now - asked >= DETACH_RETRY_INTERVAL:
            try:
                dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            except libvirt.libvirtError as exc:
                # Already being unplugged (the guest has not answered yet): wait on.
                LOG.debug('Live detach of %s from %s: %s', mac, dom.name(), exc)
            asked = now
        time.sleep(0.2)
    LOG.info('Port %s (%s) unplugged from domain %s', port.id, mac, dom.name())


def _save(dom: libvirt.virDomain, instance_dir: str) -> None:
    """The definition as it now is, as the guest's libvirt.xml."""
    if os.path.isdir(instance_dir):
        with open(os.path.join(instance_dir, 'libvirt.xml'), 'w') as f:
            f.write(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
