"""GET /limits: absolute limits per microversion against the samples, used totals,
other projects' limits for admins."""
from __future__ import annotations

import uuid

from tests.fixtures import cloud
from tests.unit.api import api_samples

ADMIN = cloud.ADMIN_TOKEN
SAMPLES = [
    ('2.1', 'limits/limit-get-resp.json'),
    ('2.35', 'limits/limit-get-resp.json'),
    ('2.36', 'limits/v2.36/limit-get-resp.json'),
    ('2.38', 'limits/v2.36/limit-get-resp.json'),
    ('2.39', 'limits/v2.39/limit-get-resp.json'),
    ('2.56', 'limits/v2.39/limit-get-resp.json'),
    ('2.57', 'limits/v2.57/limit-get-resp.json'),
    ('2.100', 'limits/v2.57/limit-get-resp.json'),
]


class TestLimits(cloud.CloudTestCase):
    COMPUTES = 1

    def limits(self, token, version=None, query='', status=200):
        resp = self.cloud.request('GET', '/v2.1/limits' + query, token=token, version=version)
        self.assertEqual(status, resp.status_code, resp.get_data(True))
        return resp.json

    def test_samples(self):
        token = self.new_token()
        for version, sample in SAMPLES:
            api_samples.assert_like(self, api_samples.load(sample),
                                    self.limits(token, version))

    def test_used_totals_and_overrides(self):
        token = self.new_token()
        project = token.split(':')[1]
        server = self.cloud.create_server(token=token, flavorRef='2')
        resp = self.cloud.request('PUT', f'/v2.1/os-quota-sets/{project}', token=ADMIN,
                                  json={'quota_set': {'instances': 7, 'metadata_items': 3}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        absolute = self.limits(token, '2.57')['limits']['absolute']
        self.assertEqual({'maxTotalInstances': 7, 'maxServerMeta': 3,
                          'totalInstancesUsed': 1, 'totalCoresUsed': 1,
                          'totalRAMUsed': 2048, 'totalServerGroupsUsed': 0},
                         {k: absolute[k] for k in ('maxTotalInstances', 'maxServerMeta',
                                                   'totalInstancesUsed', 'totalCoresUsed',
                                                   'totalRAMUsed', 'totalServerGroupsUsed')})
        # maxImageMeta follows metadata_items too, while it is shown.
        self.assertEqual(3, self.limits(token, '2.38')['limits']['absolute']['maxImageMeta'])
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=token)
        self.cloud.wait_for_status(server['id'], 'DELETED')
        absolute = self.limits(token)['limits']['absolute']
        self.assertEqual((0, 0, 0), (absolute['totalInstancesUsed'],
                                     absolute['totalCoresUsed'], absolute['totalRAMUsed']))

    def test_other_projects(self):
        token = self.new_token()
        project = token.split(':')[1]
        self.cloud.create_server(token=token)
        mine = self.limits(ADMIN)['limits']['absolute']
        theirs = self.limits(ADMIN, query=f'?tenant_id={project}')['limits']['absolute']
        self.assertEqual(1, theirs['totalInstancesUsed'])
        self.assertNotEqual(mine['totalInstancesUsed'], 1)
        body = self.limits(self.new_token(), query=f'?tenant_id={project}', status=403)
        self.assertEqual("Policy doesn't allow os_compute_api:limits:other_project to be "
                         'performed.', body['forbidden']['message'])

    def test_query_parameters(self):
        token = self.new_token()
        self.limits(token, '2.74', query='?foo=1')
        self.limits(token, '2.75', query='?foo=1', status=400)
        self.limits(token, '2.75', query=f'?tenant_id={uuid.uuid4().hex}', status=403)
