"""The libvirt driver's disks from the flavor and block_device_mapping_v2, through its
real spawn against libvirt's in-memory test driver (test:///default): the domain
XML it defines, and the qcow2 files it makes of each requested size."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import fixtures
import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture

import kumo_common.conf  # noqa: F401  (registers the options)
from kumo_common import objects

CONF = cfg.CONF
UUID = '9b0d6a3e-1f4c-4a8e-8c41-6f2d9b1e7a10'


def _info(path: str) -> dict:
    return json.loads(subprocess.run(['qemu-img', 'info', '--output=json', '-U', path],
                                     check=True, capture_output=True, text=True).stdout)


def _fs(path: str) -> tuple[str, str]:
    out = subprocess.run(['blkid', '-p', '-o', 'export', path], capture_output=True,
                         text=True).stdout
    values = dict(line.split('=', 1) for line in out.split() if '=' in line)
    return values.get('TYPE', ''), values.get('LABEL', '')


class TestLibvirtDisks(testtools.TestCase):

    def setUp(self):
        super().setUp()
        for tool in ('qemu-img', 'mkfs.ext4', 'mkfs.ext3', 'mkswap', 'blkid'):
            if shutil.which(tool) is None:
                self.skipTest(f'{tool} is not installed')
        try:
            from kumo_compute.virt.libvirt import driver
        except ImportError as exc:
            self.skipTest(f'libvirt-python is not installed: {exc}')
        self.tmp = self.useFixture(fixtures.TempDir()).path
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(group='libvirt', connection_uri='test:///default', virt_type='qemu')
        conf.config(instances_path=self.tmp, force_config_drive=False)
        image = os.path.join(self.tmp, 'image.raw')
        with open(image, 'wb') as f:
            f.truncate(1 << 20)
        self.image = objects.ImageSpec(id='img-1', location=image, disk_format='raw')
        self.driver = driver.LibvirtDriver('compute1', 'node-1')
        self.addCleanup(self.driver.cleanup_host)

    def _spawn(self, flavor: dict, block_devices: list) -> ET.Element:
        build = objects.InstanceBuild(
            uuid=UUID, name='vm', hostname='vm', project_id='p', user_id='u',
            flavor=objects.FlavorSpec(flavorid='f', name='f', vcpus=1, memory_mb=128,
                                      root_gb=1, **flavor),
            image=self.image, node_uuid='node-1', instance_name='instance-0000002a',
            block_devices=block_devices)
        self.driver.spawn(build)
        conn = self.driver._get_conn()
        dom = conn.lookupByUUIDString(UUID)
        self.addCleanup(dom.undefine)
        self.addCleanup(dom.destroy)
        return ET.fromstring(dom.XMLDesc(0))

    def _disks(self, xml: ET.Element) -> list[tuple[str, str, str]]:
        return [(os.path.basename(d.find('source').get('file')), d.find('target').get('dev'),
                 d.find('target').get('bus')) for d in xml.findall('devices/disk')]

    def test_blank_mappings_become_disks_in_novas_order(self):
        xml = self._spawn({'ephemeral_gb': 3, 'swap': 64}, [
            objects.BlockDeviceSpec(source_type='image', boot_index=0),
            objects.BlockDeviceSpec(source_type='blank', boot_index=-1, volume_size=1,
                                    device_name='/dev/vdc'),
            objects.BlockDeviceSpec(source_type='blank', boot_index=-1, volume_size=2,
                                    guest_format='ext3'),
            objects.BlockDeviceSpec(source_type='blank', boot_index=-1, volume_size=32,
                                    guest_format='swap')])
        # (libvirt lists disks by target name.)
        self.assertEqual([('disk', 'vda', 'virtio'), ('disk.eph1', 'vdb', 'virtio'),
                          ('disk.eph0', 'vdc', 'virtio'), ('disk.swap', 'vdd', 'virtio')],
                         self._disks(xml))
        directory = os.path.join(self.tmp, UUID)
        sizes = {}
        for name in ('disk', 'disk.eph0', 'disk.eph1', 'disk.swap'):
            info = _info(os.path.join(directory, name))
            self.assertEqual('qcow2', info['format'])
            sizes[name] = info['virtual-size']
            if name != 'disk':
                base = info['full-backing-filename']
                self.assertEqual(os.path.join(self.tmp, '_base'), os.path.dirname(base))
                sizes[name + ' fs'] = _fs(base)
        self.assertEqual({'disk': 1 << 30, 'disk.eph0': 1 << 30, 'disk.eph1': 2 << 30,
                          'disk.swap': 32 << 20,
                          # (no guest_format, an image without os_type: Nova's vfat)
                          'disk.eph0 fs': ('vfat', 'EPHEMERAL0'),
                          'disk.eph1 fs': ('ext3', 'ephemeral1'),
                          'disk.swap fs': ('swap', 'swap0')}, sizes)

    def test_no_mapping_gives_the_flavors_disks(self):
        xml = self._spawn({'ephemeral_gb': 1, 'swap': 16}, [])
        self.assertEqual([('disk', 'vda', 'virtio'), ('disk.eph0', 'vdb', 'virtio'),
                          ('disk.swap', 'vdc', 'virtio')], self._disks(xml))
        self.assertEqual(16 << 20, _info(os.path.join(self.tmp, UUID, 'disk.swap'))
                         ['virtual-size'])

    def test_a_scsi_disk_gets_its_controller(self):
        xml = self._spawn({'ephemeral_gb': 1}, [
            objects.BlockDeviceSpec(source_type='image', boot_index=0),
            objects.BlockDeviceSpec(source_type='blank', boot_index=-1, volume_size=1,
                                    disk_bus='scsi')])
        self.assertEqual([('disk', 'vda', 'virtio'), ('disk.eph0', 'sda', 'scsi')],
                         self._disks(xml))
        self.assertIn(('scsi', 'virtio-scsi'),
                      [(c.get('type'), c.get('model'))
                       for c in xml.findall('devices/controller')])
