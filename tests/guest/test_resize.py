"""resize, revertResize and confirmResize (issue 7) on the real test guest, with two
agents on the one libvirtd (each with its own instances path): the domain runs with
the new flavor's vCPUs and memory (virsh dominfo) and a root disk grown to the new
size (the guest itself reports it), on the other host; revert brings back the old
domain and disk on the source; confirm drops the source's files."""
from __future__ import annotations

import json
import os
import subprocess

from tests.guest import base

BIG = {'name': 'kumo.guest.big', 'id': 'kumo-guest-192', 'ram': 192, 'vcpus': 2,
       'disk': 2, 'OS-FLV-EXT-DATA:ephemeral': 1, 'swap': 64}
GiB = 1 << 30


def dominfo(server_id: str) -> dict[str, str]:
    info = {}
    for line in base.virsh('dominfo', server_id).splitlines():
        key, _, value = line.partition(':')
        info[key.strip()] = value.strip()
    return info


def virtual_size(path: str) -> int:
    out = subprocess.run(['qemu-img', 'info', '-U', '--output=json', path],
                         capture_output=True, text=True, check=True).stdout
    return int(json.loads(out)['virtual-size'])


class TestResize(base.GuestTestCase):
    COMPUTES = 2
    # Resize waits for the guest to power off (ACPI), as Nova's does.
    RESIZE_TIMEOUT = 180

    FLAVORS = (BIG,)

    def resize(self, server_id: str, flavor: str) -> dict:
        self.action(server_id, {'resize': {'flavorRef': flavor}})
        return self.wait_server(server_id, 'VERIFY_RESIZE', power_state=1,
                                timeout=self.RESIZE_TIMEOUT)

    def test_resize_revert_then_resize_confirm(self):
        server_id = self.boot('guest-resize', config_drive=True)
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        source = server['OS-EXT-SRV-ATTR:host']
        self.wait_console(server_id, r'^KUMO-GUEST: ready', host=source)
        self.assertEqual(('1', '131072 KiB'), (dominfo(server_id)['CPU(s)'],
                                                dominfo(server_id)['Max memory']))

        # --- resize: the other agent, 2 vCPUs, 192 MiB, a 2 GiB root disk -----------
        server = self.resize(server_id, BIG['id'])
        dest = server['OS-EXT-SRV-ATTR:host']
        self.assertNotEqual(source, dest)
        info = dominfo(server_id)
        self.assertEqual(('2', '196608 KiB', 'running'),
                         (info['CPU(s)'], info['Max memory'], info['State']))
        new_dir = self.dir_on(server_id, dest)
        self.assertIn(new_dir, base.virsh('dumpxml', server_id))
        self.assertEqual(2 * GiB, virtual_size(os.path.join(new_dir, 'disk')))
        # The guest booted from its old disk, now 2 GiB, with its ephemeral and swap.
        text = self.wait_console(server_id, r'^KUMO-GUEST: ready', host=dest)
        self.assertIn(f'root disk vda {2 * GiB} bytes', text)
        self.assertIn(f'disk vdb {GiB} bytes', text)
        # The source keeps the old guest's files aside until confirm or revert.
        old_dir = self.dir_on(server_id, source)
        self.assertTrue(os.path.isdir(old_dir + '_resize'))
        self.assertFalse(os.path.exists(old_dir))

        # --- revert: the old domain and disk, on the source ---------------------------
        self.action(server_id, {'revertResize': None})
        server = self.wait_server(server_id, 'ACTIVE', power_state=1,
                                  timeout=self.RESIZE_TIMEOUT)
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        info = dominfo(server_id)
        self.assertEqual(('1', '131072 KiB', 'running'),
                         (info['CPU(s)'], info['Max memory'], info['State']))
        self.assertIn(old_dir, base.virsh('dumpxml', server_id))
        self.assertEqual(GiB, virtual_size(os.path.join(old_dir, 'disk')))
        self.assertFalse(os.path.exists(old_dir + '_resize'))
        self.assertFalse(os.path.exists(new_dir))

        # --- resize again, and confirm: the source's files go ---------------------------
        server = self.resize(server_id, BIG['id'])
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'confirmResize': None})
        self.assertEqual(204, response.status_code, response.text)
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        info = dominfo(server_id)
        self.assertEqual(('2', '196608 KiB', 'running'),
                         (info['CPU(s)'], info['Max memory'], info['State']))
        self.assertFalse(os.path.exists(old_dir + '_resize'))
        self.assertFalse(os.path.exists(old_dir))
        self.assertTrue(os.path.isdir(new_dir))


    def test_destination_agent_restarted_half_way(self):
        """The destination's agent is killed once the resize has started: its step
        waits in its queue, and the agent, started again, finishes the resize."""
        import time
        server_id = self.boot('guest-resize-restart', config_drive=True)
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = next(h for h in self.stack.compute_hosts if h != source)
        self.wait_console(server_id, r'^KUMO-GUEST: ready', host=source)
        self.stack.kill_agent(dest)
        try:
            self.action(server_id, {'resize': {'flavorRef': BIG['id']}})
            deadline = time.monotonic() + self.RESIZE_TIMEOUT
            while self.client.show(server_id)['OS-EXT-STS:task_state'] != 'resize_finish':
                self.assertLess(time.monotonic(), deadline, 'never resize_finish')
                time.sleep(0.5)
            # The guest is off on the source, nothing runs on the destination yet.
            self.assertEqual('', base.domstate(server_id))
        finally:
            self.stack.start_agent(dest)
        server = self.wait_server(server_id, 'VERIFY_RESIZE', power_state=1,
                                  timeout=self.RESIZE_TIMEOUT)
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        info = dominfo(server_id)
        self.assertEqual(('2', '196608 KiB', 'running'),
                         (info['CPU(s)'], info['Max memory'], info['State']))
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'confirmResize': None})
        self.assertEqual(204, response.status_code, response.text)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertFalse(os.path.exists(self.dir_on(server_id, source) + '_resize'))


