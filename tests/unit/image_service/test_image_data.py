"""Image data through the image service (upload, download, the file store, status
queued -> saving -> active), and what the compute API makes of the images: listed in
its images proxy by the same visibility rules, and bootable."""
from __future__ import annotations

import hashlib
import os
import uuid

from oslo_config import cfg

from kumo_common.cmd import manage
from kumo_common.db import images as image_db
from kumo_common.db import models, session
from tests.fixtures import glance as glance_fixtures
from tests.unit.image_service import base

CONF = cfg.CONF
ADMIN = base.ADMIN


class TestUploadDownload(base.ImageServiceTestCase):

    def test_upload_then_download(self):
        data = os.urandom(300_000)
        image = self.create(name='bits')
        self.assertEqual(204, self.call('GET', f'/v2/images/{image["id"]}/file',
                                        status=204).status_code)
        self.upload(image['id'], data)
        shown = self.show(image['id'])
        self.assertEqual(('active', len(data), hashlib.md5(data).hexdigest(), 'sha512',
                          hashlib.sha512(data).hexdigest()),
                         (shown['status'], shown['size'], shown['checksum'],
                          shown['os_hash_algo'], shown['os_hash_value']))
        got = self.call('GET', f'/v2/images/{image["id"]}/file')
        self.assertEqual(data, got.data)
        self.assertEqual('application/octet-stream', got.headers['Content-Type'])
        self.assertEqual(str(len(data)), got.headers['Content-Length'])
        self.assertEqual(shown['checksum'], got.headers['Content-MD5'])
        # The bits are a file of the store, where the compute agent reads them.
        with session.reader() as s:
            location = s.get(models.Image, image['id']).location
        self.assertEqual(os.path.join(CONF.state_path, 'images', image['id']), location)
        with open(location, 'rb') as f:
            self.assertEqual(data, f.read())

        resp = self.upload(image['id'], b'again', status=409)
        self.assertIn('from active to saving is not allowed', resp.json['message'])
        self.call('DELETE', f'/v2/images/{image["id"]}', status=204)
        self.assertFalse(os.path.exists(location))

    def test_upload_preconditions(self):
        image = self.create(disk_format=None, container_format=None)
        resp = self.upload(image['id'], b'x', status=400)
        self.assertIn('disk_format, container_format must be set prior to saving data',
                      resp.json['message'])
        self.patch(image['id'], [{'op': 'replace', 'path': '/disk_format', 'value': 'raw'},
                                 {'op': 'replace', 'path': '/container_format',
                                  'value': 'bare'}])
        self.call('PUT', f'/v2/images/{image["id"]}/file', data=b'x', status=415,
                  headers={'Content-Type': 'application/json'})
        self.upload(image['id'], b'x', token=f'user:{uuid.uuid4().hex}', status=404)
        self.upload(base.cloud.IMAGE_ID, b'x', status=403)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.upload(image['id'], b'x')
        self.assertEqual('active', self.show(image['id'])['status'])

    def test_too_large_goes_back_to_queued(self):
        CONF.set_override('image_size_cap', 1000, 'image_service')
        self.addCleanup(CONF.clear_override, 'image_size_cap', 'image_service')
        image = self.create()
        resp = self.upload(image['id'], b'z' * 1001, status=413)
        self.assertIn('storage quota', resp.json['message'])
        self.assertEqual(('queued', None), (self.show(image['id'])['status'],
                                            self.show(image['id'])['size']))
        self.assertFalse(os.path.exists(os.path.join(CONF.state_path, 'images',
                                                     image['id'])))
        self.assertEqual([], [n for n in os.listdir(os.path.join(CONF.state_path, 'images'))
                              if image['id'] in n])
        self.upload(image['id'], b'z' * 1000)
        self.assertEqual(1000, self.show(image['id'])['size'])

    def test_upload_is_one_at_a_time(self):
        image = self.create()
        # Another upload holds the image (status saving) until it finishes or fails.
        with session.transaction() as s:
            self.assertTrue(image_db.change_status(s, image['id'], ('queued',),
                                                   {'status': 'saving'}))
        resp = self.upload(image['id'], b'x', status=409)
        self.assertIn('from saving to saving', resp.json['message'])
        self.call('GET', f'/v2/images/{image["id"]}/file', status=204)

    def test_private_data_is_private(self):
        image = self.create(visibility='private')
        self.upload(image['id'], b'secret')
        other = f'user:{uuid.uuid4().hex}'
        self.call('GET', f'/v2/images/{image["id"]}/file', token=other, status=404)
        self.assertEqual(b'secret', self.call('GET', f'/v2/images/{image["id"]}/file',
                                              token=ADMIN).data)

    def test_imported_file_is_served_and_kept(self):
        path = os.path.join(CONF.state_path, f'imported-{uuid.uuid4().hex}.img')
        with open(path, 'wb') as f:
            f.write(b'imported bits')
        image_id = str(uuid.uuid4())
        self.assertTrue(manage._image_import('imported', image_id, path,
                                             {'architecture': 'x86_64'}))
        shown = self.show(image_id)
        self.assertEqual(('active', 13, 'x86_64', 'public'),
                         (shown['status'], shown['size'], shown['architecture'],
                          shown['visibility']))
        self.assertEqual(b'imported bits',
                         self.call('GET', f'/v2/images/{image_id}/file').data)
        self.call('DELETE', f'/v2/images/{image_id}', token=ADMIN, status=204)
        # Not the store's file: deleting the image leaves it where it was.
        self.assertTrue(os.path.exists(path))


