"""The libvirt driver's trigger_crash_dump against libvirt's in-memory test driver
(test:///default): an NMI for a running domain, Nova's InstanceNotRunning for one that
is not (libvirt's VIR_ERR_OPERATION_INVALID). The guest's side is tests/guest's."""
from __future__ import annotations

import os
import shutil

import fixtures
import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture

import kumo_common.conf  # noqa: F401  (registers the options)
from kumo_common import exceptions, objects
from kumo_common.states import power

CONF = cfg.CONF
UUID = '5c1f0e4a-7d2b-4f61-9a0e-3b8d2c7e6f15'


class TestLibvirtCrashDump(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if shutil.which('qemu-img') is None:
            self.skipTest('qemu-img is not installed')
        try:
            from kumo_compute.virt.libvirt import driver
        except ImportError as exc:
            self.skipTest(f'libvirt-python is not installed: {exc}')
        tmp = self.useFixture(fixtures.TempDir()).path
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(group='libvirt', connection_uri='test:///default', virt_type='qemu')
        conf.config(instances_path=tmp, force_config_drive=False)
        image = os.path.join(tmp, 'image.raw')
        with open(image, 'wb') as f:
            f.truncate(1 << 20)
        self.driver = driver.LibvirtDriver('compute1', 'node-1')
        self.addCleanup(self.driver.cleanup_host)
        self.driver.spawn(objects.InstanceBuild(
            uuid=UUID, name='vm', hostname='vm', project_id='p', user_id='u',
            flavor=objects.FlavorSpec(flavorid='f', name='f', vcpus=1, memory_mb=128,
                                      root_gb=1),
            image=objects.ImageSpec(id='img-1', location=image, disk_format='raw'),
            node_uuid='node-1', instance_name='instance-0000002b'))
        self.addCleanup(self.driver.destroy, UUID)

    def test_running_guest_gets_the_nmi(self):
        self.driver.trigger_crash_dump(UUID)
        self.assertEqual(power.RUNNING, self.driver.power_state(UUID))

    def test_guest_not_running_is_novas_instance_not_running(self):
        self.driver.power_off(UUID, timeout=0)
        exc = self.assertRaises(exceptions.InstanceNotRunning,
                                self.driver.trigger_crash_dump, UUID)
        self.assertEqual(f'Instance {UUID} is not running.', str(exc))
        self.assertEqual(power.SHUTDOWN, self.driver.power_state(UUID))

    def test_no_domain_is_an_error(self):
        from kumo_compute.virt.libvirt.guest_layout import GuestNotFound
        self.driver.destroy(UUID)
        self.assertRaises(GuestNotFound, self.driver.trigger_crash_dump, UUID)