class TestResizeSameHost(base.GuestTestCase):
    """With [DEFAULT] allow_resize_to_same_host and one agent: the domain is
    redefined with the new flavor in place; revert restores the old XML and disk."""
    EXTRA_CONFIG = {'DEFAULT': {'allow_resize_to_same_host': True}}
    RESIZE_TIMEOUT = 180

    FLAVORS = (BIG,)

    def test_resize_revert_confirm_in_place(self):
        server_id = self.boot('guest-resize-here', config_drive=True)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'^KUMO-GUEST: ready')
        path = self.stack.instance_dir(server_id)

        self.action(server_id, {'resize': {'flavorRef': BIG['id']}})
        server = self.wait_server(server_id, 'VERIFY_RESIZE', power_state=1,
                                  timeout=self.RESIZE_TIMEOUT)
        self.assertEqual(base.HOST, server['OS-EXT-SRV-ATTR:host'])
        info = dominfo(server_id)
        self.assertEqual(('2', '196608 KiB'), (info['CPU(s)'], info['Max memory']))
        self.assertEqual(2 * GiB, virtual_size(os.path.join(path, 'disk')))
        self.assertTrue(os.path.isdir(path + '_resize'))

        self.action(server_id, {'revertResize': None})
        self.wait_server(server_id, 'ACTIVE', power_state=1, timeout=self.RESIZE_TIMEOUT)
        info = dominfo(server_id)
        self.assertEqual(('1', '131072 KiB'), (info['CPU(s)'], info['Max memory']))
        self.assertEqual(GiB, virtual_size(os.path.join(path, 'disk')))
        self.assertFalse(os.path.exists(path + '_resize'))

        self.action(server_id, {'resize': {'flavorRef': BIG['id']}})
        self.wait_server(server_id, 'VERIFY_RESIZE', power_state=1,
                         timeout=self.RESIZE_TIMEOUT)
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'confirmResize': None})
        self.assertEqual(204, response.status_code, response.text)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        info = dominfo(server_id)
        self.assertEqual(('2', '196608 KiB'), (info['CPU(s)'], info['Max memory']))
        self.assertFalse(os.path.exists(path + '_resize'))
