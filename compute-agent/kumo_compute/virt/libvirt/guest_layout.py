"""A guest laid out on disk, and the domain that runs it.

`GuestLayout.lay_out` makes a guest's files in its directory (root, ephemeral and
swap disks as qcow2 overlays of cached bases, the config drive, an AMI kernel and
ramdisk) and returns the domain that runs them, built from the typed pieces of
`config`. Spawn, rebuild, rescue and the destination of a resize all lay guests out
through it, so a guest is made the same way whichever way it came.
"""
from __future__ import annotations

import os
import re
import shutil
import time

from oslo_config import cfg

from kumo_common import objects
from kumo_compute.virt import block_device
from kumo_compute.virt.libvirt import config as vconfig
from kumo_compute.virt.libvirt import configdrive, consoles, disk, imagecache

CONF = cfg.CONF

# The guest's ephemeral disks: disk.eph0, disk.eph1...
EPHEMERAL_FILE = re.compile(r'^disk\.eph[0-9]+$')
# The kernel command line of an AMI-style boot whose image does not give one.
DEFAULT_CMDLINE = 'root=/dev/vda console=tty0 console=ttyS0'

# The file system of an ephemeral disk whose mapping names none and no
# [DEFAULT] default_ephemeral_format is set: Nova's, by the image's os_type.
FORMAT_BY_OS_TYPE = {'linux': 'ext4', 'windows': 'ntfs'}
FALLBACK_EPHEMERAL_FORMAT = 'vfat'


def ephemeral_format(guest_format: str | None, os_type: str | None) -> str:
    """As Nova chooses: the mapping's guest_format, else [DEFAULT]
    default_ephemeral_format, else by the image's os_type, else vfat."""
    return (guest_format or CONF.default_ephemeral_format
            or FORMAT_BY_OS_TYPE.get(os_type or '', FALLBACK_EPHEMERAL_FORMAT))


class GuestNotFound(Exception):
    """The guest has no domain (or no files) on this host."""


class AnotherAgentsGuest(Exception):
    """The domain is another agent's on this libvirtd (or another cloud's)."""


class GuestLayout:
    def __init__(self, images: imagecache.ImageCache, virt_type: str, host: str):
        self.images = images
        self.virt_type = virt_type
        self.host = host

    def lay_out(self, build: objects.InstanceBuild, path: str,
                node_uuid: str | None = None) -> vconfig.Domain:
        """Make the guest's files in `path`; the domain that runs them, tagged as
        this agent's (`node_uuid`: its stable node, when it has registered)."""
        image = build.image
        props = image.properties or {}
        flavor = build.flavor
        base = self.images.fetch(image)
        disk_bus = props.get('hw_disk_bus', 'virtio')
        # Root, then ephemeral disks (the mapping's, or the flavor's), then swap, with
        # the device names Nova's libvirt driver would give them.
        disks = []
        for local in block_device.local_disks(build, disk_bus):
            target = os.path.join(path, local.file)
            if local.kind == block_device.ROOT:
                disk.create_overlay(base, disk.qemu_format(image.disk_format), target,
                                    flavor.root_gb * disk.GiB)
            elif local.kind == block_device.EPHEMERAL:
                fs = ephemeral_format(local.guest_format, props.get('os_type'))
                disk.create_overlay(disk.ephemeral_base(
                    self.images.base_dir, local.size_mb // 1024, fs, local.label),
                    'raw', target)
            else:
                disk.create_overlay(disk.swap_base(self.images.base_dir, local.size_mb),
                                    'raw', target)
            disks.append(vconfig.Disk(target, local.dev, bus=local.bus))

        if configdrive.wanted(build, CONF.force_config_drive):
            iso = os.path.join(path, 'disk.config')
            configdrive.make(build, iso)
            cdrom_bus = props.get('hw_cdrom_bus', 'ide')
            target = {'ide': 'hdd', 'scsi': 'sdz', 'sata': 'sdz'}.get(cdrom_bus, 'hdd')
            disks.append(vconfig.Disk(iso, target, bus=cdrom_bus, device='cdrom',
                                      driver_type='raw', readonly=True))
        # A SCSI disk or CD-ROM (the image's buses, or a mapping's disk_bus or sdX
        # device name) needs the controller the image asks for.
        controllers = [vconfig.Controller('scsi', props.get('hw_scsi_model', 'virtio-scsi'))
                       ] if any(d.bus == 'scsi' for d in disks) else []

        os_config = vconfig.OS(machine=props.get('hw_machine_type', 'pc'))
        # AMI-style boot, as Nova: the kernel and ramdisk images are copied next to
        # the disks and handed to QEMU directly.
        if props.get('kernel_id'):
            os_config.kernel = self._copy_boot_file(build.kernel, props['kernel_id'],
                                                    os.path.join(path, 'kernel'))
            if props.get('ramdisk_id'):
                os_config.initrd = self._copy_boot_file(build.ramdisk, props['ramdisk_id'],
                                                        os.path.join(path, 'ramdisk'))
            os_config.cmdline = props.get('os_command_line') or DEFAULT_CMDLINE

        return vconfig.Domain(
            uuid=build.uuid, name=build.instance_name or f'instance-{build.uuid}',
            virt_type=self.virt_type, memory_mib=flavor.memory_mb, vcpus=flavor.vcpus,
            os=os_config,
            metadata=vconfig.InstanceMetadata(
                host=self.host, node=node_uuid or build.node_uuid, name=build.name,
                flavor=flavor.name,
                project_id=build.project_id, user_id=build.user_id,
                created_at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())),
            disks=disks, controllers=controllers,
            interfaces=[vconfig.Interface(mac=p.mac_address) for p in build.ports],
            serials=consoles.serial_devices(os.path.join(path, 'console.log')),
            graphics=consoles.graphics_devices(),
            cpu_mode='host-model' if self.virt_type == 'kvm' else None)

    def _copy_boot_file(self, spec: objects.ImageSpec | None, image_id: str,
                        target: str) -> str:
        if spec is None:
            raise imagecache.ImageError(f'Kernel/ramdisk image {image_id} was not found')
        shutil.copyfile(self.images.fetch(spec), target)
        os.chmod(target, 0o644)
        return target
