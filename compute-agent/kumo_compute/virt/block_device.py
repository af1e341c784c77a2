"""Which local disks a guest gets, and the device names they take.

The rules are those of Nova's libvirt driver (blockinfo.get_disk_mapping): the root
disk first, then the ephemeral disks in the order of the block device mapping (or the
flavor's, when the mapping has none), then swap; a device name given in the mapping
is kept, the others take the first free name of their bus, skipping names that a
later disk asked for. The config drive, last, is the driver's affair (hdd on IDE).

Kept apart from the libvirt driver so the fake driver lays out disks the same way
(tests can see what a server would get without QEMU).
"""
from __future__ import annotations

from dataclasses import dataclass

from kumo_common import objects

ROOT = 'root'
EPHEMERAL = 'ephemeral'
SWAP = 'swap'

# Device name prefix of each bus (Nova's get_dev_prefix_for_disk_bus).
_PREFIX = {'virtio': 'vd', 'ide': 'hd', 'scsi': 'sd', 'usb': 'sd', 'sata': 'sd',
           'fdc': 'fd', 'xen': 'xvd', 'uml': 'ubd'}
# The buses QEMU guests can have disks on (Nova's is_disk_bus_valid_for_virt).
_QEMU_BUSES = ('virtio', 'scsi', 'ide', 'usb', 'fdc', 'sata')


class BlockDeviceError(Exception):
    pass


@dataclass(frozen=True)
class LocalDisk:
    """One disk file of the guest: `file` in its instance directory, `dev` its name
    in the guest (vda...), `size_mb` its size (0: the image's own, for the root)."""
    kind: str
    file: str
    dev: str
    bus: str
    size_mb: int
    guest_format: str | None = None
    label: str | None = None


def strip_dev(name: str | None) -> str | None:
    if not name:
        return None
    return name[len('/dev/'):] if name.startswith('/dev/') else name


def is_ephemeral(spec: objects.BlockDeviceSpec) -> bool:
    return (spec.source_type == 'blank' and spec.destination_type == 'local'
            and spec.guest_format != 'swap')


def is_swap(spec: objects.BlockDeviceSpec) -> bool:
    return (spec.source_type == 'blank' and spec.destination_type == 'local'
            and spec.guest_format == 'swap')


def bus_for_dev(dev: str) -> str:
    """The bus a device name implies (Nova's get_disk_bus_for_disk_dev)."""
    for prefix, bus in (('hd', 'ide'), ('sd', 'scsi'), ('vd', 'virtio'), ('fd', 'fdc'),
                        ('xvd', 'xen')):
        if dev.startswith(prefix):
            return bus
    raise BlockDeviceError(f'Unable to determine disk bus for {dev!r}')


def _first_free(bus: str, taken: set[str]) -> str:
    prefix = _PREFIX.get(bus)
    if prefix is None:
        raise BlockDeviceError(f'Unable to determine disk prefix for {bus}')
    for index in range(4 if bus == 'ide' else 26):
        dev = prefix + chr(ord('a') + index)
        if dev not in taken:
            return dev
    raise BlockDeviceError(f"No free disk device names for prefix '{prefix}'")


def _place(spec: objects.BlockDeviceSpec | None, default_bus: str,
           taken: set[str]) -> tuple[str, str]:
    """(dev, bus) of one disk: its own name if it has one, else the next free one."""
    name = strip_dev(spec.device_name) if spec is not None else None
    bus = spec.disk_bus if spec is not None else None
    if bus not in _QEMU_BUSES:
        bus = bus_for_dev(name) if name else default_bus
    return name or _first_free(bus, taken), bus


def local_disks(build: objects.InstanceBuild, disk_bus: str = 'virtio'
                ) -> list[LocalDisk]:
    """The guest's root, ephemeral and swap disks, in the order the guest sees them."""
    flavor = build.flavor
    specs = [s for s in build.block_devices if s.destination_type == 'local']
    ephemerals = [s for s in specs if is_ephemeral(s)]
    swap = next((s for s in specs if is_swap(s) and (s.volume_size or 0) > 0), None)
    root_spec = next((s for s in specs if s.source_type == 'image'
                      and s.boot_index == 0), None)
    if not ephemerals and flavor.ephemeral_gb:
        # No ephemeral in the mapping (an older conductor sends none): the flavor's.
        ephemerals = [objects.BlockDeviceSpec(source_type='blank',
                                              volume_size=flavor.ephemeral_gb)]
    if swap is None and flavor.swap:
        swap = objects.BlockDeviceSpec(source_type='blank', guest_format='swap',
                                       volume_size=flavor.swap)
    # Names the mapping gives later disks are not handed out to earlier ones.
    wanted = {strip_dev(s.device_name) for s in (*ephemerals, swap)
              if s is not None and s.device_name}

    taken: set[str] = set()
    disks = []

    def add(kind: str, file: str, spec, size_mb: int, **extra) -> None:
        dev, bus = _place(spec, disk_bus, taken | wanted)
        if dev in taken:
            raise BlockDeviceError(f'Device name {dev} is used twice')
        taken.add(dev)
        disks.append(LocalDisk(kind, file, dev, bus, size_mb, **extra))

    root_dev, root_bus = _place(root_spec, disk_bus, set())
    taken.add(root_dev)
    disks.append(LocalDisk(ROOT, 'disk', root_dev, root_bus, flavor.root_gb * 1024))
    index = 0
    for spec in ephemerals:
        size_gb = spec.volume_size if spec.volume_size is not None else flavor.ephemeral_gb
        if not size_gb:
            continue
        add(EPHEMERAL, f'disk.eph{index}', spec, size_gb * 1024,
            guest_format=spec.guest_format, label=f'ephemeral{index}')
        index += 1
    if swap is not None:
        add(SWAP, 'disk.swap', swap, swap.volume_size, guest_format='swap', label='swap0')
    return disks
