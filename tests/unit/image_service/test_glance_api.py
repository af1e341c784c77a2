"""The compute API, conductor and agents reading images through a Glance v2 API
(kumo_common.image.glance) rather than the database.

The "external Glance" here is Kumo's own image service served over real HTTP on
another port ([glance] endpoint names it, [image_service] listen_port does not):
every read, download and snapshot upload crosses HTTP with the caller's token.
(tests/functional/test_real_glance.py does the same against Glance itself.)
"""
from __future__ import annotations

import hashlib
import os
import time
import uuid

import fixtures
from keystoneauth1 import plugin
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from kumo_common import context as kumo_context
from kumo_common import exceptions, objects
from kumo_common import image as images
from kumo_common.db import models, session
from kumo_common.image import glance, local
from kumo_compute.virt.libvirt import imagecache
from kumo_conductor import images as conductor_images
from kumo_conductor import shelving, snapshots
from tests.fixtures import glance as glance_fixtures
from tests.fixtures.stack import free_port
from tests.unit.image_service import base

CONF = cfg.CONF


class GlanceAPITestCase(base.ImageServiceTestCase):

    def setUp(self):
        super().setUp()
        self.api = self.useFixture(glance_fixtures.ServedImageService())

    def ctxt(self, token: str | None = None) -> kumo_context.RequestContext:
        user, _, project = (token or self.token).partition(':')
        return kumo_context.RequestContext(user_id=user, project_id=project,
                                           auth_token=token or self.token, roles=['member'],
                                           overwrite=False)

    def uploaded(self, data: bytes = b'\1' * 8192, token: str | None = None,
                 **fields) -> dict:
        image = self.create(name=f'img-{uuid.uuid4().hex[:6]}', token=token, **fields)
        self.upload(image['id'], data, token=token)
        return image


