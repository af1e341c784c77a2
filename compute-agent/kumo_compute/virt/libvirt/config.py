"""Libvirt domain XML, built from small typed pieces (dataclasses -> xml.etree).

Each piece knows how to render itself and nothing else; the driver decides which
pieces a guest gets. The shapes follow what Nova's libvirt driver writes (kernel/
initrd boot, a file serial console, SMBIOS saying "OpenStack Compute" so cloud-init
recognises the cloud), plus Kumo's own metadata naming the agent that owns the domain.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# Kumo's metadata namespace in the domain XML (<metadata><kumo:instance ...>).
KUMO_NS = 'http://openstack.org/xmlns/libvirt/kumo/1.0'
KUMO_PREFIX = 'kumo'


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


@dataclass
class InstanceMetadata:
    """Who the domain belongs to: the agent (host and its stable node uuid, so that
    agents of two clouds sharing one libvirtd never take each other's guests) and the
    server it runs."""
    host: str
    node: str = ''
    name: str = ''
    flavor: str = ''
    project_id: str = ''
    user_id: str = ''
    created_at: str = ''

    def render(self, parent: ET.Element) -> None:
        metadata = _sub(parent, 'metadata')
        instance = _sub(metadata, f'{{{KUMO_NS}}}instance')
        for tag in ('host', 'node', 'name', 'flavor', 'project_id', 'user_id',
                    'created_at'):
            _sub(instance, f'{{{KUMO_NS}}}{tag}', getattr(self, tag))

    @classmethod
    def parse(cls, text: str) -> InstanceMetadata | None:
        """From the XML libvirt returns for our namespace (virDomainGetMetadata)."""
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            return None

        def value(tag: str) -> str:
            found = root.find(f'{{{KUMO_NS}}}{tag}')
            if found is None:
                found = root.find(tag)
            return (found.text or '') if found is not None else ''

        host = value('host')
        if not host:
            return None
        return cls(host=host, node=value('node'), name=value('name'),
                   flavor=value('flavor'),
                   project_id=value('project_id'), user_id=value('user_id'),
                   created_at=value('created_at'))


@dataclass
class SysInfo:
    """SMBIOS system entries; product "OpenStack Compute" is what cloud-init looks for."""
    uuid: str
    manufacturer: str = 'Kumo'
    product: str = 'OpenStack Compute'
    version: str = '1.0'
    family: str = 'Virtual Machine'

    def render(self, parent: ET.Element) -> None:
        sysinfo = _sub(parent, 'sysinfo', type='smbios')
        system = _sub(sysinfo, 'system')
        for name in ('manufacturer', 'product', 'version'):
            _sub(system, 'entry', getattr(self, name), name=name)
        _sub(system, 'entry', self.uuid, name='serial')
        _sub(system, 'entry', self.uuid, name='uuid')
        _sub(system, 'entry', self.family, name='family')


@dataclass
class OS:
    """<os>: direct kernel boot when `kernel` is set (AMI style), else the disk."""
    arch: str = 'x86_64'
    machine: str | None = 'pc'
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    boot_dev: str = 'hd'

    def render(self, parent: ET.Element) -> None:
        os_el = _sub(parent, 'os')
        _sub(os_el, 'type', 'hvm', arch=self.arch, machine=self.machine)
        if self.kernel:
            _sub(os_el, 'kernel', self.kernel)
            if self.initrd:
                _sub(os_el, 'initrd', self.initrd)
            if self.cmdline:
                _sub(os_el, 'cmdline', self.cmdline)
        else:
            _sub(os_el, 'boot', dev=self.boot_dev)
        _sub(os_el, 'smbios', mode='sysinfo')


@dataclass
class Disk:
    """A file-backed disk or CD-ROM."""
    source: str
    target_dev: str
    bus: str = 'virtio'
    device: str = 'disk'          # disk | cdrom
    driver_type: str = 'qcow2'    # qcow2 | raw
    readonly: bool = False
    serial: str | None = None

    def render(self, parent: ET.Element) -> None:
        disk = _sub(parent, 'disk', type='file', device=self.device)
        _sub(disk, 'driver', name='qemu', type=self.driver_type)
        _sub(disk, 'source', file=self.source)
        _sub(disk, 'target', dev=self.target_dev, bus=self.bus)
        if self.readonly:
            _sub(disk, 'readonly')
        if self.serial:
            _sub(disk, 'serial', self.serial)


@dataclass
class Controller:
    type: str = 'scsi'
    model: str | None = 'virtio-scsi'
    index: int = 0

    def render(self, parent: ET.Element) -> None:
        _sub(parent, 'controller', type=self.type, index=str(self.index), model=self.model)


@dataclass
class Interface:
    """A NIC with the port's MAC. `user` networking needs nothing on the host."""
    mac: str
    type: str = 'user'
    model: str = 'virtio'

    def render(self, parent: ET.Element) -> None:
        nic = _sub(parent, 'interface', type=self.type)
        _sub(nic, 'mac', address=self.mac)
        _sub(nic, 'model', type=self.model)


@dataclass
class FileSerial:
    """The serial console written to a file (what os-getConsoleOutput reads)."""
    path: str
    port: int = 0
    append: bool = True

    def render(self, parent: ET.Element) -> None:
        serial = _sub(parent, 'serial', type='file')
        _sub(serial, 'source', path=self.path, append='on' if self.append else None)
        _sub(serial, 'target', port=str(self.port))


@dataclass
class Domain:
    uuid: str
    name: str
    virt_type: str                 # kvm | qemu
    memory_mib: int
    vcpus: int
    os: OS
    metadata: InstanceMetadata
    disks: list[Disk] = field(default_factory=list)
    controllers: list[Controller] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    serials: list = field(default_factory=list)      # FileSerial, consoles.TcpSerial
    graphics: list = field(default_factory=list)     # consoles.VncGraphics
    features: tuple[str, ...] = ('acpi', 'apic')
    on_poweroff: str = 'destroy'
    on_reboot: str = 'restart'
    on_crash: str = 'destroy'
    cpu_mode: str | None = None    # host-model for kvm; QEMU's default model for TCG

    def to_element(self) -> ET.Element:
        domain = ET.Element('domain', type=self.virt_type)
        _sub(domain, 'uuid', self.uuid)
        _sub(domain, 'name', self.name)
        self.metadata.render(domain)
        _sub(domain, 'memory', str(self.memory_mib), unit='MiB')
        _sub(domain, 'vcpu', str(self.vcpus))
        SysInfo(uuid=self.uuid).render(domain)
        self.os.render(domain)
        features = _sub(domain, 'features')
        for name in self.features:
            _sub(features, name)
        if self.cpu_mode:
            _sub(domain, 'cpu', mode=self.cpu_mode)
        _sub(domain, 'clock', offset='utc')
        _sub(domain, 'on_poweroff', self.on_poweroff)
        _sub(domain, 'on_reboot', self.on_reboot)
        _sub(domain, 'on_crash', self.on_crash)
        devices = _sub(domain, 'devices')
        for piece in (*self.controllers, *self.disks, *self.interfaces, *self.serials,
                      *self.graphics):
            piece.render(devices)
        # No balloon: nothing reads its statistics, and it is one device less to emulate.
        _sub(devices, 'memballoon', model='none')
        return domain

    def to_xml(self) -> str:
        ET.register_namespace(KUMO_PREFIX, KUMO_NS)
        element = self.to_element()
        ET.indent(element)
        return ET.tostring(element, encoding='unicode')
