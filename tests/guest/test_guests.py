"""Real guests through the API of a running Kumo (libvirt driver, virt_type qemu).

Every guest is the test guest (tools/build-test-guest.py) with 128 MiB; its init
prints what it found on the config drive between KUMO-GUEST-BEGIN/END on the serial
console and obeys user_data lines such as `poweroff`.
"""
from __future__ import annotations

import os
import re
import time
import uuid

from testtools import content

from tests.guest import base


class TestRealGuests(base.GuestTestCase):

    def test_boot_config_drive_console_and_delete(self):
        key_name, _public = self.keypair()
        started = time.monotonic()
        server_id = self.boot('guest-one', hostname='kumo-guest-1', key_name=key_name,
                              config_drive=True, metadata={'role': 'test'},
                              user_data='echo user-data-marker-7731\n')
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        active_after = time.monotonic() - started
        self.assertEqual('True', server['config_drive'])
        self.assertEqual('running', base.domstate(server_id))

        text = self.wait_console(server_id, r'^KUMO-GUEST-END')
        self.addDetail('timings', content.text_content(
            f'ACTIVE after {active_after:.1f}s, console after '
            f'{time.monotonic() - started:.1f}s'))
        block = text.split('KUMO-GUEST-BEGIN', 1)[1].split('KUMO-GUEST-END', 1)[0]
        self.assertIn(f'uuid={server_id}\n', block)
        self.assertIn('hostname=kumo-guest-1\n', block)
        self.assertIn(f'key={key_name}\n', block)
        self.assertIn('user-data-marker-7731', block)
        # The guest obeyed its user_data (`echo`) after reading it (and after the
        # report above: wait for it).
        self.wait_console(server_id, r'^user-data-marker-7731$')
        # Disks sized by the flavor: 1 GiB root, 1 GiB ephemeral, 64 MiB swap.
        self.assertIn('root disk vda 1073741824 bytes', text)
        self.assertIn('disk vdb 1073741824 bytes', text)
        self.assertIn('disk vdc 67108864 bytes', text)

        instance_dir = self.stack.instance_dir(server_id)
        self.assertTrue(os.path.isdir(instance_dir))
        self.client.delete(server_id)
        self.client.wait_gone(server_id, timeout=base.STATE_TIMEOUT)
        self.assertNotIn(server_id, base.domain_uuids())
        self.assertFalse(os.path.exists(instance_dir), os.listdir(instance_dir)
                         if os.path.exists(instance_dir) else None)

    def test_guest_that_powers_itself_off_becomes_shutoff(self):
        server_id = self.boot('guest-poweroff', config_drive=True,
                              user_data='echo bye\npoweroff\n')
        self.wait_console(server_id, r'user_data: poweroff')
        # No API call: libvirt's event (or the periodic sync) reports it.
        server = self.wait_server(server_id, 'SHUTOFF', power_state=4)
        self.assertEqual('SHUTOFF', server['status'])
        self.assertEqual('shut off', base.domstate(server_id))
        actions = self.client.get(f'/v2.1/servers/{server_id}/os-instance-actions').json()
        self.assertIn('stop', [a['action'] for a in actions['instanceActions']])

    def test_lifecycle_actions_change_the_real_domain(self):
        server_id = self.boot('guest-life', config_drive=True)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'^KUMO-GUEST: ready')

        self.action(server_id, {'os-stop': None})
        self.wait_server(server_id, 'SHUTOFF', power_state=4)
        self.assertEqual('shut off', base.domstate(server_id))
        # A clean shutdown: the guest saw the ACPI power button.
        self.assertIn('power button pressed', self.console(server_id))

        self.action(server_id, {'os-start': None})
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertEqual('running', base.domstate(server_id))
        self.wait_console(server_id, r'^KUMO-GUEST: ready', count=2)

        self.action(server_id, {'reboot': {'type': 'SOFT'}})
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'^KUMO-GUEST: init started', count=3)
        self.assertEqual('running', base.domstate(server_id))

        self.action(server_id, {'reboot': {'type': 'HARD'}})
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'^KUMO-GUEST: init started', count=4)

        self.action(server_id, {'pause': None})
        self.wait_server(server_id, 'PAUSED', power_state=3)
        self.assertEqual('paused', base.domstate(server_id))
        self.action(server_id, {'unpause': None})
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertEqual('running', base.domstate(server_id))

        self.action(server_id, {'suspend': None})
        # Managed save: QEMU is gone, its memory on disk (power_state 4, as Nova's).
        self.wait_server(server_id, 'SUSPENDED', power_state=4)
        self.assertEqual('shut off', base.domstate(server_id))
        self.assertIn('saved', base.virsh('domstate', '--reason', server_id))
        self.action(server_id, {'resume': None})
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertIn('restored', base.virsh('domstate', '--reason', server_id))
        # Restored, not rebooted.
        self.assertEqual(4, len(re.findall(r'(?m)^KUMO-GUEST: init started',
                                           self.console(server_id))))

        # What Nova refuses, Kumo refuses: resume of an active server.
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'resume': None})
        self.assertEqual(409, response.status_code, response.text)

    def test_guest_started_behind_our_back_is_stopped_again(self):
        server_id = self.boot('guest-sneaky', config_drive=True)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'^KUMO-GUEST: ready')
        self.action(server_id, {'os-stop': None})
        self.wait_server(server_id, 'SHUTOFF', power_state=4)

        base.virsh('start', server_id)
        # Nova's rule: a stopped server whose guest runs is stopped again.
        deadline = time.monotonic() + base.STATE_TIMEOUT
        while True:
            server = self.client.show(server_id)
            if server['OS-EXT-STS:task_state'] == 'powering-off' or (
                    server['OS-EXT-STS:power_state'] == 1):
                break
            self.assertLess(time.monotonic(), deadline, 'the started guest was not noticed')
            time.sleep(0.2)
        self.wait_domstate(server_id, 'shut off')
        server = self.wait_server(server_id, 'SHUTOFF', power_state=4)
        self.assertEqual('SHUTOFF', server['status'])

    def test_restart_reconciliation(self):
        ids = [self.boot(f'guest-r{n}', config_drive=True) for n in range(3)]
        gone = self.boot('guest-gone')
        for server_id in ids + [gone]:
            self.wait_server(server_id, 'ACTIVE', power_state=1)
        for server_id in ids:
            self.wait_console(server_id, r'^KUMO-GUEST: ready')
        self.client.delete(gone)
        self.client.wait_gone(gone, timeout=base.STATE_TIMEOUT)

        self.stack.kill_agent()
        # While the agent is dead: one guest dies, and a stray appears, named like an
        # instance and carrying the id of a server the database knows as deleted.
        # Another domain, named like an instance but of no server Kumo ever had, may
        # be anybody's: it is reported and left alone.
        victim = ids[1]
        base.virsh('destroy', victim)
        foreign = str(uuid.uuid4())
        for name, domain_uuid in (('instance-7ffff001', gone),
                                  ('instance-7ffff002', foreign)):
            self.define_domain(name, domain_uuid)

        self.stack.start_agent()
        # The destroyed guest is reported SHUTOFF; the stray is reaped (the default
        # running_deleted_instance_action, as Nova's).
        self.wait_server(victim, 'SHUTOFF', power_state=4)
        deadline = time.monotonic() + base.STATE_TIMEOUT
        while gone in base.domain_uuids():
            self.assertLess(time.monotonic(), deadline, 'the stray domain is still there')
            time.sleep(0.2)
        log = self.stack.read_log(base.AGENT)
        self.assertIn(f'Reaped stray guest {gone}', log)
        self.assertIn(f'Leaving guest {foreign} alone', log)
        self.assertIn(foreign, base.domain_uuids())
        for server_id in (ids[0], ids[2]):
            server = self.wait_server(server_id, 'ACTIVE', power_state=1)
            self.assertEqual('ACTIVE', server['status'])
            self.assertEqual('running', base.domstate(server_id))
            # Left alone: still the first boot.
            self.assertEqual(1, len(re.findall(r'(?m)^KUMO-GUEST: init started',
                                               self.console(server_id))))
