"""The local disks a guest gets from its flavor and block device mapping, with the
device names Nova's libvirt driver gives them."""
from __future__ import annotations

import testtools

from kumo_common import objects
from kumo_compute.virt import block_device as bd


def _build(ephemeral_gb=0, swap=0, block_devices=()) -> objects.InstanceBuild:
    return objects.InstanceBuild(
        uuid='u1', name='vm', hostname='vm', project_id='p', user_id='u',
        flavor=objects.FlavorSpec(flavorid='f', name='f', vcpus=1, memory_mb=128,
                                  root_gb=1, ephemeral_gb=ephemeral_gb, swap=swap),
        image=objects.ImageSpec(id='img'), node_uuid='n1',
        block_devices=list(block_devices))


def _root(**extra) -> objects.BlockDeviceSpec:
    return objects.BlockDeviceSpec(source_type='image', boot_index=0, **extra)


def _blank(size, **extra) -> objects.BlockDeviceSpec:
    return objects.BlockDeviceSpec(source_type='blank', boot_index=-1, volume_size=size,
                                   **extra)


def _layout(disks) -> list[tuple]:
    return [(d.file, d.dev, d.bus, d.size_mb, d.guest_format, d.label) for d in disks]


class TestLocalDisks(testtools.TestCase):

    def test_image_only(self):
        self.assertEqual([('disk', 'vda', 'virtio', 1024, None, None)],
                         _layout(bd.local_disks(_build(block_devices=[_root()]))))

    def test_flavor_disks_without_a_mapping(self):
        # An older conductor sends no mapping: the flavor's ephemeral disk and swap.
        self.assertEqual(
            [('disk', 'vda', 'virtio', 1024, None, None),
             ('disk.eph0', 'vdb', 'virtio', 2048, None, 'ephemeral0'),
             ('disk.swap', 'vdc', 'virtio', 64, 'swap', 'swap0')],
            _layout(bd.local_disks(_build(ephemeral_gb=2, swap=64))))

    def test_mapping_ephemerals_replace_the_flavors(self):
        disks = bd.local_disks(_build(ephemeral_gb=3, swap=64, block_devices=[
            _root(), _blank(1, guest_format='ext3'), _blank(2),
            _blank(32, guest_format='swap')]))
        self.assertEqual(
            [('disk', 'vda', 'virtio', 1024, None, None),
             ('disk.eph0', 'vdb', 'virtio', 1024, 'ext3', 'ephemeral0'),
             ('disk.eph1', 'vdc', 'virtio', 2048, None, 'ephemeral1'),
             ('disk.swap', 'vdd', 'virtio', 32, 'swap', 'swap0')], _layout(disks))

    def test_given_names_are_kept_and_not_handed_out(self):
        # As Nova: an unnamed disk skips the names later disks asked for.
        disks = bd.local_disks(_build(ephemeral_gb=2, swap=64, block_devices=[
            _root(), _blank(1), _blank(1, device_name='/dev/vdb'),
            _blank(64, guest_format='swap')]))
        self.assertEqual([('disk', 'vda'), ('disk.eph0', 'vdc'), ('disk.eph1', 'vdb'),
                          ('disk.swap', 'vdd')], [(d.file, d.dev) for d in disks])

    def test_bus_from_the_mapping_or_the_name(self):
        disks = bd.local_disks(_build(ephemeral_gb=2, block_devices=[
            _root(), _blank(1, disk_bus='scsi'), _blank(1, device_name='hdb')]))
        self.assertEqual([('vda', 'virtio'), ('sda', 'scsi'), ('hdb', 'ide')],
                         [(d.dev, d.bus) for d in disks])
        # The image's hw_disk_bus is the default bus.
        disks = bd.local_disks(_build(ephemeral_gb=1, block_devices=[_root(), _blank(1)]),
                               disk_bus='scsi')
        self.assertEqual([('sda', 'scsi'), ('sdb', 'scsi')], [(d.dev, d.bus) for d in disks])

    def test_root_name_from_the_mapping(self):
        disks = bd.local_disks(_build(ephemeral_gb=1, block_devices=[
            _root(device_name='/dev/vdb'), _blank(1)]))
        self.assertEqual([('disk', 'vdb'), ('disk.eph0', 'vda')],
                         [(d.file, d.dev) for d in disks])

    def test_ephemeral_without_size_takes_the_flavors(self):
        disks = bd.local_disks(_build(ephemeral_gb=2, block_devices=[
            _root(), objects.BlockDeviceSpec(source_type='blank')]))
        self.assertEqual(2048, disks[1].size_mb)

    def test_a_name_used_twice_is_refused(self):
        self.assertRaises(bd.BlockDeviceError, bd.local_disks, _build(
            ephemeral_gb=2, block_devices=[_root(), _blank(1, device_name='vdb'),
                                           _blank(1, device_name='/dev/vdb')]))

    def test_payload_round_trip(self):
        build = _build(ephemeral_gb=1, block_devices=[_root(), _blank(1)])
        again = objects.Payload.from_primitive(build.to_primitive())
        self.assertEqual(build.block_devices, again.block_devices)
        self.assertIsInstance(again.block_devices[1], objects.BlockDeviceSpec)
