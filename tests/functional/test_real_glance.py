"""Kumo with a real Glance: Glance from PyPI (tools/glance-venv.sh) on loopback, SQLite
and a file store, no authentication; kumo-all with [glance] endpoint pointing at it
(so it starts no image service of its own and reads every image over Glance v2).

Skipped unless the Glance virtualenv exists (.kumo/glance-venv, or $KUMO_GLANCE_VENV):
making it downloads Glance and its dependencies (about 35 s with a warm pip cache).
"""
from __future__ import annotations

import hashlib
import os
import time
import uuid

import requests
import testtools
from oslo_config import cfg
from testtools import content

from tests.fixtures import glance as glance_fixtures
from tests.fixtures import stack

CONF = cfg.CONF
TIMEOUT = 30


@testtools.skipUnless(glance_fixtures.available(), glance_fixtures.SKIP_REASON)
class TestRealGlance(testtools.TestCase):

    glance: glance_fixtures.RealGlance | None = None
    stack: stack.AllInOneStack | None = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.glance = glance_fixtures.RealGlance()
        cls.glance.setUp()
        try:
            cls.stack = stack.AllInOneStack(
                computes=1, extra_config={'glance': {'endpoint': cls.glance.endpoint}})
            cls.stack.setUp()
        except Exception:
            cls.glance.cleanUp()
            raise

    @classmethod
    def tearDownClass(cls):
        for fixture in (cls.stack, cls.glance):
            if fixture is not None:
                fixture.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.client = self.stack.client
        self.addOnException(self._attach_logs)

    def _attach_logs(self, _exc_info) -> None:
        self.addDetail('kumo-all-log', content.text_content(self.stack.diagnostics(60)))
        self.addDetail('glance-log', content.text_content(self.glance.diagnostics()))

    # --- Glance, as a client would use it ------------------------------------------------
    def glance_call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.glance.endpoint + path, timeout=30, **kwargs)

    def upload(self, data: bytes, **properties) -> dict:
        created = self.glance_call('POST', '/v2/images', json={
            'name': f'glance-{uuid.uuid4().hex[:6]}', 'disk_format': 'raw',
            'container_format': 'bare', **properties})
        self.assertEqual(201, created.status_code, created.text)
        image_id = created.json()['id']
        self.addCleanup(self.glance_call, 'DELETE', f'/v2/images/{image_id}')
        put = self.glance_call('PUT', f'/v2/images/{image_id}/file', data=data,
                               headers={'Content-Type': 'application/octet-stream'})
        self.assertEqual(204, put.status_code, put.text)
        return self.glance_call('GET', f'/v2/images/{image_id}').json()

    def wait_image(self, image_id: str, status: str = 'active') -> dict:
        deadline = time.monotonic() + TIMEOUT
        while True:
            shown = self.glance_call('GET', f'/v2/images/{image_id}')
            if shown.status_code == 200 and shown.json()['status'] == status:
                return shown.json()
            if time.monotonic() > deadline:
                self.fail(f'image {image_id}: {shown.status_code} {shown.text[:500]}')
            time.sleep(0.2)

    # --- the tests ------------------------------------------------------------------------
    def test_kumo_all_does_not_run_its_own_image_service(self):
        out = open(self.stack._outputs['kumo-all'], errors='replace').read()
        self.assertIn(f'{self.glance.endpoint} ([glance] endpoint; not started here)', out)

    def test_boot_list_show_delete_from_a_glance_image(self):
        data = os.urandom(64 * 1024)
        image = self.upload(data, architecture='x86_64', os_distro='cirros')
        self.assertEqual(hashlib.md5(data).hexdigest(), image['checksum'])
        booted = self.client.boot('from-glance', image=image['id'])
        server = self.client.wait_status(booted.id, timeout=TIMEOUT)
        self.assertEqual(image['id'], server['image']['id'])
        # The compute images proxy (before 2.36) reads Glance too.
        proxy = self.client.get(f'/v2.1/images/{image["id"]}',
                                headers={'OpenStack-API-Version': 'compute 2.35'})
        self.assertEqual(200, proxy.status_code, proxy.text)
        self.assertEqual((image['name'], 'ACTIVE', len(data), 'cirros'),
                         (proxy.json()['image']['name'], proxy.json()['image']['status'],
                          proxy.json()['image']['OS-EXT-IMG-SIZE:size'],
                          proxy.json()['image']['metadata']['os_distro']))
        self.client.delete(booted.id)
        self.client.wait_gone(booted.id, timeout=TIMEOUT)

    def test_image_properties_at_2_98_are_the_ones_booted_with(self):
        image = self.upload(b'props' * 100, architecture='x86_64', os_distro='cirros')
        booted = self.client.boot('with-props', image=image['id'])
        self.client.wait_status(booted.id, timeout=TIMEOUT)
        self.addCleanup(self.client.delete_path, f'/v2.1/servers/{booted.id}')
        at_2_98 = {'OpenStack-API-Version': 'compute 2.98'}

        def properties(path: str = f'/v2.1/servers/{booted.id}') -> dict:
            resp = self.client.get(path, headers=at_2_98)
            self.assertEqual(200, resp.status_code, resp.text)
            if 'servers' in resp.json():
                return next(s['image']['properties'] for s in resp.json()['servers']
                            if s['id'] == booted.id)
            return resp.json()['server']['image']['properties']
        shown = properties()
        self.assertEqual(('x86_64', 'cirros'), (shown['architecture'], shown['os_distro']))
        self.assertEqual(shown, properties('/v2.1/servers/detail'))
        # Glance's image changes: the server keeps what it was built with (Nova's
        # image_* system metadata).
        patched = self.glance_call(
            'PATCH', f'/v2/images/{image["id"]}',
            headers={'Content-Type': 'application/openstack-images-v2.1-json-patch'},
            json=[{'op': 'replace', 'path': '/os_distro', 'value': 'changed'}])
        self.assertEqual(200, patched.status_code, patched.text)
        self.assertEqual(shown, properties())

    def test_an_image_glance_does_not_have_is_400(self):
        resp = self.client.post('/v2.1/servers', json={'server': {
            'name': 'nope', 'flavorRef': '1', 'imageRef': str(uuid.uuid4()),
            'networks': 'none'}})
        self.assertEqual(400, resp.status_code, resp.text)
        self.assertEqual('Can not find requested image',
                         resp.json()['badRequest']['message'])

    def test_images_proxy_metadata_and_delete_through_glance(self):
        image = self.upload(b'proxied' * 100, os_distro='debian', colour='blue')
        base = f'/v2.1/images/{image["id"]}'
        old = {'OpenStack-API-Version': 'compute 2.35'}

        def glance_properties():
            shown = self.glance_call('GET', f'/v2/images/{image["id"]}').json()
            return {k: shown.get(k) for k in ('os_distro', 'colour', 'size_hint')}
        # POST merges, PUT of an item sets one, DELETE of an item removes it: each a
        # JSON patch Glance applies, as Glance then shows.
        resp = self.client.post(f'{base}/metadata', headers=old,
                                json={'metadata': {'size_hint': 'small'}})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual({'os_distro': 'debian', 'colour': 'blue', 'size_hint': 'small'},
                         glance_properties())
        resp = self.client.request('PUT', f'{base}/metadata/colour', headers=old,
                               json={'meta': {'colour': 'green'}})
        self.assertEqual(200, resp.status_code, resp.text)
        resp = self.client.delete_path(f'{base}/metadata/os_distro', headers=old)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual({'os_distro': None, 'colour': 'green', 'size_hint': 'small'},
                         glance_properties())
        # PUT of the whole set replaces it.
        resp = self.client.request('PUT', f'{base}/metadata', headers=old,
                               json={'metadata': {'colour': 'red'}})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual({'os_distro': None, 'colour': 'red', 'size_hint': None},
                         glance_properties())
        # DELETE of the image goes to Glance with the caller's token.
        resp = self.client.delete_path(base, headers=old)
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual(404, self.glance_call('GET', f'/v2/images/{image["id"]}')
                         .status_code)
        self.assertEqual(404, self.client.get(base, headers=old).status_code)

    def test_create_image_is_uploaded_to_glance(self):
        image = self.upload(b'base image' * 100, hw_disk_bus='virtio')
        booted = self.client.boot('to-snapshot', image=image['id'])
        self.client.wait_status(booted.id, timeout=TIMEOUT)
        self.addCleanup(self.client.delete_path, f'/v2.1/servers/{booted.id}')
        resp = self.client.post(f'/v2.1/servers/{booted.id}/action',
                                json={'createImage': {'name': 'snap',
                                                      'metadata': {'purpose': 'test'}}})
        self.assertEqual(202, resp.status_code, resp.text)
        snap_id = resp.json()['image_id']
        self.addCleanup(self.glance_call, 'DELETE', f'/v2/images/{snap_id}')
        snap = self.wait_image(snap_id)
        self.assertEqual(
            (booted.id, 'snapshot', image['id'], 'test', 'virtio', 'raw'),
            (snap['instance_uuid'], snap['image_type'], snap['base_image_ref'],
             snap['purpose'], snap['hw_disk_bus'], snap['disk_format']))
        data = self.glance_call('GET', f'/v2/images/{snap_id}/file').content
        self.assertIn(f'fake disk of {booted.id}'.encode(), data)
        self.assertEqual(hashlib.md5(data).hexdigest(), snap['checksum'])
        # The snapshot boots like any Glance image.
        again = self.client.boot('from-snapshot', image=snap_id)
        self.client.wait_status(again.id, timeout=TIMEOUT)
        self.client.delete(again.id)
        self.client.wait_gone(again.id, timeout=TIMEOUT)