class TestReads(GlanceAPITestCase):

    def test_the_deployment_uses_the_glance_client(self):
        self.assertTrue(images.external())
        self.assertIsInstance(images.api(), glance.GlanceImageAPI)
        # The local service's own address is not "external".
        CONF.set_override('endpoint', 'http://localhost:9292/', 'glance')
        self.addCleanup(CONF.set_override, 'endpoint', self.api.endpoint, 'glance')
        self.assertIsInstance(images.api(), local.LocalImageAPI)

    def test_endpoint_from_the_service_catalog(self):
        served_at = self.api.endpoint
        asked = []

        class CatalogAuth(plugin.BaseAuthPlugin):
            """A service user whose catalog lists the served image API."""
            def get_token(self, session, **kwargs):
                return 'service-token'

            def get_endpoint(self, session, service_type=None, interface=None,
                             region_name=None, **kwargs):
                asked.append((service_type, interface))
                return served_at + '/'

        self.useFixture(fixtures.MonkeyPatch(
            'kumo_common.service_http.session_for',
            lambda group: ks_session.Session(auth=CatalogAuth())))
        CONF.clear_override('endpoint', 'glance')
        self.addCleanup(CONF.set_override, 'endpoint', served_at, 'glance')
        self.assertFalse(images.external())   # off by default: the local catalog
        CONF.set_override('endpoint_from_catalog', True, 'glance')
        self.addCleanup(CONF.clear_override, 'endpoint_from_catalog', 'glance')
        images.forget_catalog()
        self.addCleanup(images.forget_catalog)
        self.assertEqual(served_at, images.endpoint())
        self.assertTrue(images.external())
        self.assertEqual(base.cloud.IMAGE_ID,
                         images.api().get(self.ctxt(), base.cloud.IMAGE_ID).id)
        self.assertEqual([('image', 'internal')], asked)   # looked up once

    def test_get_reads_the_image_document(self):
        data = os.urandom(5000)
        image = self.uploaded(data, architecture='x86_64', min_ram=32,
                              kernel_id=base.cloud.IMAGE_ID)
        got = images.api().get(self.ctxt(), image['id'])
        self.assertEqual(
            (image['id'], 'active', len(data), hashlib.md5(data).hexdigest(), 32,
             f'{self.api.endpoint}/v2/images/{image["id"]}/file'),
            (got.id, got.status, got.size, got.checksum, got.min_ram, got.location))
        self.assertEqual({'architecture': 'x86_64', 'kernel_id': base.cloud.IMAGE_ID},
                         got.properties)
        spec = got.spec()
        self.assertEqual((got.location, 'x86_64'),
                         (spec.location, spec.properties['architecture']))

    def test_the_token_decides_what_is_visible(self):
        mine = self.uploaded(visibility='private')
        other = self.new_token()
        self.assertEqual(mine['id'], images.api().get(self.ctxt(), mine['id']).id)
        self.assertRaises(exceptions.ImageNotFound, images.api().get,
                          self.ctxt(other), mine['id'])
        self.assertRaises(exceptions.ImageNotFound, images.api().get,
                          self.ctxt(), str(uuid.uuid4()))
        listed = [i.id for i in images.api().list(self.ctxt(other))]
        self.assertNotIn(mine['id'], listed)
        self.assertIn(base.cloud.IMAGE_ID, listed)

    def test_images_proxy(self):
        mine = self.uploaded(visibility='private', auto_disk_config='true')
        resp = self.cloud.request('GET', f'/v2.1/images/{mine["id"]}', token=self.token)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        shown = resp.json['image']
        self.assertEqual(('ACTIVE', 'AUTO', 8192),
                         (shown['status'], shown['OS-DCF:diskConfig'],
                          shown['OS-EXT-IMG-SIZE:size']))
        other = self.new_token()
        self.assertEqual(404, self.cloud.request('GET', f'/v2.1/images/{mine["id"]}',
                                                 token=other).status_code)
        detail = self.cloud.request('GET', '/v2.1/images/detail', token=self.token).json
        self.assertIn(mine['id'], [i['id'] for i in detail['images']])

    def test_image_api_down_is_503(self):
        CONF.set_override('endpoint', f'http://127.0.0.1:{free_port()}', 'glance')
        self.addCleanup(CONF.set_override, 'endpoint', self.api.endpoint, 'glance')
        resp = self.cloud.request('POST', '/v2.1/servers', token=self.token, json={
            'server': {'name': 'x', 'flavorRef': base.cloud.FLAVOR_TINY,
                       'imageRef': base.cloud.IMAGE_ID}})
        self.assertEqual(503, resp.status_code, resp.get_data(True))
        self.assertIn('image service is unavailable',
                      resp.json['serviceUnavailable']['message'])


