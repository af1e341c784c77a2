"""The image service's real Flask app beside an in-process cloud (same database, same
state_path), so that what the image API writes can be booted through the compute API."""
from __future__ import annotations

import json
import uuid

from tests.fixtures import cloud

ADMIN = cloud.ADMIN_TOKEN
PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'


class ImageServiceTestCase(cloud.CloudTestCase):
    COMPUTES = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from kumo_api.image_service.app import create_app
        app = create_app()
        app.testing = True
        cls.images = app.test_client()

    def setUp(self):
        super().setUp()
        self.project = f'project-{uuid.uuid4().hex[:12]}'
        self.token = f'user-{uuid.uuid4().hex[:6]}:{self.project}'

    # --- HTTP helpers --------------------------------------------------------------------
    def call(self, method: str, path: str, token: str | None = None, status: int = 200,
             **kwargs):
        headers = dict(kwargs.pop('headers', {}))
        if token is not False:
            headers['X-Auth-Token'] = token or self.token
        resp = self.images.open(path, method=method, headers=headers, **kwargs)
        if status != resp.status_code:
            self.fail(f'{method} {path}: {resp.status_code}, not {status}: '
                      f'{resp.get_data()[:2000]!r}')
        return resp

    def create(self, token: str | None = None, status: int = 201, **fields) -> dict:
        body = {'name': 'image', 'disk_format': 'qcow2', 'container_format': 'bare',
                **fields}
        return self.call('POST', '/v2/images', token=token, json=body, status=status).json

    def patch(self, image_id: str, ops: list, token: str | None = None,
              status: int = 200):
        return self.call('PATCH', f'/v2/images/{image_id}', token=token, status=status,
                         data=json.dumps(ops), headers={'Content-Type': PATCH_TYPE})

    def upload(self, image_id: str, data: bytes, token: str | None = None,
               status: int = 204):
        return self.call('PUT', f'/v2/images/{image_id}/file', token=token, status=status,
                         data=data, headers={'Content-Type': 'application/octet-stream'})

    def show(self, image_id: str, token: str | None = None) -> dict:
        return self.call('GET', f'/v2/images/{image_id}', token=token).json

    def names(self, query: str = '', token: str | None = None) -> list[str]:
        return [i['name'] for i in
                self.call('GET', f'/v2/images{query}', token=token).json['images']]
