"""shelve / shelveOffload / unshelve (issue 7) on the real test guest, two agents on
one libvirtd: the shelve image is a standalone qcow2 of the root disk (a pattern
written into the disk beforehand is in it); after the offload the domain is
undefined and the instance directory is gone; unshelve (2.91, to the other host)
defines and boots the guest again from that image (the pattern is read back through
the new root disk's backing file, the config drive's user_data shows on the console)."""
from __future__ import annotations

import json
import os
import subprocess

from tests.guest import base

PATTERN = '0x5a'
OFFSET = '1M'
LENGTH = '64k'


def qemu_io(path: str, command: str, write: bool = False) -> str:
    """qemu-io on a qcow2 file; reads share it with a running QEMU (-U -r)."""
    share = [] if write else ['-U', '-r']
    proc = subprocess.run(['qemu-io', '-f', 'qcow2', *share, '-c', command, path],
                          capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


def image_info(path: str) -> dict:
    return json.loads(subprocess.run(['qemu-img', 'info', '--output=json', '-U', path],
                                     check=True, capture_output=True, text=True).stdout)


class TestShelve(base.GuestTestCase):
    COMPUTES = 2
    # Shelve leaves the guest in place; the offload is asked for separately.
    EXTRA_CONFIG = {'DEFAULT': {'shelved_offload_time': -1}}

    def post_action(self, server_id: str, body: dict, version: str = '2.91'):
        return self.client.post(f'/v2.1/servers/{server_id}/action', json=body,
                                headers={'OpenStack-API-Version': f'compute {version}'})

    def assert_pattern(self, path: str) -> None:
        out = qemu_io(path, f'read -P {PATTERN} {OFFSET} {LENGTH}')
        self.assertNotIn('Pattern verification failed', out)
        self.assertIn('read 65536/65536 bytes', out)

    def test_shelve_offload_and_unshelve_elsewhere(self):
        server_id = self.boot('guest-shelve', config_drive=True,
                              user_data='echo shelve-marker-7781\n')
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        first_host = server['OS-EXT-SRV-ATTR:host']
        other_host = next(h for h in self.stack.compute_hosts if h != first_host)
        self.wait_console(server_id, r'^shelve-marker-7781$')

        # A pattern in the root disk (written while the guest is off), then running
        # again: shelve it from ACTIVE, through the guest's clean shutdown.
        self.action(server_id, {'os-stop': None})
        self.wait_server(server_id, 'SHUTOFF', power_state=4)
        first_dir = self.stack.instance_dir(server_id, first_host)
        out = qemu_io(os.path.join(first_dir, 'disk'),
                      f'write -P {PATTERN} {OFFSET} {LENGTH}', write=True)
        self.assertIn('wrote 65536/65536 bytes', out)
        self.action(server_id, {'os-start': None})
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'^shelve-marker-7781$', count=2)

        # shelve: powered off in place, its root disk in the "<name>-shelved" image.
        response = self.post_action(server_id, {'shelve': None})
        self.assertEqual(202, response.status_code, response.text)
        server = self.wait_server(server_id, 'SHELVED', power_state=4)
        self.assertEqual(first_host, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('shut off', base.domstate(server_id))
        images = self.client.get('/v2.1/images/detail',
                                 headers={'OpenStack-API-Version': 'compute 2.35'}).json()
        shelved = [i for i in images['images'] if i['name'] == 'guest-shelve-shelved']
        self.assertEqual(1, len(shelved), images)
        image_id = shelved[0]['id']
        self.assertEqual('ACTIVE', shelved[0]['status'])
        self.assertEqual(server_id, shelved[0]['metadata']['instance_uuid'])
        store = os.path.join(self.stack.dir, 'state')
        files = [os.path.join(d, image_id) for d, _s, names in os.walk(store)
                 if image_id in names and '_base' not in d]
        self.assertEqual(1, len(files), files)
        info = image_info(files[0])
        self.assertEqual('qcow2', info['format'])
        self.assertNotIn('backing-filename', info)   # standalone
        self.assert_pattern(files[0])

        # shelveOffload: the domain and every file of the guest leave the host.
        response = self.post_action(server_id, {'shelveOffload': None})
        self.assertEqual(202, response.status_code, response.text)
        server = self.wait_server(server_id, 'SHELVED_OFFLOADED', power_state=0)
        self.assertIsNone(server['OS-EXT-SRV-ATTR:host'])
        self.assertNotIn(server_id, base.domain_uuids())
        self.assertEqual('', base.domstate(server_id))
        self.assertFalse(os.path.exists(first_dir), os.listdir(os.path.dirname(first_dir)))

        # unshelve to the other host (2.91, admin): booted from the shelve image.
        response = self.post_action(server_id, {'unshelve': {'host': other_host}})
        self.assertEqual(202, response.status_code, response.text)
        server = self.wait_server(server_id, 'ACTIVE', power_state=1,
                                  timeout=base.BOOT_TIMEOUT)
        self.assertEqual(other_host, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', base.domstate(server_id))
        new_dir = self.stack.instance_dir(server_id, other_host)
        self.assertTrue(os.path.isdir(new_dir))
        self.assertFalse(os.path.exists(first_dir))
        root = os.path.join(new_dir, 'disk')
        self.assertTrue(image_info(root)['backing-filename'].endswith(image_id))
        self.assert_pattern(root)
        disks = base.virsh('domblklist', server_id)
        self.assertRegex(disks, rf'vda\s+{new_dir}/disk\n')
        self.wait_console(server_id, r'^shelve-marker-7781$')
        # The shelve image is gone once the server runs again.
        response = self.client.get(f'/v2.1/images/{image_id}',
                                   headers={'OpenStack-API-Version': 'compute 2.35'})
        self.assertEqual(404, response.status_code, response.text)
        self.assertFalse(os.path.exists(files[0]))
        actions = self.client.get(f'/v2.1/servers/{server_id}/os-instance-actions').json()
        self.assertEqual(['unshelve', 'shelveOffload', 'shelve'],
                         [a['action'] for a in actions['instanceActions']][:3])