class TestBoot(GlanceAPITestCase):

    def test_boot_from_an_image_read_over_http(self):
        image = self.uploaded(architecture='x86_64')
        server = self.cloud.create_server('over-http', token=self.token,
                                          imageRef=image['id'])
        active = self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.assertEqual(image['id'], active['image']['id'])
        with session.reader() as s:
            record = s.query(models.RequestSpecRecord).filter_by(
                instance_uuid=server['id']).one()
            spec_image = record.spec['kumo_object.data']['image']['kumo_object.data']
        self.assertEqual(f'{self.api.endpoint}/v2/images/{image["id"]}/file',
                         spec_image['location'])

    def test_kernel_and_ramdisk_are_read_over_http(self):
        kernel = self.uploaded(b'kernel' * 100)
        ramdisk = self.uploaded(b'ramdisk' * 100)
        machine = self.uploaded(kernel_id=kernel['id'], ramdisk_id=ramdisk['id'])
        server = self.cloud.create_server('ami', token=self.token, imageRef=machine['id'])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        found = conductor_images.boot_images(self.ctxt(), server['id'])
        self.assertEqual(
            [(kernel['id'], f'{self.api.endpoint}/v2/images/{kernel["id"]}/file'),
             (ramdisk['id'], f'{self.api.endpoint}/v2/images/{ramdisk["id"]}/file')],
            [(spec.id, spec.location) for spec in found])

    def test_unknown_or_invisible_image_is_400(self):
        hidden = self.uploaded(visibility='private', token=self.new_token())
        for image_id in (str(uuid.uuid4()), hidden['id']):
            resp = self.cloud.request('POST', '/v2.1/servers', token=self.token, json={
                'server': {'name': 'x', 'flavorRef': base.cloud.FLAVOR_TINY,
                           'imageRef': image_id}})
            self.assertEqual(400, resp.status_code, resp.get_data(True))
            self.assertEqual('Can not find requested image',
                             resp.json['badRequest']['message'])

    def test_create_image_is_uploaded_by_the_agent(self):
        server = self.cloud.create_server('snap-me', token=self.token)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        resp = self.cloud.request('POST', f'/v2.1/servers/{server["id"]}/action',
                                  token=self.token, version='2.45',
                                  json={'createImage': {'name': 'snap',
                                                        'metadata': {'k': 'v'}}})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        image_id = resp.json['image_id']
        shown = self._wait_active(image_id)
        self.assertEqual((server['id'], 'snapshot', 'v', base.cloud.IMAGE_ID, 'raw'),
                         (shown['instance_uuid'], shown['image_type'], shown['k'],
                          shown['base_image_ref'], shown['disk_format']))
        data = self.call('GET', f'/v2/images/{image_id}/file').data
        self.assertIn(f'fake disk of {server["id"]}'.encode(), data)
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        # The scratch copy on the node is gone once the agent reports the snapshot
        # (the image turns active a moment before: when its upload ends).
        deadline = time.monotonic() + 10
        while self.cloud.get_server(server['id'])['OS-EXT-STS:task_state'] is not None:
            self.assertLess(time.monotonic(), deadline, 'the snapshot never ended')
            time.sleep(0.01)
        scratch = os.path.join(CONF.state_path, 'snapshots')
        self.assertEqual([], os.listdir(scratch) if os.path.isdir(scratch) else [])

    def test_backup_rotation_deletes_through_the_api(self):
        server = self.cloud.create_server('backed-up', token=self.token)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        made = []
        for n in range(3):
            resp = self.cloud.request(
                'POST', f'/v2.1/servers/{server["id"]}/action', token=self.token,
                version='2.45', json={'createBackup': {'name': f'b{n}', 'rotation': 2,
                                                       'backup_type': 'daily'}})
            self.assertEqual(202, resp.status_code, resp.get_data(True))
            made.append(resp.json['image_id'])
            self._wait_active(made[-1])
            self.cloud.wait_for_status(server['id'], 'ACTIVE')
            self._wait_task_done(server['id'])
        # The rotation runs once the third backup is reported: the oldest goes.
        deadline = time.monotonic() + 10
        while self.images.get(f'/v2/images/{made[0]}',
                              headers={'X-Auth-Token': self.token}).status_code != 404:
            self.assertLess(time.monotonic(), deadline, 'the oldest backup is still there')
            time.sleep(0.05)
        self.assertEqual(['active', 'active'], [self.show(i)['status'] for i in made[1:]])

    def _wait_task_done(self, server_id: str) -> None:
        deadline = time.monotonic() + 10
        while self.cloud.get_server(server_id)['OS-EXT-STS:task_state'] is not None:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def _wait_active(self, image_id: str) -> dict:
        deadline = time.monotonic() + 10
        while True:
            shown = self.show(image_id)
            if shown['status'] == 'active' or time.monotonic() > deadline:
                self.assertEqual('active', shown['status'])
                return shown
            time.sleep(0.05)

    def test_a_failed_snapshot_is_deleted_through_the_api(self):
        instance_uuid = str(uuid.uuid4())
        waiting = self.create(name='never-made', instance_uuid=instance_uuid)
        other = self.create(name='not-this-servers', instance_uuid=str(uuid.uuid4()))
        snapshots.finish(instance_uuid, False, None, self.ctxt())
        self.call('GET', f'/v2/images/{waiting["id"]}', status=404)
        self.assertEqual('queued', self.show(other['id'])['status'])


