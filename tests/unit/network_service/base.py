"""The network service's real Flask app beside an in-process cloud (same database), so
that networks and ports made through it can be given to servers."""
from __future__ import annotations

import uuid

from tests.fixtures import cloud

ADMIN = cloud.ADMIN_TOKEN


class NetworkServiceTestCase(cloud.CloudTestCase):
    COMPUTES = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from kumo_api.network_service.app import create_app
        app = create_app()
        app.testing = True
        cls.neutron = app.test_client()

    def setUp(self):
        super().setUp()
        self.project = f'project-{uuid.uuid4().hex[:12]}'
        self.token = f'user-{uuid.uuid4().hex[:6]}:{self.project}'

    def call(self, method: str, path: str, token: str | None = None, status: int = 200,
             **kwargs):
        headers = dict(kwargs.pop('headers', {}))
        if token is not False:
            headers['X-Auth-Token'] = token or self.token
        resp = self.neutron.open(path, method=method, headers=headers, **kwargs)
        if status != resp.status_code:
            self.fail(f'{method} {path}: {resp.status_code}, not {status}: '
                      f'{resp.get_data(True)[:2000]}')
        return resp

    def error(self, resp) -> tuple[str, str]:
        """(type, message) of a NeutronError."""
        fault = resp.json['NeutronError']
        self.assertEqual('', fault['detail'])
        return fault['type'], fault['message']

    def post(self, resource: str, token: str | None = None, status: int = 201,
             **fields) -> dict:
        resp = self.call('POST', f'/v2.0/{resource}s', token=token, status=status,
                         json={resource: fields})
        return resp.json.get(resource, resp.json)

    def network(self, name: str = 'net', cidrs: tuple[str, ...] = ('192.168.10.0/24',),
                token: str | None = None, **fields) -> dict:
        """A network of this test's project with a subnet per CIDR."""
        network = self.post('network', token=token, name=name, **fields)
        for cidr in cidrs:
            self.post('subnet', token=token, network_id=network['id'], cidr=cidr,
                      ip_version=6 if ':' in cidr else 4)
        return self.call('GET', f'/v2.0/networks/{network["id"]}', token=token or ADMIN
                         ).json['network']

    def listed(self, path: str, key: str = 'name', token: str | None = None) -> list:
        collection = path.split('?')[0].rsplit('/', 1)[-1].replace('-', '_')
        return [item[key] for item in
                self.call('GET', path, token=token).json[collection]]
