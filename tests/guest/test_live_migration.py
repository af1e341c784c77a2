"""os-migrateLive through Kumo's API on the real test guest, between two compute hosts
with a libvirtd each: compute1 on the machine's main one (qemu:///system), compute2 on
a second, independent one in its own mount namespace (tools/second-libvirtd.sh),
started by the test and gone after it. The separate processes of tests.guest.base
(kumo-api, conductor, scheduler, two kumo-compute agents, RabbitMQ, PostgreSQL) do it
all: the conductor schedules, the destination prepares, the source's libvirtd copies
the guest peer to peer, the destination takes it.

[libvirt] live_migration_uri names the destination's libvirtd by host
(`qemu+unix:///system?socket=<dir>/socks/%s`): <dir>/socks/compute1 and compute2 are
symbolic links to the two daemons' sockets by paths that work in both mount
namespaces (the main daemon's by /proc/<its pid>/root, see `second-libvirtd.sh
main-uri`): the source agent and the source's libvirtd both dial it, whichever way
the guest goes.

The guest's user_data prints a tick a second on its serial console (a file each host
writes in the guest's directory there), so a guest that moved goes on ticking in the
destination's console log without booting again.

Needs root, libvirtd (`make libvirt`), RabbitMQ, PostgreSQL and the test guest
(`make guest`); skips without them, except with CI=true.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid

from tests.guest import base, second_libvirtd

TICK = re.compile(r'(?m)^KUMO-TICK (\d+)')
# Ten minutes of ticks: more would pass the API's 65535 base64 characters of user_data.
TICKS = ''.join(f'echo KUMO-TICK {n}\nsleep 1\n' for n in range(1, 600))
# Distinct from the second daemon of test_live_migration_driver (LM_*'s defaults), in
# case both run at once: its incoming migration ports and host UUID.
SECOND_ENV = {'LM_PORT_MIN': '49280', 'LM_PORT_MAX': '49343',
              'LM_HOST_UUID': '5e0c0a2d-0000-4000-8000-00000000c0d3'}
MIGRATION_TIMEOUT = 120
LIVE_MIGRATION_EVENTS = ('conductor_live_migrate_instance', 'compute_pre_live_migration',
                         'compute_live_migration',
                         'compute_post_live_migration_at_destination')
PAUSED_POWER, RUNNING_POWER = 3, 1


class TestLiveMigration(base.GuestTestCase):
    COMPUTES = 2
    workdir: str | None = None
    uris: dict[str, str] = {}

    @classmethod
    def setUpClass(cls):
        cls.workdir = None
        problem = second_libvirtd.problem()
        if problem:
            # No stack either: every test skips (or fails in CI) with this reason.
            super(base.GuestTestCase, cls).setUpClass()
            cls.stack, cls.problem = None, problem
            return
        try:
            cls._start_second()
            super().setUpClass()
        except BaseException:
            cls._stop_second()
            raise

    @classmethod
    def _start_second(cls):
        cls.workdir = tempfile.mkdtemp(prefix='kumo-lm-api-test-')
        os.chmod(cls.workdir, 0o755)
        # Its own state directory: never the one a demo may have running.
        cls.env = {**os.environ, **SECOND_ENV,
                   'LM_BASE': os.path.join(cls.workdir, 'second')}
        second_uri = second_libvirtd.run('start', env=cls.env)
        main_socket = second_libvirtd.run('main-uri', env=cls.env).split('socket=', 1)[1]
        socks = os.path.join(cls.workdir, 'socks')
        os.mkdir(socks)
        os.symlink(main_socket, os.path.join(socks, 'compute1'))
        os.symlink(second_uri.split('socket=', 1)[1], os.path.join(socks, 'compute2'))
        cls.uris = {'compute1': base.URI, 'compute2': second_uri}
        cls.EXTRA_CONFIG = {'libvirt': {
            'live_migration_uri': f'qemu+unix:///system?socket={socks}/%s'}}
        cls.HOST_CONFIG = {'compute2': {'libvirt': {'connection_uri': second_uri}}}

    @classmethod
    def _stop_second(cls):
        if cls.workdir is None:
            return
        try:
            second_libvirtd.run('clean', env=cls.env)   # (destroys whatever guests it still has)
        finally:
            shutil.rmtree(cls.workdir, ignore_errors=True)
            cls.workdir = None

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._stop_second()

    # --- helpers ---------------------------------------------------------------------
    def boot_ticking(self, name: str) -> str:
        server_id = self.boot(name, user_data=TICKS, config_drive=True,
                              availability_zone='nova:compute1')
        self.addCleanup(self._forget_on_second, server_id)
        server = self.wait_server(server_id, 'ACTIVE', power_state=RUNNING_POWER,
                                  timeout=base.BOOT_TIMEOUT)
        self.assertEqual('compute1', server['OS-EXT-SRV-ATTR:host'])
        self.wait_tick(server_id, 'compute1', 1)
        return server_id

    def _forget_on_second(self, server_id: str) -> None:
        """(cleanup) Whatever the test did, no guest of it left on the second daemon."""
        self.virsh_on('compute2', 'destroy', server_id, check=False)
        self.virsh_on('compute2', 'undefine', server_id, check=False)

    def virsh_on(self, host: str, *args: str, check: bool = True) -> str:
        proc = subprocess.run(['virsh', '-c', self.uris[host], *args], capture_output=True,
                              text=True, timeout=60)
        if check and proc.returncode != 0:
            self.fail(f'virsh -c {self.uris[host]} {" ".join(args)}: {proc.stderr}')
        return proc.stdout.strip()

    def domstate_on(self, host: str, server_id: str) -> str:
        return self.virsh_on(host, 'domstate', server_id, check=False)

    def ticks(self, server_id: str, host: str) -> list[int]:
        return [int(n) for n in TICK.findall(self.console(server_id, host))]

    def wait_tick(self, server_id: str, host: str, after: int) -> int:
        """Until `host`'s console log of the guest shows a tick after `after`; the
        last one."""
        deadline = time.monotonic() + base.BOOT_TIMEOUT
        while True:
            ticks = self.ticks(server_id, host)
            if ticks and ticks[-1] > after:
                return ticks[-1]
            if time.monotonic() > deadline:
                self.fail(f'the console of {server_id} on {host} shows no tick after '
                          f'{after} ({ticks[-3:]})')
            time.sleep(0.2)

    def live_migrate(self, server_id: str, host: str | None) -> str:
        """os-migrateLive (2.34: answered at once); the request id. The server is
        MIGRATING right after."""
        response = self.client.post(
            f'/v2.1/servers/{server_id}/action',
            json={'os-migrateLive': {'host': host, 'block_migration': 'auto'}},
            headers={'OpenStack-API-Version': 'compute 2.34'})
        self.assertEqual(202, response.status_code, response.text)
        server = self.client.show(server_id)
        self.assertEqual('MIGRATING', server['status'])
        self.assertEqual('migrating', server['OS-EXT-STS:task_state'])
        return response.headers['x-openstack-request-id']

    def wait_migrated(self, server_id: str, dest: str, status: str, power_state: int):
        server = self.wait_server(server_id, status, power_state=power_state,
                                  timeout=MIGRATION_TIMEOUT)
        if server['OS-EXT-SRV-ATTR:host'] != dest:
            # Rolled back: why, as the API tells it.
            response = self.client.get(f'/v2.1/servers/{server_id}/os-instance-actions',
                                       headers={'OpenStack-API-Version': 'compute 2.51'})
            actions = response.json()['instanceActions']
            events = self.client.get(
                f'/v2.1/servers/{server_id}/os-instance-actions/{actions[0]["request_id"]}',
                headers={'OpenStack-API-Version': 'compute 2.84'}).json()   # (details)
            self.fail(f'{server_id} stayed on {server["OS-EXT-SRV-ATTR:host"]}, not '
                      f'{dest}: {events}')
        return server

    def assert_only_on(self, server_id: str, host: str, state: str) -> None:
        """The guest's domain is `host`'s (in `state`) and no more the other's, and so
        are its files."""
        other = next(h for h in self.uris if h != host)
        self.assertEqual(state, self.domstate_on(host, server_id))
        self.assertEqual('', self.domstate_on(other, server_id))
        self.assertNotIn(server_id, self.virsh_on(other, 'list', '--all', '--uuid'))
        xml = self.virsh_on(host, 'dumpxml', '--inactive', server_id)
        self.assertIn(self.dir_on(server_id, host), xml)
        self.assertIn(f'<kumo:host>{host}</kumo:host>', xml)
        self.assertTrue(os.path.isdir(self.dir_on(server_id, host)))
        self.assertFalse(os.path.exists(self.dir_on(server_id, other)))

    def assert_same_boot(self, server_id: str, host: str) -> None:
        """The destination's console log (begun when the guest arrived) shows no boot."""
        self.assertNotIn('KUMO-GUEST: init started', self.console(server_id, host))

    def assert_recorded(self, server_id: str, request_id: str, source: str,
                        dest: str) -> None:
        """The instance action and its events (2.51), and the migration (2.59)."""
        response = self.client.get(
            f'/v2.1/servers/{server_id}/os-instance-actions/{request_id}',
            headers={'OpenStack-API-Version': 'compute 2.51'})
        self.assertEqual(200, response.status_code, response.text)
        action = response.json()['instanceAction']
        self.assertEqual('live-migration', action['action'])
        results = {e['event']: e['result'] for e in action['events']}
        self.assertEqual({e: 'Success' for e in LIVE_MIGRATION_EVENTS}, results)
        response = self.client.get('/v2.1/os-migrations', params={
            'instance_uuid': server_id}, headers={'OpenStack-API-Version': 'compute 2.59'})
        self.assertEqual(200, response.status_code, response.text)
        migrations = [(m['migration_type'], m['status'], m['source_compute'],
                       m['dest_compute']) for m in response.json()['migrations']]
        self.assertIn(('live-migration', 'completed', source, dest), migrations)
        self.assertNotIn('error', {m[1] for m in migrations})

    def delete_and_check_gone(self, server_id: str) -> None:
        self.client.delete(server_id)
        self.client.wait_gone(server_id, timeout=base.STATE_TIMEOUT)
        for host in self.uris:
            self.assertEqual('', self.domstate_on(host, server_id))
            self.assertNotIn(server_id, self.virsh_on(host, 'list', '--all', '--uuid'))
            self.assertFalse(os.path.exists(self.dir_on(server_id, host)))

    # --- the tests -------------------------------------------------------------------
    def test_there_to_a_host_and_back_to_where_the_scheduler_says(self):
        server_id = self.boot_ticking('lm-there-and-back')
        before = self.ticks(server_id, 'compute1')

        request_id = self.live_migrate(server_id, 'compute2')
        self.wait_migrated(server_id, 'compute2', 'ACTIVE', RUNNING_POWER)
        self.assert_only_on(server_id, 'compute2', 'running')
        # Ticking on from where it was, the same boot.
        tick = self.wait_tick(server_id, 'compute2', before[-1] + 1)
        self.assertGreater(self.ticks(server_id, 'compute2')[0], before[-1])
        self.assert_same_boot(server_id, 'compute2')
        self.assert_recorded(server_id, request_id, 'compute1', 'compute2')

        # No host: the scheduler's choice, the only other one.
        request_id = self.live_migrate(server_id, None)
        self.wait_migrated(server_id, 'compute1', 'ACTIVE', RUNNING_POWER)
        self.assert_only_on(server_id, 'compute1', 'running')
        self.wait_tick(server_id, 'compute1', tick + 1)
        self.assertGreater(self.ticks(server_id, 'compute1')[0], tick)
        self.assert_same_boot(server_id, 'compute1')
        self.assert_recorded(server_id, request_id, 'compute2', 'compute1')

        self.delete_and_check_gone(server_id)

    def test_a_paused_server_stays_paused_there(self):
        # Nova's domain names (instance-<id>) taken on compute1's libvirtd, as by
        # another cloud's guests there: compute1 names the guest after its uuid, and
        # compute2, where the name is free, names it the usual way on arrival.
        taken = set(base.virsh('list', '--all', '--name').split())
        for n in range(1, 5):
            if f'instance-{n:08x}' not in taken:
                self.define_domain(f'instance-{n:08x}', str(uuid.uuid4()))
        server_id = self.boot_ticking('lm-paused')
        self.action(server_id, {'pause': None})
        self.wait_server(server_id, 'PAUSED', power_state=PAUSED_POWER)
        self.assertEqual('paused', self.domstate_on('compute1', server_id))
        last = self.ticks(server_id, 'compute1')[-1]

        request_id = self.live_migrate(server_id, 'compute2')
        self.wait_migrated(server_id, 'compute2', 'PAUSED', PAUSED_POWER)
        self.assert_only_on(server_id, 'compute2', 'paused')
        self.assert_recorded(server_id, request_id, 'compute1', 'compute2')
        # Still paused: the power-state sync (every 5 s) sees it so too.
        time.sleep(6)
        server = self.client.show(server_id)
        self.assertEqual(('PAUSED', PAUSED_POWER),
                         (server['status'], server['OS-EXT-STS:power_state']))
        self.assertEqual('paused', self.domstate_on('compute2', server_id))
        self.assertEqual([], [n for n in self.ticks(server_id, 'compute2') if n > last + 1])

        self.action(server_id, {'unpause': None})
        self.wait_server(server_id, 'ACTIVE', power_state=RUNNING_POWER)
        self.assertEqual('running', self.domstate_on('compute2', server_id))
        self.wait_tick(server_id, 'compute2', last + 1)
        self.assert_same_boot(server_id, 'compute2')

        self.delete_and_check_gone(server_id)