class TestServerViewsThroughGlance(GlanceAPITestCase):
    """2.98's image properties are the ones the server was (re)built with, kept in its
    image_* system metadata (as Nova's): what the external Glance says of the image
    later (changed or deleted) does not change them."""

    def properties(self, server_id: str, path: str = '') -> dict:
        if path:
            resp = self.cloud.request('GET', '/v2.1/servers/detail', token=self.token,
                                      version='2.98')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            return next(s['image']['properties'] for s in resp.json['servers']
                        if s['id'] == server_id)
        return self.cloud.get_server(server_id, version='2.98')['image']['properties']

    def test_properties_captured_at_boot_and_rebuild(self):
        image = self.uploaded(architecture='x86_64', os_distro='alpine')
        server = self.cloud.create_server('props', token=self.token, imageRef=image['id'])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        booted = {'architecture': 'x86_64', 'os_distro': 'alpine'}
        self.assertEqual(booted, self.properties(server['id']))
        self.assertEqual(booted, self.properties(server['id'], 'detail'))
        # Glance's image changes, then goes: the server keeps what it was built with.
        self.patch(image['id'], [{'op': 'replace', 'path': '/os_distro',
                                  'value': 'debian'}])
        self.assertEqual(booted, self.properties(server['id']))
        self.call('DELETE', f'/v2/images/{image["id"]}', status=204)
        self.assertEqual(booted, self.properties(server['id']))
        # A rebuild takes the new image's.
        other = self.uploaded(os_distro='fedora', hw_qemu_guest_agent='yes')
        resp = self.cloud.request('POST', f'/v2.1/servers/{server["id"]}/action',
                                  token=self.token, version='2.98',
                                  json={'rebuild': {'imageRef': other['id']}})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        rebuilt = {'os_distro': 'fedora', 'hw_qemu_guest_agent': 'yes'}
        self.assertEqual(rebuilt, resp.json['server']['image']['properties'])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.assertEqual(rebuilt, self.properties(server['id']))
        self.assertEqual(rebuilt, self.properties(server['id'], 'detail'))

    def test_a_deleted_servers_unfinished_images_go_through_the_api(self):
        # A shelve (or createImage) still writing its image in Glance when the server
        # is deleted: found through the image API, not Kumo's tables.
        instance_uuid = str(uuid.uuid4())
        waiting = self.create(name='shelving', instance_uuid=instance_uuid)
        other = self.create(name='not-this-servers', instance_uuid=str(uuid.uuid4()))
        self.assertEqual([waiting['id']],
                         images.api().in_progress(self.ctxt(), instance_uuid))
        shelving.forget(self.ctxt(), instance_uuid)
        self.call('GET', f'/v2/images/{waiting["id"]}', status=404)
        self.assertEqual('queued', self.show(other['id'])['status'])


class TestAgentDownload(GlanceAPITestCase):

    def spec(self, image_id: str) -> objects.ImageSpec:
        return images.api().get(self.ctxt(), image_id).spec()

    def test_the_image_cache_downloads_and_verifies(self):
        data = os.urandom(300_000)
        image = self.uploaded(data)
        cache = imagecache.ImageCache(self.useFixture(
            fixtures.TempDir()).path)
        kumo_context.RequestContext(auth_token=self.token, overwrite=True)
        path = cache.fetch(self.spec(image['id']))
        with open(path, 'rb') as f:
            self.assertEqual(data, f.read())
        # A cache hit does not download again (the image could be gone by now).
        self.call('DELETE', f'/v2/images/{image["id"]}', status=204)
        self.assertEqual(path, cache.fetch(self.spec_of_deleted(image['id'], data)))

    def spec_of_deleted(self, image_id: str, data: bytes) -> objects.ImageSpec:
        return objects.ImageSpec(id=image_id, checksum=hashlib.md5(data).hexdigest(),
                                 size=len(data),
                                 location=f'{self.api.endpoint}/v2/images/{image_id}/file')

    def test_a_bad_checksum_or_a_missing_image_is_refused(self):
        image = self.uploaded(b'abc' * 1000)
        cache = imagecache.ImageCache(self.useFixture(
            fixtures.TempDir()).path)
        spec = self.spec(image['id'])
        spec.checksum = hashlib.md5(b'something else').hexdigest()
        error = self.assertRaises(imagecache.ImageError, cache.fetch, spec)
        self.assertIn('checksum', str(error))
        gone = objects.ImageSpec(id=str(uuid.uuid4()),
                                 location=f'{self.api.endpoint}/v2/images/x/file')
        error = self.assertRaises(imagecache.ImageError, cache.fetch, gone)
        self.assertIn('cannot download', str(error))