@testtools.skipUnless(glance_fixtures.available(), glance_fixtures.SKIP_REASON)
class TestImageCacheFromRealGlance(testtools.TestCase):
    """The compute agent's image cache downloads from Glance (GET .../file) and checks
    Glance's checksum; no kumo-all needed."""

    def setUp(self):
        super().setUp()
        from tests.fixtures import cloud
        cloud.ensure_conf_parsed()
        self.glance = self.useFixture(glance_fixtures.RealGlance())
        self.addOnException(lambda _e: self.addDetail(
            'glance-log', content.text_content(self.glance.diagnostics())))
        CONF.set_override('endpoint', self.glance.endpoint, 'glance')
        self.addCleanup(CONF.clear_override, 'endpoint', 'glance')
        from kumo_common.image import glance
        glance.reset()
        self.addCleanup(glance.reset)

    def test_fetch(self):
        import fixtures

        from kumo_common import image as images
        from kumo_compute.virt.libvirt import imagecache
        data = os.urandom(2 * 1024 * 1024 + 17)
        created = requests.post(f'{self.glance.endpoint}/v2/images', timeout=30, json={
            'name': 'cache-me', 'disk_format': 'raw', 'container_format': 'bare'}).json()
        requests.put(f'{self.glance.endpoint}/v2/images/{created["id"]}/file', data=data,
                     headers={'Content-Type': 'application/octet-stream'}, timeout=30)
        spec = images.api().get(None, created['id']).spec()
        self.assertEqual(f'{self.glance.endpoint}/v2/images/{created["id"]}/file',
                         spec.location)
        cache = imagecache.ImageCache(self.useFixture(fixtures.TempDir()).path)
        with open(cache.fetch(spec), 'rb') as f:
            self.assertEqual(data, f.read())
        spec.checksum = hashlib.md5(b'not it').hexdigest()
        os.unlink(cache.path_for(spec.id))
        self.assertRaises(imagecache.ImageError, cache.fetch, spec)
