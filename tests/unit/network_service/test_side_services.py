"""kumo-all's side services: when it runs its own image and network services, where
clients are told to find them, and the clouds.yaml it writes for the CLI."""
from __future__ import annotations

import testtools
import yaml
from oslo_config import cfg

from kumo_api.cmd import clouds_yaml, services
from tests.fixtures import cloud

CONF = cfg.CONF


class TestSideServices(testtools.TestCase):

    def setUp(self):
        super().setUp()
        cloud.ensure_conf_parsed()

    def override(self, name, value, group):
        CONF.set_override(name, value, group)
        self.addCleanup(CONF.clear_override, name, group)

    def test_local_unless_an_endpoint_points_elsewhere(self):
        self.assertTrue(services.IMAGE.runs_here())
        self.assertEqual('http://127.0.0.1:9292', services.IMAGE.endpoint())
        self.assertEqual('http://127.0.0.1:9696', services.NETWORK.endpoint())
        self.override('endpoint', 'http://localhost:9292/', 'glance')
        self.assertTrue(services.IMAGE.runs_here())
        self.override('listen_port', 19292, 'image_service')
        self.assertFalse(services.IMAGE.runs_here())
        self.override('endpoint', 'https://glance.example.org', 'glance')
        self.assertFalse(services.IMAGE.runs_here())
        self.assertEqual('https://glance.example.org', services.IMAGE.endpoint())
        self.assertTrue(services.NETWORK.runs_here())

    def test_clouds_yaml(self):
        text = clouds_yaml.render('http://0.0.0.0:8774', 'http://127.0.0.1:9292/',
                                  'http://127.0.0.1:9696')
        clouds = yaml.safe_load(text)['clouds']
        self.assertEqual({'kumo', 'kumo-demo'}, set(clouds))
        self.assertEqual({
            'auth_type': 'admin_token',
            'auth': {'endpoint': 'http://127.0.0.1:8774/v2.1', 'token': 'demo:demo'},
            'compute_api_version': '2.100',
            'image_endpoint_override': 'http://127.0.0.1:9292',
            'network_endpoint_override': 'http://127.0.0.1:9696',
            'identity_api_version': '3',
            'identity_endpoint_override': 'http://127.0.0.1:8774/'}, clouds['kumo-demo'])
        self.assertEqual('admin:admin', clouds['kumo']['auth']['token'])
