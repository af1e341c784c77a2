"""A real guest booted from images in a real Glance: the test guest's kernel (aki),
initramfs (ari) and machine image (ami, with kernel_id/ramdisk_id) uploaded to Glance
from PyPI (tools/glance-venv.sh), and every Kumo service with [glance] endpoint
pointing at it. The compute agent downloads all three (GET /v2/images/{id}/file) into
its image cache, checks Glance's checksums, and boots the guest from them.

Skipped unless the Glance virtualenv exists (and, as every guest test, libvirtd,
RabbitMQ, PostgreSQL and the test guest are there).
"""
from __future__ import annotations

import hashlib
import json
import os

import requests
import testtools
from testtools import content

from kumo_common.cmd import guest_image
from tests.fixtures import glance as glance_fixtures
from tests.guest import base


@testtools.skipUnless(glance_fixtures.available(), glance_fixtures.SKIP_REASON)
class TestGuestFromGlance(base.GuestTestCase):

    glance: glance_fixtures.RealGlance | None = None

    @classmethod
    def setUpClass(cls):
        cls.glance = glance_fixtures.RealGlance()
        cls.glance.setUp()
        cls.EXTRA_CONFIG = {'glance': {'endpoint': cls.glance.endpoint}}
        try:
            super().setUpClass()
        except BaseException:
            cls.glance.cleanUp()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.glance.cleanUp()

    def setUp(self):
        super().setUp()
        self.addOnException(lambda _e: self.addDetail(
            'glance-log', content.text_content(self.glance.diagnostics())))

    def upload(self, name: str, path: str, fmt: str, **properties) -> dict:
        url = f'{self.glance.endpoint}/v2/images'
        created = requests.post(url, timeout=30, json={
            'name': name, 'disk_format': fmt, 'container_format': fmt, **properties})
        self.assertEqual(201, created.status_code, created.text)
        image_id = created.json()['id']
        self.addCleanup(requests.delete, f'{url}/{image_id}', timeout=30)
        with open(path, 'rb') as data:
            put = requests.put(f'{url}/{image_id}/file', data=data, timeout=120,
                               headers={'Content-Type': 'application/octet-stream'})
        self.assertEqual(204, put.status_code, put.text)
        return requests.get(f'{url}/{image_id}', timeout=30).json()

    def test_boot_a_guest_from_glance_images(self):
        with open(os.path.join(base.GUEST_DIR, 'manifest.json')) as f:
            files = json.load(f)['files']

        def path(role: str) -> str:
            return os.path.join(base.GUEST_DIR, files[role]['file'])

        kernel = self.upload('glance-guest-kernel', path('kernel'), 'aki')
        ramdisk = self.upload('glance-guest-ramdisk', path('ramdisk'), 'ari')
        machine = self.upload('glance-guest', path('disk'), 'ami',
                              kernel_id=kernel['id'], ramdisk_id=ramdisk['id'],
                              architecture='x86_64', hypervisor_type='qemu',
                              os_command_line=guest_image.COMMAND_LINE)
        self.assertEqual(files['disk']['md5'], machine['checksum'])

        server_id = self.boot('from-glance', image=machine['id'], config_drive=True)
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertEqual(machine['id'], server['image']['id'])
        text = self.wait_console(server_id, r'^KUMO-GUEST-END')
        self.assertIn(f'uuid={server_id}\n', text)
        # The agent's cache holds Glance's bits for all three images.
        cache = os.path.join(self.stack.dir, 'state', base.HOST, 'instances', '_base')
        for image, role in ((kernel, 'kernel'), (ramdisk, 'ramdisk'), (machine, 'disk')):
            with open(os.path.join(cache, image['id']), 'rb') as f:
                self.assertEqual(files[role]['md5'], hashlib.md5(f.read()).hexdigest())
        self.assertIn(f'Fetching image {machine["id"]}', self.stack.read_log(base.AGENT))
        self.client.delete(server_id)
        self.client.wait_gone(server_id, timeout=base.STATE_TIMEOUT)