class TestComputeSeesTheCatalog(base.ImageServiceTestCase):

    def _uploaded(self, **fields) -> dict:
        image = self.create(name=f'boot-{uuid.uuid4().hex[:6]}', **fields)
        self.upload(image['id'], b'\0' * 4096)
        return image

    def test_proxy_lists_by_visibility(self):
        mine = self._uploaded(visibility='private')
        own = self.cloud.request('GET', '/v2.1/images/detail', token=self.token)
        self.assertEqual(200, own.status_code)
        listed = {i['id']: i for i in own.json['images']}
        self.assertEqual(('ACTIVE', 4096), (listed[mine['id']]['status'],
                                            listed[mine['id']]['OS-EXT-IMG-SIZE:size']))
        self.assertIn({'rel': 'alternate', 'type': 'application/vnd.openstack.image',
                       'href': f'http://127.0.0.1:9292/images/{mine["id"]}'},
                      listed[mine['id']]['links'])
        other = f'user:{uuid.uuid4().hex}'
        others = self.cloud.request('GET', '/v2.1/images', token=other).json['images']
        self.assertNotIn(mine['id'], [i['id'] for i in others])
        self.assertEqual(404, self.cloud.request('GET', f'/v2.1/images/{mine["id"]}',
                                                 token=other).status_code)

    def test_alternate_link_follows_glance_endpoint(self):
        # [glance] endpoint names an image API that is not the local service: the
        # proxy reads it over HTTP (here: this image service on another port).
        api = self.useFixture(glance_fixtures.ServedImageService())
        shown = self.cloud.request('GET', f'/v2.1/images/{base.cloud.IMAGE_ID}').json
        self.assertIn(f'{api.endpoint}/images/{base.cloud.IMAGE_ID}',
                      [link['href'] for link in shown['image']['links']])

    def test_boot_an_uploaded_image(self):
        image = self._uploaded(architecture='x86_64', min_ram=64)
        server = self.cloud.create_server('from-upload', token=self.token,
                                          imageRef=image['id'])
        active = self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.assertEqual(image['id'], active['image']['id'])
        with session.reader() as s:
            record = s.query(models.RequestSpecRecord).filter_by(
                instance_uuid=server['id']).one()
            spec_image = record.spec['kumo_object.data']['image']['kumo_object.data']
        self.assertEqual((os.path.join(CONF.state_path, 'images', image['id']),
                          hashlib.md5(b'\0' * 4096).hexdigest(), {'architecture': 'x86_64'}),
                         (spec_image['location'], spec_image['checksum'],
                          spec_image['properties']))

    def test_unbootable_images(self):
        queued = self.create()
        private = self._uploaded(visibility='private')
        other = f'user:{uuid.uuid4().hex}'
        for image_id, token, words in [(queued['id'], self.token, 'is not active'),
                                       (private['id'], other, 'Can not find requested')]:
            resp = self.cloud.request('POST', '/v2.1/servers', token=token, version='2.37',
                                      json={'server': {'name': 'x', 'flavorRef': '1',
                                                       'imageRef': image_id,
                                                       'networks': 'none'}})
            self.assertEqual(400, resp.status_code, resp.get_data(True))
            self.assertIn(words, resp.json['badRequest']['message'])
