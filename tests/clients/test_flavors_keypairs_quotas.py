"""openstacksdk and python-novaclient manage flavors, keypairs, quotas and limits
against a running Kumo, through their own methods, as Nova users do."""
from __future__ import annotations

import uuid

import openstack
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from openstack import exceptions as sdk_exc

from tests.clients import base

ADMIN_TOKEN = 'admin:admin'
NOVACLIENT_MAX = '2.96'
# A public key and the fingerprint Nova computes for it (api_samples/os-keypairs).
PUBLIC_KEY = ('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHBQdW5a'
              'Yd44bd8JttDCE/F/pNRr0lRE+PiqSPO8nDPHw0010JeMH9gYgnnFlyY3/OcJ02RhIPyyxYpv9FhY+2'
              'YiUkpwFOcLImyrxEsYXpD/0d3ac30bNH6Sw9JD9UZHYcpSxsIbECHw== Generated-by-Nova')
FINGERPRINT = '1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c'


class TestSDK(base.KumoClientTestCase):

    def connect(self, token: str | None = None, version: str = base.MAX_MICROVERSION
                ) -> openstack.connection.Connection:
        conn = openstack.connection.Connection(
            session=self.session(token), compute_endpoint_override=self.compute_url,
            compute_api_version=version, strict_proxies=True)
        self.addCleanup(conn.close)
        return conn

    def setUp(self):
        super().setUp()
        self.compute = self.connect().compute
        self.admin = self.connect(ADMIN_TOKEN).compute

    def test_private_flavor_lifecycle(self):
        name = f'sdk-{uuid.uuid4().hex[:8]}'
        flavor = self.admin.create_flavor(name=name, ram=256, vcpus=1, disk=1,
                                          is_public=False, description='for one project')
        self.assertFalse(flavor.is_public)
        self.assertIsNone(self.compute.find_flavor(name))
        self.admin.flavor_add_tenant_access(flavor, self.project)
        self.assertEqual([{'flavor_id': flavor.id, 'tenant_id': self.project}],
                         self.admin.get_flavor_access(flavor))
        self.admin.create_flavor_extra_specs(flavor, {'hw:cpu_policy': 'shared'})
        self.admin.update_flavor_extra_specs_property(flavor, 'hw:numa_nodes', '1')
        mine = self.compute.find_flavor(name)
        self.assertEqual(flavor.id, mine.id)
        shown = self.compute.get_flavor(flavor.id, get_extra_specs=True)
        self.assertEqual({'hw:cpu_policy': 'shared', 'hw:numa_nodes': '1'},
                         shown.extra_specs)
        self.assertEqual('for one project', shown.description)
        self.assertEqual('1', self.compute.get_flavor_extra_specs_property(
            flavor, 'hw:numa_nodes'))
        self.assertIn(name, [f.name for f in self.compute.flavors(details=True)])
        self.admin.update_flavor(flavor.id, description='updated')
        self.assertEqual('updated', self.compute.get_flavor(flavor.id).description)
        self.admin.delete_flavor_extra_specs_property(flavor, 'hw:numa_nodes')
        self.admin.flavor_remove_tenant_access(flavor, self.project)
        self.assertIsNone(self.compute.find_flavor(name))
        self.assertRaises(sdk_exc.ForbiddenException, self.compute.delete_flavor, flavor)
        self.admin.delete_flavor(flavor)
        self.assertIsNone(self.admin.find_flavor(name))

    def test_flavor_listing(self):
        flavors = list(self.compute.flavors(min_ram=4096, sort_key='memory_mb',
                                            sort_dir='desc'))
        self.assertEqual(['m1.xlarge', 'm1.large', 'm1.medium'], [f.name for f in flavors])
        # The SDK pages with limit/marker by itself.
        self.assertEqual(['1', '2', '3', '4', '5'],
                         [f.id for f in self.compute.flavors(details=False, limit=2)])

    def test_keypairs(self):
        imported = self.compute.create_keypair(name='imported', public_key=PUBLIC_KEY)
        self.assertEqual(FINGERPRINT, imported.fingerprint)
        # Generating a key pair ended with 2.91.
        self.assertRaises(sdk_exc.BadRequestException, self.compute.create_keypair,
                          name='generated')
        generated = self.connect(version='2.91').compute.create_keypair(name='generated')
        self.assertTrue(generated.private_key.startswith('-----BEGIN RSA PRIVATE KEY-----'))
        self.assertEqual(['generated', 'imported'],
                         sorted(k.name for k in self.compute.keypairs()))
        self.assertEqual(PUBLIC_KEY, self.compute.get_keypair('imported').public_key)
        server = self.compute.create_server(name='with-key', flavor_id=base.FLAVOR_ID,
                                            image_id=base.IMAGE_ID, networks='none',
                                            key_name='imported')
        server = self.compute.wait_for_server(server, interval=base.POLL, wait=base.TIMEOUT)
        self.assertEqual('imported', server.key_name)
        self.compute.delete_keypair('generated')
        self.assertRaises(sdk_exc.NotFoundException, self.compute.get_keypair, 'generated')

    def test_quotas_and_limits(self):
        self.admin.update_quota_set(self.project, instances=1, cores=5)
        quota = self.compute.get_quota_set(self.project, usage=True)
        self.assertEqual((1, 5), (quota.instances, quota.cores))
        self.assertEqual(0, quota.usage['instances'])
        server = self.compute.create_server(name='counted', flavor_id=base.FLAVOR_ID,
                                            image_id=base.IMAGE_ID, networks='none')
        self.compute.wait_for_server(server, interval=base.POLL, wait=base.TIMEOUT)
        error = self.assertRaises(
            sdk_exc.ForbiddenException, self.compute.create_server, name='over',
            flavor_id=base.FLAVOR_ID, image_id=base.IMAGE_ID, networks='none')
        self.assertIn('Quota exceeded for instances', str(error))
        limits = self.compute.get_limits()
        self.assertEqual((1, 1, 5, 1), (limits.absolute.instances,
                                        limits.absolute.instances_used,
                                        limits.absolute.total_cores,
                                        limits.absolute.total_cores_used))
        self.admin.revert_quota_set(self.project)
        self.assertEqual(10, self.compute.get_quota_set(self.project).instances)
        self.assertEqual(20, self.compute.get_quota_set_defaults(self.project).cores)


