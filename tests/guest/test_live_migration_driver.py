"""The libvirt driver's live migration on the real test guest, between two libvirtds
of this machine: the main one (qemu:///system, host compute1) and a second,
independent one in its own mount namespace (tools/second-libvirtd.sh, host
compute2), each driver with its own instances path. No API: the test plays the
conductor, calling each driver's steps as the agents would.

The guest's user_data prints a tick a second on its serial console, so a guest that
moved goes on ticking in the destination's console log without booting again. Its
serial console is a TCP server ([serial_console] enabled), whose port the
destination chooses among its free ones; the guest's disks (root, ephemeral, swap)
are copied, its config drive made anew there.

Needs root, libvirtd (`make libvirt`) and the test guest (`make guest`); skips
without them, except with CI=true.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import testtools
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from testtools import content

import kumo_common.conf  # noqa: F401  (registers the options)
from kumo_common import objects
from kumo_common.cmd import guest_image
from kumo_common.states import power
from tests.guest import base, second_libvirtd

CONF = cfg.CONF
TICK = re.compile(r'(?m)^KUMO-TICK (\d+)')
# Slow migrations (MiB/s; libvirt's limit counts the disks' whole virtual size, 2 GiB
# here): one to abort under way, one that lasts long enough to be forced to complete.
CRAWL = 1
SLOW = 100
TIMEOUT = 90


def _ticks(path: str) -> list[int]:
    try:
        with open(path, errors='replace') as f:
            return [int(n) for n in TICK.findall(f.read())]
    except FileNotFoundError:
        return []


class TestLiveMigrationDriver(testtools.TestCase):
    problem: str | None = None
    workdir: str | None = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.problem = second_libvirtd.problem()
        if cls.problem:
            return
        cls.workdir = tempfile.mkdtemp(prefix='kumo-lm-test-')
        os.chmod(cls.workdir, 0o755)   # QEMU (libvirt-qemu) reaches the guests' files
        # Its own state directory: never the one a demo may have running.
        cls.env = {**os.environ, 'LM_BASE': os.path.join(cls.workdir, 'second')}
        try:
            cls.second_uri = second_libvirtd.run('start', env=cls.env)
            cls.main_uri = second_libvirtd.run('main-uri', env=cls.env)
        except Exception:
            cls._stop_second()
            raise

    @classmethod
    def _stop_second(cls):
        try:
            second_libvirtd.run('clean', env=cls.env)
        finally:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        if cls.workdir is not None:
            cls._stop_second()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self.problem:
            if base.in_ci():
                self.fail(f'{self.problem} (CI=true: real guests must run)')
            self.skipTest(self.problem)
        from kumo_compute.virt.libvirt import driver
        self.conf = self.useFixture(config_fixture.Config(CONF))
        low = 21000 + os.getpid() % 20000
        self.conf.config(group='serial_console', enabled=True,
                         proxyclient_address='127.0.0.1', port_range=f'{low}:{low + 20}')
        self.conf.config(force_config_drive=False)
        # Each driver reads its URI and instances path when it is made.
        self.drivers = {}
        for host, uri in (('compute1', base.URI), ('compute2', self.second_uri)):
            path = os.path.join(self.workdir, host)
            self.conf.config(group='libvirt', connection_uri=uri, virt_type='qemu')
            self.conf.config(instances_path=path)
            self.drivers[host] = driver.LibvirtDriver(host, f'node-{host}')
            self.addCleanup(self.drivers[host].cleanup_host)
        self.server = str(uuid.uuid4())
        self.addCleanup(self._remove_guest)
        self.started = time.monotonic()
        self.addCleanup(lambda: self.addDetail('seconds', content.text_content(
            f'{time.monotonic() - self.started:.1f}')))

    def _remove_guest(self):
        for host, uri in (('compute1', base.URI), ('compute2', self.second_uri)):
            subprocess.run(['virsh', '-c', uri, 'destroy', self.server],
                           capture_output=True, timeout=60)
            subprocess.run(['virsh', '-c', uri, 'undefine', self.server],
                           capture_output=True, timeout=60)
            shutil.rmtree(self.drivers[host].instance_dir(self.server), ignore_errors=True)

    # --- the guest and the conductor's part --------------------------------------------
    def build(self) -> objects.InstanceBuild:
        def image(key: str, image_id: str, fmt: str, **props) -> objects.ImageSpec:
            return objects.ImageSpec(id=image_id, disk_format=fmt, container_format=fmt,
                                     location=os.path.join(base.GUEST_DIR, files[key]),
                                     properties=props)

        with open(os.path.join(base.GUEST_DIR, 'manifest.json')) as f:
            files = {k: v['file'] for k, v in json.load(f)['files'].items()}
        user_data = ''.join(f'echo KUMO-TICK {n}\nsleep 1\n' for n in range(1, 1800))
        return objects.InstanceBuild(
            uuid=self.server, name='lm-guest', hostname='lm-guest', project_id='p',
            user_id='u', node_uuid='node-compute1',
            instance_name=f'instance-{self.server[:8]}',
            flavor=objects.FlavorSpec(flavorid='lm', name='lm', vcpus=1, memory_mb=128,
                                      root_gb=1, ephemeral_gb=1, swap=64),
            image=image('disk', 'lm-image', 'ami', kernel_id=guest_image.KERNEL_ID,
                        ramdisk_id=guest_image.RAMDISK_ID,
                        os_command_line=guest_image.COMMAND_LINE),
            kernel=image('kernel', guest_image.KERNEL_ID, 'aki'),
            ramdisk=image('ramdisk', guest_image.RAMDISK_ID, 'ari'),
            config_drive=True, user_data=base64.b64encode(user_data.encode()).decode())

    def step(self, name: str, source: str, dest: str) -> objects.MigrationStep:
        return objects.MigrationStep(
            migration_uuid='m', instance_uuid=self.server, step=name, step_id=name,
            source_host=source, dest_host=dest, build=self.build(), block_migration=None)

    def dest_uri(self, dest: str) -> str:
        """What [libvirt] live_migration_uri names for the source's libvirtd to dial:
        the second daemon's socket, or the main one's as seen from both namespaces."""
        return self.second_uri if dest == 'compute2' else self.main_uri

    def migrate(self, source: str, dest: str) -> None:
        """The conductor's steps of a live migration that succeeds."""
        self.drivers[dest].pre_live_migration(self.server, self.step('pre', source, dest))
        self.conf.config(group='libvirt', live_migration_uri=self.dest_uri(dest))
        self.drivers[source].live_migration(self.server, self.step('live', source, dest))
        self.drivers[dest].post_live_migration_at_destination(
            self.server, self.step('post', source, dest))

    # --- what is seen -------------------------------------------------------------------
    def console_log(self, host: str) -> str:
        return self.drivers[host].console_log_path(self.server)

    def wait_tick(self, host: str, after: int, timeout: float = TIMEOUT) -> int:
        """Until `host`'s console log shows a tick after `after`; the last one."""
        deadline = time.monotonic() + timeout
        while True:
            ticks = _ticks(self.console_log(host))
            if ticks and ticks[-1] > after:
                return ticks[-1]
            if time.monotonic() > deadline:
                self.fail(f'{host}\'s console shows no tick after {after} ({ticks[-3:]})')
            time.sleep(0.2)

    def virsh_state(self, host: str) -> str:
        uri = base.URI if host == 'compute1' else self.second_uri
        return subprocess.run(['virsh', '-c', uri, 'domstate', self.server],
                              capture_output=True, text=True, timeout=60).stdout.strip()

    def assert_runs_on(self, host: str, other: str) -> None:
        self.assertEqual('running', self.virsh_state(host))
        self.assertEqual(power.RUNNING, self.drivers[host].power_state(self.server))
        # (other tests' guests of a host named so may share the main libvirtd)
        self.assertIn(self.server, self.drivers[host].list_instances())
        self.assertEqual('', self.virsh_state(other))
        self.assertNotIn(self.server, self.drivers[other].list_instances())

    def serial_answers(self, host: str) -> str:
        """The guest's serial console (a TCP server there) sends its ticks."""
        address = self.drivers[host].get_serial_console(self.server)
        got = b''
        with socket.create_connection(address, timeout=10) as sock:
            deadline = time.monotonic() + 20
            while not TICK.search(got.decode(errors='replace')):
                self.assertLess(time.monotonic(), deadline, f'{address} sent {got!r}')
                got += sock.recv(4096)
        return address

    def boot(self) -> int:
        self.drivers['compute1'].spawn(self.build())
        return self.wait_tick('compute1', 1)

    # --- the tests ----------------------------------------------------------------------
    def test_there_and_back(self):
        tick = self.boot()
        source_dir = self.drivers['compute1'].instance_dir(self.server)
        source_port = self.serial_answers('compute1')

        t0 = time.monotonic()
        self.migrate('compute1', 'compute2')
        there = time.monotonic() - t0
        self.assert_runs_on('compute2', 'compute1')
        self.assertFalse(os.path.exists(source_dir))
        # Still the same boot, ticking on from where it was.
        tick = self.wait_tick('compute2', tick + 2)
        with open(self.console_log('compute2'), errors='replace') as f:
            self.assertNotIn('KUMO-GUEST: init started', f.read())
        dest_port = self.serial_answers('compute2')
        self.assertNotEqual(source_port, dest_port)
        xml = subprocess.run(['virsh', '-c', self.second_uri, 'dumpxml', '--inactive',
                              self.server], capture_output=True, text=True).stdout
        dest_dir = self.drivers['compute2'].instance_dir(self.server)
        self.assertIn(f"file='{dest_dir}/disk'", xml)
        self.assertNotIn(source_dir, xml)
        self.assertIn('<kumo:host>compute2</kumo:host>', xml)
        # The agent restarting there takes it as its own (its port held).
        self.assertTrue(self.drivers['compute2'].claims(self.server))

        t0 = time.monotonic()
        self.migrate('compute2', 'compute1')
        back = time.monotonic() - t0
        self.assert_runs_on('compute1', 'compute2')
        self.assertFalse(os.path.exists(dest_dir))
        self.wait_tick('compute1', tick + 2)
        self.serial_answers('compute1')
        self.addDetail('migrations', content.text_content(
            f'there {there:.1f}s, back {back:.1f}s'))

    def test_destination_not_prepared(self):
        tick = self.boot()
        self.conf.config(group='libvirt', live_migration_uri=self.second_uri)
        from kumo_compute.virt.libvirt.live_migration import LiveMigrationError
        error = self.assertRaises(
            LiveMigrationError, self.drivers['compute1'].live_migration, self.server,
            self.step('live', 'compute1', 'compute2'))
        self.assertIn('not ready', str(error))
        self.assert_runs_on('compute1', 'compute2')
        self.wait_tick('compute1', tick + 1)
        # Nothing to roll back there: no error.
        self.drivers['compute2'].rollback_live_migration_at_destination(
            self.server, self.step('rollback', 'compute1', 'compute2'))

    def start_slow_migration(self, bandwidth: int) -> tuple[threading.Thread, list]:
        """A live migration slowed to `bandwidth` MiB/s, under way in a thread (as the
        agent's live_migration step); its outcome in the list once it ends."""
        self.drivers['compute2'].pre_live_migration(
            self.server, self.step('pre', 'compute1', 'compute2'))
        self.conf.config(group='libvirt', live_migration_uri=self.second_uri,
                         live_migration_bandwidth=bandwidth)
        outcome: list = []

        def run():
            try:
                self.drivers['compute1'].live_migration(
                    self.server, self.step('live', 'compute1', 'compute2'))
                outcome.append(None)
            except Exception as exc:
                outcome.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        # Under way: the destination's incoming guest exists.
        deadline = time.monotonic() + 30
        while self.virsh_state('compute2') in ('', 'shut off'):
            self.assertLess(time.monotonic(), deadline, 'the migration never began')
            self.assertTrue(thread.is_alive(), f'the migration ended: {outcome}')
            time.sleep(0.1)
        return thread, outcome

    def test_abort_leaves_the_guest_at_the_source(self):
        from kumo_compute.virt.driver import LiveMigrationAborted
        tick = self.boot()
        source = self.drivers['compute1']
        self.assertIsNone(source.live_migration_progress(self.server))   # no copy yet
        thread, outcome = self.start_slow_migration(CRAWL)
        time.sleep(1)
        self.assertTrue(thread.is_alive(), f'the migration ended: {outcome}')
        # How far it has got, from libvirt's job stats (what the agent reports): the
        # disks are being copied (their virtual size, at 1 MiB/s); the memory is
        # copied once they are in step, so none of it yet (libvirt's memory_total is
        # 0 too until then).
        progress = source.live_migration_progress(self.server)
        self.assertIsNotNone(progress)
        self.assertGreater(progress.disk_total, 0)
        self.assertGreater(progress.disk_processed, 0)
        self.assertEqual(progress.disk_total,
                         progress.disk_processed + progress.disk_remaining)
        self.assertIsInstance(progress.memory_total, int)
        self.assertEqual(0, progress.memory_processed)
        source.live_migration_abort(self.server)
        thread.join(60)
        self.assertFalse(thread.is_alive())
        self.assertIsInstance(outcome[0], LiveMigrationAborted)
        self.assertIsNone(source.live_migration_progress(self.server))   # over
        self.assertEqual('running', self.virsh_state('compute1'))
        self.wait_tick('compute1', tick + 2)
        self.drivers['compute2'].rollback_live_migration_at_destination(
            self.server, self.step('rollback', 'compute1', 'compute2'))
        self.assert_runs_on('compute1', 'compute2')
        self.assertFalse(os.path.exists(self.drivers['compute2'].instance_dir(self.server)))
        # Nothing runs any more to abort or complete.
        from kumo_compute.virt.libvirt.live_migration import LiveMigrationError
        self.assertRaises(LiveMigrationError, self.drivers['compute1'].live_migration_abort,
                          self.server)

    def test_force_complete_runs_the_guest_there(self):
        tick = self.boot()
        thread, outcome = self.start_slow_migration(SLOW)
        self.drivers['compute1'].live_migration_force_complete(self.server)
        self.assertEqual('paused', self.virsh_state('compute1'))
        thread.join(TIMEOUT)
        self.assertFalse(thread.is_alive(), 'the migration did not complete')
        self.assertEqual([None], outcome)
        self.drivers['compute2'].post_live_migration_at_destination(
            self.server, self.step('post', 'compute1', 'compute2'))
        self.assert_runs_on('compute2', 'compute1')
        self.wait_tick('compute2', tick + 1)
