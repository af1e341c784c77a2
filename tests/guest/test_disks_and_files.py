"""What a real guest gets besides its image: the blank disks block_device_mapping_v2
asks for (made as qcow2 files, attached with Nova's device names) and the personality
files of microversions up to 2.56 (on its config drive, which the test guest's init
writes to their paths and shows on the serial console)."""
from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import subprocess

from tests.guest import base


def _stale_guest() -> str | None:
    """Why the built test guest predates the init that shows personality files, or
    None if it is current."""
    spec = importlib.util.spec_from_file_location(
        'build_test_guest', os.path.join(base.REPO, 'tools', 'build-test-guest.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(os.path.join(base.GUEST_DIR, 'manifest.json')) as f:
        built = json.load(f).get('inputs', {}).get('init_md5')
    if built != hashlib.md5(module.INIT.encode(), usedforsecurity=False).hexdigest():
        return (f'the test guest in {base.GUEST_DIR} was built with an older init '
                '(rebuild it: make guest)')
    return None


def _image_info(path: str) -> dict:
    return json.loads(subprocess.run(['qemu-img', 'info', '--output=json', '-U', path],
                                     check=True, capture_output=True, text=True).stdout)


def _virtual_size(path: str) -> int:
    return _image_info(path)['virtual-size']


def _backing(path: str) -> str:
    return _image_info(path).get('backing-filename', '')


class TestDisksAndFiles(base.GuestTestCase):

    def test_blank_ephemeral_and_swap_mappings(self):
        # The flavor has 1 GB of ephemeral disk and 64 MB of swap; the mapping asks for
        # all of the ephemeral disk (named vdc) and a smaller swap disk.
        server_id = self.boot('guest-bdm', config_drive=True, block_device_mapping_v2=[
            {'uuid': base.stack.IMAGE_ID, 'source_type': 'image',
             'destination_type': 'local', 'boot_index': 0, 'delete_on_termination': True},
            {'source_type': 'blank', 'destination_type': 'local', 'boot_index': -1,
             'volume_size': 1, 'guest_format': 'ext3', 'device_name': '/dev/vdc'},
            {'source_type': 'blank', 'destination_type': 'local', 'guest_format': 'swap',
             'volume_size': 32}])
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        instance_dir = self.stack.instance_dir(server_id)
        disks = base.virsh('domblklist', server_id)
        self.assertRegex(disks, rf'vda\s+{instance_dir}/disk\n')
        # Nova's rule: the unnamed swap disk skips vdc, which the mapping named.
        self.assertRegex(disks, rf'vdb\s+{instance_dir}/disk\.swap\n')
        self.assertRegex(disks, rf'vdc\s+{instance_dir}/disk\.eph0\n')
        self.assertRegex(disks, rf'hdd\s+{instance_dir}/disk\.config')
        self.assertEqual(1 << 30, _virtual_size(os.path.join(instance_dir, 'disk.eph0')))
        # Formatted as the mapping's guest_format asked.
        self.assertTrue(_backing(os.path.join(instance_dir, 'disk.eph0'))
                        .endswith('/ephemeral_1_ext3'))
        self.assertEqual(32 << 20, _virtual_size(os.path.join(instance_dir, 'disk.swap')))
        # The guest sees them at those sizes.
        text = self.wait_console(server_id, r'^KUMO-GUEST-END')
        self.assertIn('disk vdb 33554432 bytes', text)
        self.assertIn('disk vdc 1073741824 bytes', text)

        self.client.delete(server_id)
        self.client.wait_gone(server_id, timeout=base.STATE_TIMEOUT)
        self.assertNotIn(server_id, base.domain_uuids())
        self.assertFalse(os.path.exists(instance_dir))

    def test_personality_files_reach_the_guest(self):
        stale = _stale_guest()
        if stale:
            if base.in_ci():
                self.fail(stale)
            self.skipTest(stale)
        marker = 'personality-marker-5521'
        response = self.client.post('/v2.1/servers', json={'server': {
            'name': 'guest-files', 'flavorRef': base.FLAVOR['id'],
            'imageRef': base.stack.IMAGE_ID, 'networks': 'auto', 'config_drive': True,
            'personality': [
                {'path': '/etc/kumo-personality.txt',
                 'contents': base64.b64encode(f'{marker}\nsecond line'.encode()).decode()},
                {'path': '/root/notes/two', 'contents': base64.b64encode(b'two').decode()}],
        }}, headers={'OpenStack-API-Version': 'compute 2.56'})
        self.assertEqual(202, response.status_code, response.text)
        server_id = response.json()['server']['id']
        self.addCleanup(self._forget, server_id)
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        text = self.wait_console(server_id, r'^KUMO-GUEST-END')
        block = text.split('KUMO-GUEST-BEGIN', 1)[1].split('KUMO-GUEST-END', 1)[0]
        self.assertIn('name=guest-files\n', block)
        # The flavor's ephemeral disk, for an image without os_type: vfat, as Nova
        # formats it when [DEFAULT] default_ephemeral_format is unset.
        eph0 = os.path.join(self.stack.instance_dir(server_id), 'disk.eph0')
        self.assertTrue(_backing(eph0).endswith('/ephemeral_1_vfat'), _backing(eph0))
        files = dict(re.findall(r'(?ms)^file=(\S+)\n(.*?)\nfile-end$', block))
        self.assertEqual({'/etc/kumo-personality.txt': f'{marker}\nsecond line',
                          '/root/notes/two': 'two'},
                         {k: v.replace('\r', '') for k, v in files.items()}, block)
