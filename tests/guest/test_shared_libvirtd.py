"""Two compute agents on one libvirtd (what `make run` does with compute1 and
compute2): together they report no more than the machine has, and the restart
reconciliation of one leaves the other's guests alone, even strays that both see."""
from __future__ import annotations

import os
import re
import textwrap
import time

import testtools

from tests.fixtures import stack
from tests.guest import base


def _machine() -> tuple[int, int]:
    """(CPUs, memory MiB) as libvirtd sees the machine."""
    info = dict(line.split(':', 1) for line in base.virsh('nodeinfo').splitlines()
                if ':' in line)
    return int(info['CPU(s)']), int(info['Memory size'].split()[0]) // 1024


class TestTwoAgentsOneLibvirtd(base.GuestTestCase):
    COMPUTES = 2
    # Each agent's part of the machine, as kumo-all sets for its two agents.
    EXTRA_CONFIG = {'libvirt': {'capacity_share': 0.5}}

    def test_capacity_is_split_and_reconciliation_stays_home(self):
        # --- capacity: the two agents together report at most the machine ---------
        hypervisors = self.client.get('/v2.1/os-hypervisors/detail', headers={
            'OpenStack-API-Version': 'compute 2.87'}).json()['hypervisors']
        self.assertEqual(['compute1', 'compute2'],
                         sorted(h['hypervisor_hostname'] for h in hypervisors))
        cpus, memory_mib = _machine()
        self.assertLessEqual(sum(h['vcpus'] for h in hypervisors), cpus)
        self.assertLessEqual(sum(h['memory_mb'] for h in hypervisors), memory_mib)
        self.assertGreater(sum(h['memory_mb'] for h in hypervisors), memory_mib - 2)
        for h in hypervisors:
            self.assertEqual(cpus // 2, h['vcpus'], h)

        # --- one guest on each agent, and a server of compute1 that is deleted ----
        here = self.boot('guest-here', config_drive=True, availability_zone='nova:compute1')
        there = self.boot('guest-there', config_drive=True,
                          availability_zone='nova:compute2')
        gone = self.boot('guest-gone', availability_zone='nova:compute1')
        for server_id, host in ((here, 'compute1'), (there, 'compute2'),
                                (gone, 'compute1')):
            server = self.wait_server(server_id, 'ACTIVE', power_state=1,
                                      timeout=base.BOOT_TIMEOUT)
            self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])
        for server_id in (here, there):
            self.wait_console(server_id, r'^KUMO-GUEST: ready')
        self.client.delete(gone)
        self.client.wait_gone(gone, timeout=base.STATE_TIMEOUT)

        # --- compute1 dies; meanwhile its guest is destroyed, and a domain named
        # like an instance, untagged, appears with the deleted server's uuid ------
        self.stack.kill_agent('compute1')
        base.virsh('destroy', here)
        name = 'instance-7ffff0a1'
        stray_xml = os.path.join(self.stack.dir, f'{name}.xml')
        with open(stray_xml, 'w') as f:
            f.write(textwrap.dedent(f'''\
                <domain type='qemu'>
                  <name>{name}</name>
                  <uuid>{gone}</uuid>
                  <memory unit='MiB'>32</memory>
                  <os><type arch='x86_64'>hvm</type></os>
                </domain>
                '''))
        base.virsh('define', stray_xml)
        self.addCleanup(base.virsh, 'undefine', gone, check=False)
        # compute2 syncs every 5 s: it sees the stray but leaves it to compute1,
        # and it does not report compute1's guests (or the destroyed one) at all.
        log2 = self.stack.log_path('kumo-compute@compute2')
        deadline = time.monotonic() + base.STATE_TIMEOUT
        while f'Leaving guest {gone} alone' not in _read(log2):
            self.assertLess(time.monotonic(), deadline, 'compute2 never looked at it')
            time.sleep(0.5)
        self.assertIn(gone, base.domain_uuids())
        self.assertEqual('ACTIVE', self.client.show(here)['status'])

        # --- compute1 comes back: its own reconciliation ------------------------
        self.stack.start_agent('compute1')
        self.wait_server(here, 'SHUTOFF', power_state=4)
        deadline = time.monotonic() + base.STATE_TIMEOUT
        while gone in base.domain_uuids():
            self.assertLess(time.monotonic(), deadline, 'the stray is still there')
            time.sleep(0.2)
        self.assertIn(f'Reaped stray guest {gone}',
                      self.stack.read_log('kumo-compute@compute1'))
        self.assertNotIn('Reaped stray guest', _read(log2))
        # compute2's guest: untouched, still on its first boot.
        server = self.wait_server(there, 'ACTIVE', power_state=1)
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', base.domstate(there))
        self.assertEqual(1, len(re.findall(r'(?m)^KUMO-GUEST: init started',
                                           self.console(there))))
        self.assertNotIn(there, _read(self.stack.log_path('kumo-compute@compute1')))


class TestKumoAllSplitsTheMachine(testtools.TestCase):
    """`make run`'s kumo-all with two libvirt agents: each reports half the machine,
    though nobody configured it so."""

    def test_two_agents_report_half_of_the_machine_each(self):
        problem = base.libvirt_problem()
        if problem:
            if base.in_ci():
                self.fail(f'{problem} (CI=true: real guests must run)')
            self.skipTest(problem)
        st = self.useFixture(stack.AllInOneStack(computes=2, extra_config={
            'compute': {'virt_driver': 'libvirt'}, 'libvirt': {'virt_type': 'qemu'}}))
        hypervisors = st.client.get('/v2.1/os-hypervisors/detail', headers={
            'OpenStack-API-Version': 'compute 2.87'}).json()['hypervisors']
        self.assertEqual(['compute1', 'compute2'],
                         sorted(h['hypervisor_hostname'] for h in hypervisors))
        cpus, memory_mib = _machine()
        for h in hypervisors:
            self.assertEqual((cpus // 2, memory_mib // 2),
                             (h['vcpus'], h['memory_mb']), h)
        stat = os.statvfs(st.dir)   # (the agents' instances_path is under it)
        disk_gb = stat.f_blocks * stat.f_frsize // (1 << 30)
        self.assertEqual([disk_gb // 2] * 2, [h['local_gb'] for h in hypervisors])
        self.assertIn('2 libvirt agents share this machine', st.read_log('kumo-all'))


def _read(path: str) -> str:
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''
