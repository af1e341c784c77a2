"""Two compute agents on one libvirtd (what `make run` does with compute1 and
compute2): together they report no more than the machine has, and the restart
reconciliation of one leaves the other's guests alone, even strays that both see."""
from __future__ import annotations

import os
import re
import time
import uuid

import testtools

from kumo_compute.virt.libvirt import config as vconfig
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
        # --- uptime: libvirt agents say what `uptime` prints on their host ------------
        resp = self.client.get(f'/v2.1/os-hypervisors/{hypervisors[0]["id"]}/uptime',
                               headers={'OpenStack-API-Version': 'compute 2.87'})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertIn('load average', resp.json()['hypervisor']['uptime'])
        # From 2.88 it is part of the hypervisor's show (and the /uptime path is gone).
        shown = self.client.get(f'/v2.1/os-hypervisors/{hypervisors[0]["id"]}',
                                headers={'OpenStack-API-Version': 'compute 2.88'})
        self.assertIn('load average', shown.json()['hypervisor']['uptime'])

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
        self.define_domain('instance-7ffff0a1', gone)
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


BIGGER = {**base.FLAVOR, 'name': 'kumo.guest.160', 'id': 'kumo-guest-160', 'ram': 160}


class TestNamesSharedWithAnotherCloud(base.GuestTestCase):
    """Two clouds on one libvirtd both have an instance-00000001. A guest whose
    name was taken at boot keeps its instance-<uuid> name when it is defined again
    after the other cloud's domain is gone (rebuild); a guest put aside by a resize
    whose name another cloud takes meanwhile comes back under instance-<uuid>
    (revert). Both used to fail: libvirt refuses a second name for a uuid and a
    second uuid for a name."""
    EXTRA_CONFIG = {'DEFAULT': {'allow_resize_to_same_host': True}}

    FLAVORS = (BIGGER,)

    def other_clouds_domain(self, name: str) -> str | None:
        """Define a stopped domain called `name` for another cloud's agent (its
        own host and node tag), unless a domain has that name already."""
        if virsh_ok('domuuid', name):
            return None
        other = str(uuid.uuid4())
        self.define_domain(name, other, metadata=(
            f'<metadata><kumo:instance xmlns:kumo="{vconfig.KUMO_NS}">'
            f'<kumo:host>other-cloud</kumo:host><kumo:node>{uuid.uuid4()}</kumo:node>'
            '</kumo:instance></metadata>'))
        return other

    def instance_name(self, server_id: str) -> str:
        return self.client.show(server_id)['OS-EXT-SRV-ATTR:instance_name']

    def test_rebuild_and_revert_around_a_taken_name(self):
        first = self.boot('guest-named')
        self.wait_server(first, 'ACTIVE', power_state=1, timeout=base.BOOT_TIMEOUT)
        name = self.instance_name(first)
        # (Nova's name, unless a stack running beside this one holds it already.)
        first_domain = base.virsh('domname', first)
        self.assertIn(first_domain, (name, f'instance-{first}'))
        # The next server's name, held by another cloud while it boots.
        taken = 'instance-%08x' % (int(name.split('-')[1], 16) + 1)
        other = self.other_clouds_domain(taken)
        second = self.boot('guest-renamed')
        self.wait_server(second, 'ACTIVE', power_state=1, timeout=base.BOOT_TIMEOUT)
        self.assertEqual(taken, self.instance_name(second))
        second_domain = base.virsh('domname', second)
        if other:   # (else a stack beside this one held the name, for however long)
            self.assertEqual(f'instance-{second}', second_domain)

        # --- the other cloud's domain goes; the guest is defined again -----------
        if other:
            base.virsh('undefine', other)
        self.action(second, {'os-stop': None})
        self.wait_server(second, 'SHUTOFF', power_state=4)
        self.action(second, {'rebuild': {'imageRef': stack.IMAGE_ID}})
        self.wait_server(second, 'SHUTOFF', power_state=4, timeout=base.BOOT_TIMEOUT)
        self.assertEqual(second_domain, base.virsh('domname', second))

        # --- the first guest is put aside by a resize; its name is taken --------
        self.action(first, {'os-stop': None})
        self.wait_server(first, 'SHUTOFF', power_state=4)
        self.action(first, {'resize': {'flavorRef': BIGGER['id']}})
        self.wait_server(first, 'VERIFY_RESIZE', power_state=4, timeout=base.BOOT_TIMEOUT)
        # (the resized guest is defined under its name again; undefined as the
        # revert begins, when the other cloud takes the name)
        self.assertEqual(first_domain, base.virsh('domname', first))
        base.virsh('undefine', first)
        self.other_clouds_domain(name)
        self.action(first, {'revertResize': None})
        self.wait_server(first, 'SHUTOFF', power_state=4, timeout=base.BOOT_TIMEOUT)
        self.assertEqual(f'instance-{first}', base.virsh('domname', first))


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


def virsh_ok(*args: str) -> bool:
    return bool(base.virsh(*args, check=False))


def _read(path: str) -> str:
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''
