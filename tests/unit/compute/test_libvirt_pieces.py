"""The libvirt driver's building blocks, without libvirtd: domain XML, the config
drive (a real ISO, read back with isoinfo), the image cache and qcow2 overlays."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import fixtures
import libvirt
import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture

from kumo_common import objects
from kumo_compute.virt.libvirt import config as vconfig
from kumo_compute.virt.libvirt import configdrive, disk, domain_start, imagecache


def _require_tool(testcase: testtools.TestCase, tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get('CI', '').lower() == 'true':
            testcase.fail(f'{tool} is not installed (CI=true)')
        testcase.skipTest(f'{tool} is not installed')


def _build(**fields) -> objects.InstanceBuild:
    values = dict(
        uuid='9b0d6a3e-1f4c-4a8e-8c41-6f2d9b1e7a10', name='vm one', hostname='vm-one',
        project_id='p1', user_id='u1',
        flavor=objects.FlavorSpec(flavorid='g', name='guest', vcpus=1, memory_mb=128,
                                  root_gb=1),
        image=objects.ImageSpec(id='img'), node_uuid='n1', metadata={'role': 'web'},
        user_data=base64.b64encode(b'poweroff\n').decode(), key_data='ssh-ed25519 AAAAx',
        key_name='mykey', config_drive=True, admin_password='s3cret',
        availability_zone='nova',
        files=[{'path': '/etc/motd', 'contents': base64.b64encode(b'hello\n').decode()}],
        ports=[objects.PortSpec(id='0123456789abcdef', network_id='net1',
                                network_name='private', mac_address='fa:16:3e:00:00:01',
                                fixed_ips=[{'ip_address': '10.0.0.5', 'version': 4}])])
    values.update(fields)
    return objects.InstanceBuild(**values)


class TestDomainXml(testtools.TestCase):

    def _domain(self) -> vconfig.Domain:
        return vconfig.Domain(
            uuid='9b0d6a3e-1f4c-4a8e-8c41-6f2d9b1e7a10', name='instance-0000002a',
            virt_type='qemu', memory_mib=128, vcpus=1,
            os=vconfig.OS(kernel='/i/kernel', initrd='/i/ramdisk', cmdline='console=ttyS0'),
            metadata=vconfig.InstanceMetadata(host='compute1', node='node-1',
                                              name='vm one', flavor='guest'),
            disks=[vconfig.Disk('/i/disk', 'vda'),
                   vconfig.Disk('/i/disk.config', 'hdd', bus='ide', device='cdrom',
                                driver_type='raw', readonly=True)],
            interfaces=[vconfig.Interface(mac='fa:16:3e:00:00:01')],
            serials=[vconfig.FileSerial('/i/console.log')])

    def test_kernel_boot_disks_console(self):
        root = ET.fromstring(self._domain().to_xml())
        self.assertEqual('qemu', root.get('type'))
        self.assertEqual('instance-0000002a', root.findtext('name'))
        self.assertEqual('128', root.findtext('memory'))
        self.assertEqual('MiB', root.find('memory').get('unit'))
        self.assertEqual('/i/kernel', root.findtext('os/kernel'))
        self.assertEqual('/i/ramdisk', root.findtext('os/initrd'))
        self.assertEqual('console=ttyS0', root.findtext('os/cmdline'))
        self.assertIsNone(root.find('os/boot'))   # kernel boot: no boot device
        disks = root.findall('devices/disk')
        self.assertEqual(['disk', 'cdrom'], [d.get('device') for d in disks])
        self.assertEqual('qcow2', disks[0].find('driver').get('type'))
        self.assertIsNotNone(disks[1].find('readonly'))
        self.assertEqual('ide', disks[1].find('target').get('bus'))
        serial = root.find('devices/serial')
        self.assertEqual('file', serial.get('type'))
        self.assertEqual('/i/console.log', serial.find('source').get('path'))
        self.assertEqual('fa:16:3e:00:00:01',
                         root.find('devices/interface/mac').get('address'))
        self.assertEqual('none', root.find('devices/memballoon').get('model'))
        products = {e.get('name'): e.text for e in root.findall('sysinfo/system/entry')}
        self.assertEqual('OpenStack Compute', products['product'])

    def test_disk_boot_without_kernel(self):
        root = ET.fromstring(vconfig.Domain(
            uuid='u', name='n', virt_type='kvm', memory_mib=64, vcpus=2, os=vconfig.OS(),
            metadata=vconfig.InstanceMetadata(host='h'), cpu_mode='host-model').to_xml())
        self.assertIsNone(root.find('os/kernel'))
        self.assertEqual('hd', root.find('os/boot').get('dev'))
        self.assertEqual('host-model', root.find('cpu').get('mode'))

    def test_metadata_names_the_owner_in_kumo_namespace(self):
        root = ET.fromstring(self._domain().to_xml())
        instance = root.find(f'metadata/{{{vconfig.KUMO_NS}}}instance')
        self.assertIsNotNone(instance)
        self.assertEqual('compute1', instance.findtext(f'{{{vconfig.KUMO_NS}}}host'))
        # libvirt hands the element back on its own (virDomainGetMetadata).
        parsed = vconfig.InstanceMetadata.parse(ET.tostring(instance, encoding='unicode'))
        self.assertEqual('compute1', parsed.host)
        self.assertEqual('node-1', parsed.node)
        self.assertEqual('vm one', parsed.name)
        self.assertIsNone(vconfig.InstanceMetadata.parse('<instance/>'))
        self.assertIsNone(vconfig.InstanceMetadata.parse('not xml'))


class TestConfigDrive(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def _read(self, iso: str, path: str) -> bytes:
        return subprocess.run(['isoinfo', '-R', '-i', iso, '-x', path], check=True,
                              capture_output=True).stdout

    def test_iso_in_openstack_layout(self):
        _require_tool(self, 'isoinfo')
        iso = os.path.join(self.tmp, 'disk.config')
        configdrive.make(_build(), iso)
        info = subprocess.run(['isoinfo', '-d', '-i', iso], check=True, text=True,
                              capture_output=True).stdout
        self.assertIn('Volume id: config-2', info)
        meta = json.loads(self._read(iso, '/openstack/latest/meta_data.json'))
        self.assertEqual('9b0d6a3e-1f4c-4a8e-8c41-6f2d9b1e7a10', meta['uuid'])
        self.assertEqual('vm-one', meta['hostname'])
        self.assertEqual('vm one', meta['name'])
        self.assertEqual({'mykey': 'ssh-ed25519 AAAAx'}, meta['public_keys'])
        self.assertEqual({'role': 'web'}, meta['meta'])
        self.assertEqual('nova', meta['availability_zone'])
        self.assertEqual('s3cret', meta['admin_pass'])
        # user_data arrives base64-encoded; the guest gets the bytes.
        self.assertEqual(b'poweroff\n', self._read(iso, '/openstack/latest/user_data'))
        network = json.loads(self._read(iso, '/openstack/latest/network_data.json'))
        self.assertEqual('fa:16:3e:00:00:01', network['links'][0]['ethernet_mac_address'])
        self.assertEqual('10.0.0.5', network['networks'][0]['ip_address'])
        self.assertEqual({}, json.loads(self._read(iso, '/openstack/latest/vendor_data.json')))
        # Personality files, as Nova lays them out.
        self.assertEqual([{'path': '/etc/motd', 'content_path': '/content/0000'}],
                         meta['files'])
        self.assertEqual(b'hello\n', self._read(iso, '/openstack/content/0000'))

    def test_no_user_data_no_keys_no_password(self):
        _require_tool(self, 'isoinfo')
        iso = os.path.join(self.tmp, 'disk.config')
        configdrive.make(_build(user_data=None, key_data=None, admin_password=None), iso)
        meta = json.loads(self._read(iso, '/openstack/latest/meta_data.json'))
        self.assertNotIn('public_keys', meta)
        self.assertNotIn('admin_pass', meta)
        listing = subprocess.run(['isoinfo', '-R', '-f', '-i', iso], check=True,
                                 text=True, capture_output=True).stdout
        self.assertNotIn('user_data', listing)

    def test_wanted_when_asked_or_forced(self):
        self.assertTrue(configdrive.wanted(_build(config_drive=True), force=False))
        self.assertTrue(configdrive.wanted(_build(config_drive=False), force=True))
        self.assertFalse(configdrive.wanted(_build(config_drive=False), force=False))


class TestImageCache(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.source = os.path.join(self.tmp, 'source.img')
        with open(self.source, 'wb') as f:
            f.write(b'kumo' * 1000)
        self.md5 = hashlib.md5(b'kumo' * 1000, usedforsecurity=False).hexdigest()
        self.cache = imagecache.ImageCache(os.path.join(self.tmp, '_base'))

    def _image(self, **fields) -> objects.ImageSpec:
        values = {'id': 'img-1', 'checksum': self.md5, 'size': 4000,
                  'location': self.source}
        values.update(fields)
        return objects.ImageSpec(**values)

    def test_fetched_once_and_verified(self):
        path = self.cache.fetch(self._image())
        with open(path, 'rb') as f:
            self.assertEqual(b'kumo' * 1000, f.read())
        # A second fetch is a cache hit: the source may even be gone.
        os.unlink(self.source)
        self.assertEqual(path, self.cache.fetch(self._image()))

    def test_bad_checksum_is_refused_and_not_cached(self):
        error = self.assertRaises(imagecache.ImageError, self.cache.fetch,
                                  self._image(checksum='0' * 32))
        self.assertIn('does not match', str(error))
        self.assertFalse(os.path.exists(self.cache.path_for('img-1')))
        self.assertEqual([], os.listdir(self.cache.base_dir))   # no partial file left

    def test_changed_checksum_fetches_again(self):
        self.cache.fetch(self._image())
        with open(self.source, 'wb') as f:
            f.write(b'newer')
        newer = hashlib.md5(b'newer', usedforsecurity=False).hexdigest()
        path = self.cache.fetch(self._image(checksum=newer, size=5))
        with open(path, 'rb') as f:
            self.assertEqual(b'newer', f.read())

    def test_image_without_data(self):
        error = self.assertRaises(imagecache.ImageError, self.cache.fetch,
                                  self._image(location=None))
        self.assertIn('has no data', str(error))


class TestDisks(testtools.TestCase):

    def setUp(self):
        super().setUp()
        _require_tool(self, 'qemu-img')
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def test_overlay_takes_the_flavor_size_and_never_shrinks(self):
        base = os.path.join(self.tmp, 'base')
        with open(base, 'wb') as f:
            f.truncate(4 * disk.MiB)
        overlay = os.path.join(self.tmp, 'disk')
        self.assertEqual(disk.GiB, disk.create_overlay(base, 'raw', overlay, disk.GiB))
        info = disk.image_info(overlay)
        self.assertEqual('qcow2', info['format'])
        self.assertEqual(disk.GiB, info['virtual-size'])
        self.assertEqual(base, info['backing-filename'])
        small = os.path.join(self.tmp, 'small')
        # root_gb 0: the image's own size, as Nova.
        self.assertEqual(4 * disk.MiB, disk.create_overlay(base, 'raw', small, 0))

    def test_swap_and_ephemeral_bases_are_formatted_once(self):
        _require_tool(self, 'mkswap')
        swap = disk.swap_base(self.tmp, 16)
        self.assertEqual(16 * disk.MiB, os.path.getsize(swap))
        with open(swap, 'rb') as f:
            f.seek(4096 - 10)
            self.assertEqual(b'SWAPSPACE2', f.read(10))
        mtime = os.path.getmtime(swap)
        self.assertEqual(swap, disk.swap_base(self.tmp, 16))
        self.assertEqual(mtime, os.path.getmtime(swap))

    def test_ephemeral_file_system_as_nova_chooses(self):
        from kumo_common import conf as _conf  # noqa: F401  (registers the options)
        from kumo_compute.virt.libvirt import guest_layout
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        choose = guest_layout.ephemeral_format
        # The mapping's guest_format, else by the image's os_type, else vfat.
        self.assertEqual('ext3', choose('ext3', 'windows'))
        self.assertEqual('ext4', choose(None, 'linux'))
        self.assertEqual('ntfs', choose(None, 'windows'))
        self.assertEqual('vfat', choose(None, None))
        self.assertEqual('vfat', choose(None, 'plan9'))
        # ... with [DEFAULT] default_ephemeral_format before the os_type.
        conf.config(default_ephemeral_format='xfs')
        self.assertEqual('xfs', choose(None, 'linux'))
        self.assertEqual('ext2', choose('ext2', None))

    def test_vfat_ephemeral_base(self):
        _require_tool(self, 'mkfs.vfat')
        base = disk.ephemeral_base(self.tmp, 1, 'vfat', 'ephemeral0')
        self.assertEqual(disk.GiB, os.path.getsize(base))
        with open(base, 'rb') as f:
            boot = f.read(512)
        # A FAT32 boot sector with the (upper-cased) label Nova gives it.
        self.assertEqual(b'FAT32   ', boot[82:90])
        self.assertEqual(b'EPHEMERAL0 ', boot[71:82])

    def test_qemu_format_of_catalog_formats(self):
        self.assertEqual('qcow2', disk.qemu_format('qcow2'))
        for fmt in ('raw', 'ami', 'iso', None):
            self.assertEqual('raw', disk.qemu_format(fmt))


class _Domain:
    """A domain whose create() fails with each of `errors` in turn, then starts."""

    def __init__(self, *errors: str):
        self.errors = list(errors)
        self.creates = 0

    def name(self) -> str:
        return 'instance-00000001'

    def create(self):
        self.creates += 1
        if self.errors:
            raise libvirt.libvirtError(self.errors.pop(0))


class TestDomainStart(testtools.TestCase):
    """libvirt's EAGAIN on a guest's start is tried again; other errors are not."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'kumo_compute.virt.libvirt.domain_start.time.sleep', lambda _s: None))

    def test_transient_refusals_are_tried_again(self):
        eagain = 'failed to load cgroup BPF prog: Resource temporarily unavailable'
        dom = _Domain(eagain, eagain)
        domain_start.start(dom)
        self.assertEqual(3, dom.creates)

    def test_a_refusal_that_lasts_is_raised(self):
        eagain = 'failed to load cgroup BPF prog: Resource temporarily unavailable'
        dom = _Domain(*[eagain] * domain_start.ATTEMPTS)
        self.assertRaises(libvirt.libvirtError, domain_start.start, dom)
        self.assertEqual(domain_start.ATTEMPTS, dom.creates)

    def test_other_errors_at_once(self):
        dom = _Domain('internal error: qemu unexpectedly closed the monitor')
        self.assertRaises(libvirt.libvirtError, domain_start.start, dom)
        self.assertEqual(1, dom.creates)
