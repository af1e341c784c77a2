"""A server's volume attachments where there is no volume service: none listed, none
shown, and attach, update and detach refused as Nova refuses a volume its volume
service does not know, after Nova's own checks (schema, server, policy, state)."""
from __future__ import annotations

import uuid

from tests.fixtures import cloud


class TestVolumeAttachments(cloud.CloudTestCase):
    COMPUTES = 1

    def setUp(self):
        super().setUp()
        self.token = self.new_token()
        self.server = self.cloud.create_server(token=self.token)['id']
        self.cloud.wait_for_status(self.server, 'ACTIVE', token=self.token)
        self.base = f'/v2.1/servers/{self.server}/os-volume_attachments'
        self.volume = str(uuid.uuid4())

    def call(self, method, path, body=None, version='2.1', token=None):
        return self.cloud.request(method, path, token=token or self.token, json=body,
                                  version=version)

    def message(self, resp, code):
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return next(iter(resp.json.values()))['message']

    def test_none_listed_or_shown(self):
        resp = self.call('GET', self.base)
        self.assertEqual({'volumeAttachments': []}, resp.json)
        self.assertEqual(200, self.call('GET', self.base + '?limit=5&offset=0').status_code)
        self.assertEqual(400, self.call('GET', self.base + '?limit=-1').status_code)
        self.assertEqual(400, self.call('GET', self.base + '?foo=1', version='2.75')
                         .status_code)
        self.assertEqual(f'Instance {self.server} is not attached to volume {self.volume}',
                         self.message(self.call('GET', f'{self.base}/{self.volume}'), 404))
        # Another project's server does not exist for them.
        self.assertEqual(404, self.call('GET', self.base, token=self.new_token())
                         .status_code)

    def test_attach_update_detach_of_an_unknown_volume(self):
        attach = {'volumeAttachment': {'volumeId': self.volume, 'device': '/dev/vdb'}}
        self.assertEqual(f'Volume {self.volume} could not be found.',
                         self.message(self.call('POST', self.base, attach), 404))
        self.assertEqual(f'Volume {self.volume} could not be found.',
                         self.message(self.call('DELETE', f'{self.base}/{self.volume}'), 404))
        # Updating the attachment itself (2.85): it does not exist.
        same = {'volumeAttachment': {'volumeId': self.volume,
                                     'delete_on_termination': True}}
        self.assertEqual(f'No volume Block Device Mapping with id {self.volume}.',
                         self.message(self.call('PUT', f'{self.base}/{self.volume}', same,
                                                version='2.85'), 404))
        # Swapping volumes is Cinder's call (service role or admin).
        swap = {'volumeAttachment': {'volumeId': str(uuid.uuid4())}}
        self.message(self.call('PUT', f'{self.base}/{self.volume}', swap), 403)
        self.assertEqual(f'Volume {self.volume} could not be found.', self.message(
            self.call('PUT', f'{self.base}/{self.volume}', swap, token=cloud.ADMIN_TOKEN),
            404))

    def test_checks_before_the_volume(self):
        # The schema of each microversion: tag from 2.49, delete_on_termination 2.79.
        tagged = {'volumeAttachment': {'volumeId': self.volume, 'tag': 'data'}}
        self.assertIn('(available from microversion 2.49)',
                      self.message(self.call('POST', self.base, tagged, version='2.48'), 400))
        self.message(self.call('POST', self.base, tagged, version='2.49'), 404)
        bad_device = {'volumeAttachment': {'volumeId': self.volume, 'device': 'vdb'}}
        self.message(self.call('POST', self.base, bad_device), 400)
        self.message(self.call('POST', self.base, {'volumeAttachment': {}}), 400)
        # A locked server: 409 for its owner, before the volume is looked up.
        self.assertEqual(202, self.call('POST', f'/v2.1/servers/{self.server}/action',
                                        {'lock': None}).status_code)
        self.assertEqual(f'Instance {self.server} is locked', self.message(
            self.call('POST', self.base, {'volumeAttachment': {'volumeId': self.volume}}),
            409))
