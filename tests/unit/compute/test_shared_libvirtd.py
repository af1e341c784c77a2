"""Several agents on one libvirtd (kumo-all's compute1..N): each reports its share of
the machine, sees only its own domains, and leaves the others' alone, strays
included. Two real LibvirtDrivers on libvirt's in-process test driver
(test:///default, one hypervisor both connections share)."""
from __future__ import annotations

import os
import textwrap
import threading

import fixtures
import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture

import kumo_common.conf  # noqa: F401  (registers the options)
from kumo_common import objects
from kumo_compute.power_sync import PowerSync

CONF = cfg.CONF


class SharedLibvirtdTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        try:
            import libvirt  # noqa: F401
        except ImportError as exc:
            self.skipTest(f'libvirt-python is not installed: {exc}')
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        # One instances_path for both, as in kumo-all.
        self.conf.config(group='libvirt', connection_uri='test:///default',
                         virt_type='qemu')
        self.conf.config(instances_path=self.tmp, force_config_drive=False)

    def driver(self, host: str, node: str):
        from kumo_compute.virt.libvirt import driver
        agent_driver = driver.LibvirtDriver(host, node)
        self.addCleanup(agent_driver.cleanup_host)
        return agent_driver


class TestCapacityShare(SharedLibvirtdTestCase):

    def test_share_of_machine_rounds_down(self):
        from kumo_compute.virt.libvirt.driver import share_of_machine
        self.assertEqual((2, 24105, 99), share_of_machine(2, 24105, 99, 1.0))
        self.assertEqual((1, 12052, 49), share_of_machine(2, 24105, 99, 0.5))
        self.assertEqual((1, 1, 1), share_of_machine(3, 3, 3, 1 / 3))
        self.assertEqual((0, 512, 10), share_of_machine(1, 1024, 20, 0.5))

    def test_agents_together_report_no_more_than_the_machine(self):
        whole = self.driver('compute0', 'node-0').host_resources()
        for count in (2, 3):
            self.conf.config(group='libvirt', capacity_share=1 / count)
            reports = [self.driver(f'compute{n}', f'node-{n}').host_resources()
                       for n in range(1, count + 1)]
            for field in ('vcpus', 'memory_mb', 'local_gb'):
                total = sum(getattr(r, field) for r in reports)
                self.assertLessEqual(total, getattr(whole, field), (count, field))
                # ... and not much less: the whole machine is offered.
                self.assertGreater(total, getattr(whole, field) - count, (count, field))

    def test_kumo_all_splits_the_machine_between_its_agents(self):
        from kumo_api.cmd import all as kumo_all
        self.conf.config(group='compute', virt_driver='libvirt')
        kumo_all.split_machine(1)
        self.assertEqual(1.0, CONF.libvirt.capacity_share)
        kumo_all.split_machine(2)
        self.assertEqual(0.5, CONF.libvirt.capacity_share)
        # A smaller share in the configuration wins.
        self.conf.config(group='libvirt', capacity_share=0.25)
        kumo_all.split_machine(2)
        self.assertEqual(0.25, CONF.libvirt.capacity_share)
        # The fake driver reports [compute] fake_* per agent: nothing to split.
        self.conf.config(group='libvirt', capacity_share=1.0)
        self.conf.config(group='compute', virt_driver='fake')
        kumo_all.split_machine(2)
        self.assertEqual(1.0, CONF.libvirt.capacity_share)


class TestOwnDomainsOnly(SharedLibvirtdTestCase):

    def setUp(self):
        super().setUp()
        image = os.path.join(self.tmp, 'image.raw')
        with open(image, 'wb') as f:
            f.truncate(1 << 20)
        self.image = objects.ImageSpec(id='img-1', location=image, disk_format='raw')
        self.one = self.driver('compute1', 'node-1')
        self.two = self.driver('compute2', 'node-2')

    def _spawn(self, agent_driver, uuid: str, name: str) -> None:
        agent_driver.spawn(objects.InstanceBuild(
            uuid=uuid, name=name, hostname=name, project_id='p', user_id='u',
            flavor=objects.FlavorSpec(flavorid='f', name='f', vcpus=1, memory_mb=64,
                                      root_gb=1),
            image=self.image, node_uuid=agent_driver.node_uuid, instance_name=name))
        self.addCleanup(self._undefine, uuid)

    def _undefine(self, uuid: str) -> None:
        import libvirt
        conn = self.one._get_conn()
        try:
            dom = conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError:
            return
        if dom.isActive():
            dom.destroy()
        dom.undefine()

    def _untagged(self, uuid: str, name: str) -> None:
        """A domain named like an instance without Kumo's tag (left by a person, an
        older agent, or anyone)."""
        self.one._get_conn().defineXML(textwrap.dedent(f'''\
            <domain type='test'>
              <name>{name}</name><uuid>{uuid}</uuid>
              <memory unit='MiB'>32</memory>
              <os><type arch='x86_64'>hvm</type></os>
            </domain>'''))
        self.addCleanup(self._undefine, uuid)

    def test_each_agent_sees_its_own_guests(self):
        mine = '11111111-1111-4111-8111-111111111111'
        theirs = '22222222-2222-4222-8222-222222222222'
        self._spawn(self.one, mine, 'instance-00000001')
        self._spawn(self.two, theirs, 'instance-00000002')
        self.assertIn(mine, self.one.list_instances())
        self.assertNotIn(theirs, self.one.list_instances())
        self.assertEqual({theirs}, set(self.two.power_states()) - {
            u for u in self.two.list_instances() if u not in (mine, theirs)})
        self.assertNotIn(mine, self.two.power_states())
        self.assertFalse(self.two.claims(mine))
        # Asked to destroy the other agent's guest (a misdirected delete): nothing
        # happens to its domain or to its files, though both agents keep their
        # files in the same instances_path.
        self.two.destroy(mine)
        self.assertIn(mine, self.one.list_instances())
        self.assertTrue(os.path.exists(os.path.join(self.tmp, mine, 'disk')))
        # Nor does a build of it there (a reschedule) replace it.
        from kumo_compute.virt.libvirt.driver import AnotherAgentsGuest
        self.assertRaises(AnotherAgentsGuest, self._spawn, self.two, mine,
                          'instance-00000001')
        self.assertIn(mine, self.one.list_instances())
        self.assertTrue(os.path.exists(os.path.join(self.tmp, mine, 'disk')))

    def test_strays_of_another_host_are_left_to_it(self):
        stray = '33333333-3333-4333-8333-333333333333'
        self._untagged(stray, 'instance-7ffff003')
        # Both agents see a domain merely named like an instance ...
        self.assertIn(stray, self.one.list_instances())
        self.assertIn(stray, self.two.list_instances())
        self.conf.config(running_deleted_instance_action='reap')
        locks: dict = {}

        def sync(agent_driver) -> PowerSync:
            return PowerSync(agent_driver.host, agent_driver, None,
                             lambda u: locks.setdefault(u, threading.Lock()))

        # ... the conductor tells compute2 that it was a server of compute1, deleted:
        # compute2 leaves it to compute1, which reaps it.
        sync(self.two)._handle_strays(objects.PowerSyncResult(strays=[stray],
                                                              elsewhere=[stray]))
        self.assertIn(stray, self.one.list_instances())
        sync(self.one)._handle_strays(objects.PowerSyncResult(strays=[stray]))
        self.assertNotIn(stray, self.one.list_instances())


