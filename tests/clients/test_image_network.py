"""Kumo's image and network services through the clients people use: openstacksdk's
image and network proxies, and the `openstack` CLI creating a server by image and
network name, configured by the clouds.yaml kumo-all writes.

Without Keystone each service's endpoint is given explicitly: keystoneauth's
admin_token plugin carries the noauth2 token to all three, and
image_endpoint_override / network_endpoint_override route the image and network
calls (kumo_api/cmd/clouds_yaml.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid

import openstack
from openstack import exceptions as sdk_exc

from tests.clients import base
from tests.fixtures import stack


class ImageNetworkTestCase(base.KumoClientTestCase):

    def connect(self, token: str | None = None) -> openstack.connection.Connection:
        conn = openstack.connect(
            auth_type='admin_token',
            auth={'endpoint': self.compute_url, 'token': token or self.token},
            compute_api_version=base.MAX_MICROVERSION,
            image_endpoint_override=self.stack.image_endpoint,
            network_endpoint_override=self.stack.network_endpoint,
            load_yaml_config=False, load_envvars=False)
        self.addCleanup(conn.close)
        return conn

    def setUp(self):
        super().setUp()
        self.conn = self.connect()

    def upload_image(self, name: str, data: bytes, **kwargs):
        """POST /v2/images then PUT its file (the SDK returns the record it created,
        before the upload: read it again)."""
        image = self.conn.image.create_image(
            name, data=data, disk_format='raw', container_format='bare',
            allow_duplicates=True, **kwargs)
        return self.conn.image.get_image(image.id)


class TestSDKImages(ImageNetworkTestCase):

    def test_create_upload_list_update_download_delete(self):
        data = os.urandom(200_000)
        image = self.upload_image('sdk-image', data, architecture='x86_64')
        self.assertEqual(('active', hashlib.md5(data).hexdigest(), len(data)),
                         (image.status, image.checksum, image.size))
        self.assertEqual(image.id, self.conn.image.find_image('sdk-image').id)
        mine = [i.name for i in self.conn.image.images(owner=self.project)]
        self.assertEqual(['sdk-image'], mine)
        self.assertIn(base.IMAGE_ID, [i.id for i in self.conn.image.images()])

        updated = self.conn.image.update_image(image, min_ram=64, hypervisor_type='qemu',
                                               kernel_id=base.IMAGE_ID)
        self.assertEqual((64, 'qemu', base.IMAGE_ID),
                         (updated.min_ram, updated.hypervisor_type,
                          updated.kernel_id))
        self.assertEqual('x86_64', self.conn.image.get_image(image.id).architecture)

        downloaded = self.conn.image.download_image(image)
        self.assertEqual(data, downloaded.content)

        self.conn.image.delete_image(image, ignore_missing=False)
        self.assertIsNone(self.conn.image.find_image('sdk-image'))
        self.assertRaises(sdk_exc.NotFoundException, self.conn.image.get_image, image.id)

    def test_paging_and_visibility(self):
        for n in range(3):
            self.conn.image.create_image(f'page-{n}', allow_duplicates=True,
                                         disk_format='raw', container_format='bare')
        listed = list(self.conn.image.images(owner=self.project, limit=1,
                                             sort='name:asc'))
        self.assertEqual(['page-0', 'page-1', 'page-2'], [i.name for i in listed])
        self.assertEqual({'queued'}, {i.status for i in listed})
        private = self.conn.image.create_image('secret', allow_duplicates=True,
                                               disk_format='raw', container_format='bare',
                                               visibility='private')
        other = self.connect(f'someone:{uuid.uuid4().hex}')
        self.assertIsNone(other.image.find_image(private.id))
        self.assertNotIn('secret', [i.name for i in other.image.images()])


class TestSDKNetworks(ImageNetworkTestCase):

    def test_networks_subnets_ports(self):
        network = self.conn.network.create_network(name='sdk-net')
        v4 = self.conn.network.create_subnet(network_id=network.id, ip_version=4,
                                             cidr='192.168.77.0/24', name='sdk-v4')
        v6 = self.conn.network.create_subnet(network_id=network.id, ip_version=6,
                                             cidr='fd00:77::/64', name='sdk-v6')
        self.assertEqual(('192.168.77.1', 'fd00:77::1'), (v4.gateway_ip, v6.gateway_ip))
        found = self.conn.network.find_network('sdk-net')
        self.assertEqual(sorted([v4.id, v6.id]), sorted(found.subnet_ids))
        self.assertEqual(['sdk-net'], [n.name for n in self.conn.network.networks(
            project_id=self.project)])
        port = self.conn.network.create_port(
            network_id=network.id, name='sdk-port',
            fixed_ips=[{'subnet_id': v4.id, 'ip_address': '192.168.77.20'}])
        self.assertEqual([{'subnet_id': v4.id, 'ip_address': '192.168.77.20'}],
                         port.fixed_ips)
        self.assertEqual([port.id], [p.id for p in self.conn.network.ports(
            fixed_ips='ip_address_substr=77.2')])
        self.assertTrue(self.conn.network.find_extension('ip-substring-filtering'))
        (group,) = list(self.conn.network.security_groups())
        self.assertEqual('default', group.name)

        server = self.conn.compute.create_server(
            name='on-sdk-net', flavor_id=base.FLAVOR_ID, image_id=base.IMAGE_ID,
            networks=[{'uuid': network.id}, {'port': port.id}])
        server = self.conn.compute.wait_for_server(server, interval=base.POLL,
                                                   wait=base.TIMEOUT)
        ports = list(self.conn.network.ports(device_id=server.id))
        self.assertEqual(2, len(ports))
        self.assertEqual({'ACTIVE'}, {p.status for p in ports})
        self.assertIn('192.168.77.20', [a['addr'] for a in server.addresses['sdk-net']])
        self.conn.compute.delete_server(server)
        self.conn.compute.wait_for_delete(server, interval=base.POLL, wait=base.TIMEOUT)
        self.assertEqual([port.id], [p.id for p in self.conn.network.ports(
            network_id=network.id)])
        self.assertEqual('', self.conn.network.get_port(port.id).device_id)

        self.conn.network.delete_port(port)
        self.conn.network.delete_subnet(v6)
        self.conn.network.delete_network(network)
        self.assertIsNone(self.conn.network.find_network('sdk-net'))


class TestOpenStackCLI(ImageNetworkTestCase):

    def clouds_yaml(self) -> str:
        return os.path.join(self.stack.dir, 'state', 'clouds.yaml')

    def openstack(self, *args: str, expect_rc: int = 0):
        """`openstack --os-cloud kumo --os-token <this test's> ARGS`, configured by the
        clouds.yaml kumo-all wrote; JSON output (-f json) is parsed."""
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env['OS_CLIENT_CONFIG_FILE'] = self.clouds_yaml()
        argv = [stack.executable('openstack'), '--os-cloud', 'kumo', '--os-token',
                self.token, *args]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90,
                              check=False)
        self.assertEqual(expect_rc, proc.returncode,
                         f'{" ".join(args)}:\nstdout: {proc.stdout}\nstderr: {proc.stderr}')
        if '-f' in args and args[args.index('-f') + 1] == 'json':
            return json.loads(proc.stdout)
        return proc

    def test_clouds_yaml_names_every_endpoint(self):
        with open(self.clouds_yaml()) as f:
            text = f.read()
        for url in (f'{self.compute_url}', self.stack.image_endpoint,
                    self.stack.network_endpoint):
            self.assertIn(url, text)

    def test_server_create_by_image_and_network_name(self):
        image_name = f'cli-image-{uuid.uuid4().hex[:6]}'
        self.upload_image(image_name, b'\0' * 8192)
        self.openstack('network', 'create', 'cli-net', '-f', 'json')
        subnet = self.openstack('subnet', 'create', '--network', 'cli-net',
                                '--subnet-range', '10.77.0.0/24', 'cli-subnet', '-f', 'json')
        self.assertEqual('10.77.0.1', subnet['gateway_ip'])
        self.assertIn(image_name, [i['Name'] for i in self.openstack(
            'image', 'list', '-f', 'json')])
        self.assertIn('cli-net', [n['Name'] for n in self.openstack(
            'network', 'list', '-f', 'json')])

        server = self.openstack('server', 'create', '--image', image_name, '--flavor',
                                base.FLAVOR_NAME, '--network', 'cli-net', 'cli-vm',
                                '--wait', '-f', 'json')
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual({'cli-net': ['10.77.0.2']}, server['addresses'])
        (port,) = self.openstack('port', 'list', '--server', server['id'], '-f', 'json')
        self.assertEqual('ACTIVE', port['Status'])
        listed = self.openstack('server', 'list', '-f', 'json')
        self.assertEqual([(server['id'], image_name)], [(s['ID'], s['Image'])
                                                        for s in listed])
        self.openstack('server', 'delete', '--wait', server['id'])
        self.assertEqual([], self.openstack('port', 'list', '--network', 'cli-net',
                                            '-f', 'json'))
        self.openstack('image', 'delete', image_name)

    def test_security_groups(self):
        """`openstack security group` and `security group rule` against Kumo's network
        service: create, list, show, rules, delete (records only: nothing filters a
        guest's traffic)."""
        group = self.openstack('security', 'group', 'create', 'cli-web', '--description',
                               'web tier', '-f', 'json')
        self.assertEqual(('cli-web', 'web tier'), (group['name'], group['description']))
        self.assertEqual(['cli-web', 'default'], sorted(
            g['Name'] for g in self.openstack('security', 'group', 'list', '-f', 'json')))
        shown = self.openstack('security', 'group', 'show', 'cli-web', '-f', 'json')
        self.assertEqual(group['id'], shown['id'])
        rule = self.openstack('security', 'group', 'rule', 'create', '--protocol', 'tcp',
                              '--dst-port', '22:23', '--remote-ip', '10.0.0.0/8', 'cli-web',
                              '-f', 'json')
        self.assertEqual(('ingress', 'IPv4', 'tcp', 22, 23, '10.0.0.0/8'),
                         (rule['direction'], rule['ether_type'], rule['protocol'],
                          rule['port_range_min'], rule['port_range_max'],
                          rule['remote_ip_prefix']))
        # A duplicate is Neutron's 409.
        proc = self.openstack('security', 'group', 'rule', 'create', '--protocol', 'tcp',
                              '--dst-port', '22:23', '--remote-ip', '10.0.0.0/8',
                              'cli-web', expect_rc=1)
        self.assertIn('already exists', proc.stderr)
        rules = self.openstack('security', 'group', 'rule', 'list', 'cli-web', '-f', 'json')
        self.assertIn(rule['id'], [r['ID'] for r in rules])
        self.assertEqual(3, len(rules))  # and the two egress rules it came with
        self.openstack('security', 'group', 'rule', 'delete', rule['id'])
        self.assertNotIn(rule['id'], [r['ID'] for r in self.openstack(
            'security', 'group', 'rule', 'list', 'cli-web', '-f', 'json')])
        self.openstack('security', 'group', 'delete', 'cli-web')
        self.assertEqual(['default'], [g['Name'] for g in self.openstack(
            'security', 'group', 'list', '-f', 'json')])