class TestNovaclient(base.KumoClientTestCase):

    def nova(self, token: str | None = None, version: str = NOVACLIENT_MAX):
        return nova_client.Client(version, session=self.session(token),
                                  endpoint_override=self.compute_url)

    def setUp(self):
        super().setUp()
        self.nc = self.nova()
        self.admin = self.nova(ADMIN_TOKEN)

    def test_flavors(self):
        name = f'nc-{uuid.uuid4().hex[:8]}'
        flavor = self.admin.flavors.create(name, 512, 2, 10, flavorid='auto',
                                           is_public=False, description='novaclient')
        self.admin.flavor_access.add_tenant_access(flavor, self.project)
        self.assertEqual([self.project], [a.tenant_id for a in
                                          self.admin.flavor_access.list(flavor=flavor)])
        flavor.set_keys({'hw:cpu_policy': 'dedicated'})
        mine = self.nc.flavors.get(flavor.id)
        self.assertEqual({'hw:cpu_policy': 'dedicated'}, mine.get_keys())
        self.assertEqual('novaclient', mine.description)
        self.assertIn(name, [f.name for f in self.nc.flavors.list()])
        self.assertRaises(nova_exc.Forbidden, self.nc.flavors.delete, flavor.id)
        flavor.unset_keys(['hw:cpu_policy'])
        self.assertEqual({}, self.nc.flavors.get(flavor.id).get_keys())
        self.admin.flavors.delete(flavor.id)
        self.assertRaises(nova_exc.NotFound, self.nc.flavors.get, flavor.id)

    def test_keypairs(self):
        generated = self.nova(version='2.2').keypairs.create('generated')
        self.assertTrue(generated.private_key.startswith('-----BEGIN RSA PRIVATE KEY-----'))
        self.assertEqual('ssh', generated.type)
        imported = self.nc.keypairs.create('me@home', public_key=PUBLIC_KEY)
        self.assertEqual(FINGERPRINT, imported.fingerprint)
        self.assertEqual(['generated'], [k.name for k in self.nc.keypairs.list(limit=1)])
        self.assertEqual(['me@home'], [k.name for k in self.nc.keypairs.list(
            marker='generated')])
        self.assertEqual(PUBLIC_KEY, self.nc.keypairs.get('me@home').public_key)
        # An admin acting for the user (2.10).
        self.assertEqual(2, len(self.admin.keypairs.list(user_id=f'user-{self.project}')))
        self.nc.keypairs.delete('generated')
        self.assertRaises(nova_exc.NotFound, self.nc.keypairs.get, 'generated')

    def test_quotas_and_limits(self):
        self.admin.quotas.update(self.project, instances=3, key_pairs=1)
        quotas = self.nc.quotas.get(self.project)
        self.assertEqual((3, 1), (quotas.instances, quotas.key_pairs))
        detail = self.nc.quotas.get(self.project, detail=True)
        self.assertEqual({'in_use': 0, 'limit': 3, 'reserved': 0}, detail.instances)
        self.nc.keypairs.create('only-one', public_key=PUBLIC_KEY)
        self.assertRaises(nova_exc.Forbidden, self.nc.keypairs.create, 'two',
                          public_key=PUBLIC_KEY)
        absolute = {limit.name: limit.value for limit in self.nc.limits.get().absolute}
        self.assertEqual((3, 0, 1), (absolute['maxTotalInstances'],
                                     absolute['totalInstancesUsed'],
                                     absolute['maxTotalKeypairs']))
        self.assertEqual(10, self.nc.quotas.defaults(self.project).instances)
        self.admin.quotas.delete(self.project)
        self.assertEqual(10, self.nc.quotas.get(self.project).instances)