class TestEvacuatedCleanup(SharedLibvirtdTestCase):
    """A host that returns after its server was evacuated (the domain died with it,
    its definition too): its files of the server go, even with no domain of it left
    and another agent's domain now having the server's UUID; another agent's files
    never, though both agents keep them in the same instances_path (kumo-all)."""

    UUID = '44444444-4444-4444-8444-444444444444'

    _spawn = TestOwnDomainsOnly._spawn
    _undefine = TestOwnDomainsOnly._undefine

    def setUp(self):
        super().setUp()
        image = os.path.join(self.tmp, 'image.raw')
        with open(image, 'wb') as f:
            f.truncate(1 << 20)
        self.image = objects.ImageSpec(id='img-1', location=image, disk_format='raw')
        self.one = self.driver('compute1', 'node-1')
        self.mine = os.path.join(self.tmp, self.UUID)

    def _power_loss(self, agent_driver) -> None:
        """The guest dies and its definition is lost (nothing reaches the agent)."""
        dom = agent_driver._get_conn().lookupByUUIDString(self.UUID)
        dom.destroy()
        dom.undefine()

    def test_files_left_without_a_domain_go(self):
        # Its own instances_path for the new host, as on two machines.
        other = os.path.join(self.tmp, 'other')
        self.conf.config(instances_path=other)
        self.two = self.driver('compute2', 'node-2')
        self._spawn(self.one, self.UUID, 'instance-00000004')
        self._power_loss(self.one)
        self._spawn(self.two, self.UUID, 'instance-00000004')
        os.makedirs(self.mine + '_resize')   # (a resize's leftovers, with the XML)
        os.link(os.path.join(self.mine, 'libvirt.xml'),
                os.path.join(self.mine + '_resize', 'libvirt.xml'))

        self.assertNotIn(self.UUID, self.one.list_instances())
        self.assertTrue(self.one.cleanup_evacuated(self.UUID))
        self.assertFalse(os.path.exists(self.mine))
        self.assertFalse(os.path.exists(self.mine + '_resize'))
        # The server where it went is untouched.
        self.assertIn(self.UUID, self.two.list_instances())
        self.assertTrue(os.path.exists(os.path.join(other, self.UUID, 'disk')))
        # Nothing left: nothing to do.
        self.assertFalse(self.one.cleanup_evacuated(self.UUID))

    def test_a_domain_of_ours_goes_with_its_files(self):
        # The host returns with the guest still defined (shut off), as on a real host.
        self._spawn(self.one, self.UUID, 'instance-00000004')
        self.one._get_conn().lookupByUUIDString(self.UUID).destroy()
        self.assertTrue(self.one.cleanup_evacuated(self.UUID))
        self.assertNotIn(self.UUID, self.one.list_instances())
        self.assertFalse(os.path.exists(self.mine))

    def test_another_agents_files_in_a_shared_instances_path_stay(self):
        self.two = self.driver('compute2', 'node-2')
        self._spawn(self.one, self.UUID, 'instance-00000004')
        self._power_loss(self.one)
        # Evacuated to compute2, which keeps its files in the same directory.
        self._spawn(self.two, self.UUID, 'instance-00000004')
        self.assertFalse(self.one.cleanup_evacuated(self.UUID))
        self.assertIn(self.UUID, self.two.list_instances())
        self.assertTrue(os.path.exists(os.path.join(self.mine, 'disk')))
        # Nor once that domain is gone too: the files say whose they are.
        self._power_loss(self.two)
        self.assertFalse(self.one.cleanup_evacuated(self.UUID))
        self.assertTrue(os.path.exists(os.path.join(self.mine, 'disk')))
        # A directory with no saved XML (being built by someone) stays as well.
        os.remove(os.path.join(self.mine, 'libvirt.xml'))
        self.assertFalse(self.one.cleanup_evacuated(self.UUID))
        self.assertTrue(os.path.exists(self.mine))
