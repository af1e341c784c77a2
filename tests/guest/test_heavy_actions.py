"""The heavier actions (issue 7) on the real test guest: changePassword's 409 without
a guest agent, createImage as a standalone qcow2 in the image store, and rebuild from
that snapshot with new user_data (the console shows it)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import time

from tests.guest import base


class TestHeavyActions(base.GuestTestCase):

    def post_action(self, server_id: str, body: dict, version: str = '2.100'):
        return self.client.post(f'/v2.1/servers/{server_id}/action', json=body,
                                headers={'OpenStack-API-Version': f'compute {version}'})

    def wait_image(self, image_id: str, timeout: float = base.STATE_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            # (The compute images proxy ends at 2.35.)
            response = self.client.get(f'/v2.1/images/{image_id}',
                                       headers={'OpenStack-API-Version': 'compute 2.35'})
            if response.status_code == 200 and response.json()['image']['status'] == \
                    'ACTIVE':
                return response.json()['image']
            if time.monotonic() > deadline:
                self.fail(f'image {image_id}: {response.status_code} {response.text}')
            time.sleep(0.2)

    def test_password_snapshot_and_rebuild_from_it(self):
        server_id = self.boot('guest-heavy', config_drive=True,
                              user_data='echo before-rebuild-4411\n')
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'^before-rebuild-4411$')

        # changePassword: the test image has no QEMU guest agent (Nova's 409).
        response = self.post_action(server_id, {'changePassword': {'adminPass': 'x'}})
        self.assertEqual(409, response.status_code, response.text)
        self.assertIn('QEMU guest agent is not enabled', response.text)

        # createImage: a standalone qcow2 of the root disk in the image store.
        response = self.post_action(server_id, {'createImage': {'name': 'snap-1'}})
        self.assertEqual(202, response.status_code, response.text)
        image_id = response.json()['image_id']
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        image = self.wait_image(image_id)
        self.assertEqual(server_id, image['metadata']['instance_uuid'])
        self.assertEqual('snapshot', image['metadata']['image_type'])
        self.assertEqual('running', base.domstate(server_id))
        store = os.path.join(self.stack.dir, 'state')
        found = [os.path.join(d, image_id) for d, _s, files in os.walk(store)
                 if image_id in files]
        self.assertEqual(1, len(found), found)
        info = json.loads(subprocess.run(
            ['qemu-img', 'info', '--output=json', '-U', found[0]], check=True,
            capture_output=True, text=True).stdout)
        self.assertEqual('qcow2', info['format'])
        self.assertNotIn('backing-filename', info)   # standalone
        self.assertEqual(1 << 30, info['virtual-size'])
        root = os.path.join(self.stack.instance_dir(server_id), 'disk')
        subprocess.run(['qemu-img', 'compare', '-U', root, found[0]], check=True,
                       capture_output=True)

        # rebuild from the snapshot, with new user_data: a new root disk, a restart.
        response = self.post_action(server_id, {'rebuild': {
            'imageRef': image_id, 'name': 'guest-rebuilt',
            'user_data': base64.b64encode(b'echo after-rebuild-9923\n').decode()}})
        self.assertEqual(202, response.status_code, response.text)
        self.assertEqual('REBUILD', response.json()['server']['status'])
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertEqual(image_id, server['image']['id'])
        self.assertEqual('guest-rebuilt', server['name'])
        self.assertEqual('running', base.domstate(server_id))
        text = self.wait_console(server_id, r'^after-rebuild-9923$')
        self.assertNotIn('before-rebuild-4411', text)
        # The root disk was made anew, on the snapshot (inode numbers may be reused).
        backing = json.loads(subprocess.run(
            ['qemu-img', 'info', '--output=json', '-U', root], check=True,
            capture_output=True, text=True).stdout)['backing-filename']
        self.assertTrue(backing.endswith(image_id), backing)
        actions = self.client.get(f'/v2.1/servers/{server_id}/os-instance-actions').json()
        self.assertEqual(['rebuild', 'createImage', 'create'],
                         [a['action'] for a in actions['instanceActions']][:3])

    def test_rescue_boots_the_rescue_disk_with_the_own_disk_second(self):
        server_id = self.boot('guest-rescue', config_drive=True)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.wait_console(server_id, r'^KUMO-GUEST-END')
        response = self.post_action(server_id, {'rescue': {'adminPass': 'pw'}})
        self.assertEqual(200, response.status_code, response.text)
        self.assertEqual({'adminPass': 'pw'}, response.json())
        self.wait_server(server_id, 'RESCUE', power_state=1)
        self.assertEqual('running', base.domstate(server_id))
        instance_dir = self.stack.instance_dir(server_id)
        disks = base.virsh('domblklist', server_id)
        self.assertRegex(disks, rf'vda\s+{instance_dir}/rescue/disk')
        self.assertRegex(disks, rf'vdb\s+{instance_dir}/disk\n')
        # The rescue system booted (a second guest report on the console).
        self.wait_console(server_id, r'^KUMO-GUEST-END', count=2)

        response = self.post_action(server_id, {'unrescue': None})
        self.assertEqual(202, response.status_code, response.text)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        disks = base.virsh('domblklist', server_id)
        self.assertRegex(disks, rf'vda\s+{instance_dir}/disk\n')
        self.assertNotIn('rescue', disks)
        self.assertFalse(os.path.exists(os.path.join(instance_dir, 'rescue')))
        self.wait_console(server_id, r'^KUMO-GUEST-END', count=3)
