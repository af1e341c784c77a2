"""The 'default' quota class through the real clients against a running Kumo:
openstacksdk and python-novaclient read and change it, and what they set becomes
every project's default (a lowered one refuses a server with 403)."""
from __future__ import annotations

import openstack
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from openstack import exceptions as sdk_exc

from tests.clients import base

ADMIN_TOKEN = 'admin:admin'
NOVACLIENT_MAX = '2.96'


class TestQuotaClasses(base.KumoClientTestCase):
    """One test: the 'default' class is the whole kumo-all's (one per class)."""

    def sdk(self, token: str | None = None) -> openstack.connection.Connection:
        conn = openstack.connection.Connection(
            session=self.session(token), compute_endpoint_override=self.compute_url,
            compute_api_version=base.MAX_MICROVERSION, strict_proxies=True)
        self.addCleanup(conn.close)
        return conn.compute

    def nova(self, token: str | None = None, version: str = NOVACLIENT_MAX):
        return nova_client.Client(version, session=self.session(token),
                                  endpoint_override=self.compute_url)

    def test_default_class(self):
        admin_sdk, admin_nc, nc = self.sdk(ADMIN_TOKEN), self.nova(ADMIN_TOKEN), self.nova()
        shown = admin_sdk.get_quota_class_set('default')
        self.assertEqual((10, 20, 10), (shown.instances, shown.cores, shown.server_groups))
        self.assertRaises(sdk_exc.ForbiddenException, self.sdk().get_quota_class_set,
                          'default')
        admin_sdk.update_quota_class_set('default', cores=30)
        self.assertEqual(30, admin_nc.quota_classes.get('default').cores)
        # novaclient 2.57+: no personality-file keys.
        updated = admin_nc.quota_classes.update('default', instances=1, key_pairs=5)
        self.assertEqual((1, 5), (updated.instances, updated.key_pairs))
        self.assertFalse(hasattr(updated, 'injected_files'))
        self.assertRaises(nova_exc.Forbidden, nc.quota_classes.update, 'default',
                          instances=100)
        # Every project without limits of its own now has these defaults.
        self.assertEqual((1, 30), (nc.quotas.get(self.project).instances,
                                   nc.quotas.defaults(self.project).cores))
        absolute = {limit.name: limit.value for limit in nc.limits.get().absolute}
        self.assertEqual((1, 5), (absolute['maxTotalInstances'],
                                  absolute['maxTotalKeypairs']))
        server = nc.servers.create('first', base.IMAGE_ID, base.FLAVOR_ID, nics='none')
        error = self.assertRaises(nova_exc.Forbidden, nc.servers.create, 'second',
                                  base.IMAGE_ID, base.FLAVOR_ID, nics='none')
        self.assertIn('Quota exceeded for instances: Requested 1, but already used 1 of 1 '
                      'instances', str(error))
        # A project's own limit wins over the class.
        admin_nc.quotas.update(self.project, instances=2)
        second = nc.servers.create('second', base.IMAGE_ID, base.FLAVOR_ID, nics='none')
        for each in (server, second):
            self.wait_for(f'{each.id} ACTIVE',
                          lambda s=each: nc.servers.get(s.id).status == 'ACTIVE')
