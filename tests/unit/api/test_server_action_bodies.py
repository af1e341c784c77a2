"""The values of actions that take no arguments, as Nova takes them: Nova's schemas
leave them open, so {"os-stop": {}} (what Tempest's and other clients' action helpers
send) works like {"os-stop": null}. Only where a microversion gives an action
arguments (lock 2.73, unshelve 2.77) is the value checked."""
from __future__ import annotations

from tests.fixtures import cloud

ADMIN = cloud.ADMIN_TOKEN


class TestNoArgumentActions(cloud.CloudTestCase):

    def setUp(self):
        super().setUp()
        self.token = self.new_token()
        server = self.cloud.create_server('vm', token=self.token)
        self.server_id = server['id']
        self.cloud.wait_for_status(self.server_id, 'ACTIVE')

    def act(self, body, code=202, version=None):
        resp = self.cloud.request('POST', f'/v2.1/servers/{self.server_id}/action',
                                  token=self.token, version=version, json=body)
        self.assertEqual(code, resp.status_code, resp.get_data(True))
        return resp

    def test_any_value_is_taken(self):
        for body, status in (({'os-stop': {}}, 'SHUTOFF'),
                             ({'os-start': {'whatever': 1}}, 'ACTIVE'),
                             ({'pause': {}}, 'PAUSED'),
                             ({'unpause': []}, 'ACTIVE'),
                             ({'suspend': {}}, 'SUSPENDED'),
                             ({'resume': 'yes'}, 'ACTIVE')):
            self.act(body)
            self.cloud.wait_settled(self.server_id, status)

    def test_lock_before_and_from_2_73(self):
        self.act({'lock': {}}, version='2.1')
        self.assertTrue(self.cloud.get_server(self.server_id, version='2.9')['locked'])
        self.act({'unlock': {}})
        self.assertFalse(self.cloud.get_server(self.server_id, version='2.9')['locked'])
        # From 2.73 the value is the lock's arguments: an object (or null) with only
        # locked_reason.
        self.act({'lock': {'unknown': 1}}, code=400, version='2.73')
        self.act({'lock': []}, code=400, version='2.73')
        self.act({'lock': {}}, version='2.73')
        server = self.cloud.get_server(self.server_id, version='2.73')
        self.assertEqual((True, None), (server['locked'], server['locked_reason']))
