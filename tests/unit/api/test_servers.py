"""The servers API end to end in one process: create, views per microversion, lists,
paging, scoping, delete, multiple create, and the images proxy."""
from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
import uuid

from kumo_common.db import models, session
from tests.fixtures import cloud

SAMPLES = os.environ.get('KUMO_API_SAMPLES', '/work/shared/reference/api_samples')


def _sample_server(path: str) -> dict:
    with open(os.path.join(SAMPLES, path)) as f:
        body = json.load(f)
    return body['server'] if 'server' in body else body['servers'][0]


# Which sample each microversion's view is compared with, and who looks: the samples
# up to 2.73 are admin views (OS-EXT-SRV-ATTR:*, host_status from 2.16); the 2.26
# sample and those from 2.90 are a project member's.
SHOW_SAMPLES = [
    ('2.1', 'servers/server-get-resp.json', 'admin'),
    ('2.3', 'servers/v2.3/server-get-resp.json', 'admin'),
    ('2.9', 'servers/v2.9/server-get-resp.json', 'admin'),
    ('2.16', 'servers/v2.16/server-get-resp.json', 'admin'),
    ('2.19', 'servers/v2.19/server-get-resp.json', 'admin'),
    ('2.26', 'os-server-tags/v2.26/server-tags-show-details-resp.json', 'member'),
    ('2.47', 'servers/v2.47/server-get-resp.json', 'admin'),
    ('2.63', 'servers/v2.63/server-get-resp.json', 'admin'),
    ('2.71', 'servers/v2.71/server-get-resp.json', 'admin'),
    ('2.73', 'servers/v2.73/server-get-resp.json', 'admin'),
    ('2.90', 'servers/v2.90/server-get-resp.json', 'member'),
    ('2.96', 'servers/v2.96/server-get-resp.json', 'member'),
    ('2.98', 'servers/v2.98/server-get-resp.json', 'member'),
    ('2.100', 'servers/v2.100/server-get-resp.json', 'member'),
]
# The detail list; `server_groups` (2.71) is in show only, so 2.73's list lacks it.
DETAIL_SAMPLES = [
    ('2.1', 'servers/servers-details-resp.json', 'admin'),
    ('2.3', 'servers/v2.3/servers-details-resp.json', 'admin'),
    ('2.9', 'servers/v2.9/servers-details-resp.json', 'admin'),
    ('2.16', 'servers/v2.16/servers-details-resp.json', 'admin'),
    ('2.19', 'servers/v2.19/servers-details-resp.json', 'admin'),
    ('2.26', 'os-server-tags/v2.26/servers-tags-details-resp.json', 'member'),
    ('2.47', 'servers/v2.47/servers-details-resp.json', 'admin'),
    ('2.63', 'servers/v2.63/servers-details-resp.json', 'admin'),
    ('2.73', 'servers/v2.73/servers-details-resp.json', 'admin'),
    ('2.90', 'servers/v2.90/servers-details-resp.json', 'member'),
    ('2.96', 'servers/v2.96/servers-details-resp.json', 'member'),
    ('2.98', 'servers/v2.98/servers-details-resp.json', 'member'),
    ('2.100', 'servers/v2.100/servers-details-resp.json', 'member'),
]


def _admin_only(key: str, version: str) -> bool:
    """Keys a project member does not see (OS-EXT-SRV-ATTR:hostname is for all
    from 2.90)."""
    if key == 'OS-EXT-SRV-ATTR:hostname' and int(version.split('.')[1]) >= 90:
        return False
    return key.startswith('OS-EXT-SRV-ATTR:') or key == 'host_status'


class TestCreate(cloud.CloudTestCase):

    def test_create_response(self):
        token = self.new_token()
        resp = self.cloud.request('POST', '/v2.1/servers', token=token, version='2.37',
                                  json={'server': {'name': 'vm', 'flavorRef': '1',
                                                   'imageRef': cloud.IMAGE_ID,
                                                   'networks': 'auto'}})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        server = resp.json['server']
        sample = _sample_server('servers/server-create-resp.json')
        self.assertEqual(set(sample), set(server))
        self.assertEqual(['self', 'bookmark'], [link['rel'] for link in server['links']])
        self.assertEqual(f'http://localhost/v2.1/servers/{server["id"]}',
                         server['links'][0]['href'])
        self.assertEqual(f'http://localhost/servers/{server["id"]}',
                         server['links'][1]['href'])
        self.assertEqual(server['links'][0]['href'], resp.headers['Location'])
        self.assertEqual('MANUAL', server['OS-DCF:diskConfig'])
        self.assertEqual([{'name': 'default'}], server['security_groups'])
        self.assertEqual(12, len(server['adminPass']))

        active = self.cloud.wait_for_status(server['id'], 'ACTIVE', token=token)
        self.assertEqual(1, active['OS-EXT-STS:power_state'])
        self.assertEqual('active', active['OS-EXT-STS:vm_state'])
        self.assertIsNone(active['OS-EXT-STS:task_state'])
        self.assertIsNotNone(active['OS-SRV-USG:launched_at'])
        self.assertEqual(['private'], list(active['addresses']))
        admin = self.cloud.get_server(server['id'], token=cloud.ADMIN_TOKEN)
        self.assertIn(admin['OS-EXT-SRV-ATTR:host'], ('compute1', 'compute2'))

    def test_create_with_given_password_and_disk_config(self):
        server = self.cloud.create_server(token=self.new_token(), adminPass='s3cret',
                                          **{'OS-DCF:diskConfig': 'AUTO'})
        self.assertEqual('s3cret', server['adminPass'])
        self.assertEqual('AUTO', server['OS-DCF:diskConfig'])

    def test_access_ips_in_netaddrs_form(self):
        # As Nova shows them (Tempest's test_verify_server_details sends this one).
        server = self.cloud.create_server(
            accessIPv4='10.1.2.3', accessIPv6='0000:0000:0000:0000:0000:babe:220.12.22.2')
        shown = self.cloud.get_server(server['id'])
        self.assertEqual(('10.1.2.3', '::babe:dc0c:1602'),
                         (shown['accessIPv4'], shown['accessIPv6']))
        resp = self.cloud.request('PUT', f'/v2.1/servers/{server["id"]}',
                                  json={'server': {'accessIPv6': 'FE80:0:0:0:0:0:0:1'}})
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual('fe80::1', resp.json['server']['accessIPv6'])

    def test_multiple_create(self):
        token = self.new_token()
        first = self.cloud.create_server(name='web', token=token, min_count=2)
        resp = self.cloud.request('GET', '/v2.1/servers', token=token)
        servers = {s['name']: s['id'] for s in resp.json['servers']}
        self.assertEqual({'web-1', 'web-2'}, set(servers))
        self.assertEqual(servers['web-1'], first['id'])
        reservations, indexes = set(), set()
        for server_id in servers.values():
            self.cloud.wait_for_status(server_id, 'ACTIVE')
            admin = self.cloud.get_server(server_id, version='2.3')
            reservations.add(admin['OS-EXT-SRV-ATTR:reservation_id'])
            indexes.add(admin['OS-EXT-SRV-ATTR:launch_index'])
            self.assertEqual(admin['name'], admin['OS-EXT-SRV-ATTR:hostname'])
        self.assertEqual(1, len(reservations))
        self.assertRegex(reservations.pop(), r'^r-[0-9a-z]{8}$')
        self.assertEqual({0, 1}, indexes)

    def test_description(self):
        # Before 2.19 there is no description: the name is stored as one (as Nova).
        old = self.cloud.create_server(name='old-style', version=None)
        self.assertEqual('old-style',
                         self.cloud.get_server(old['id'], version='2.19')['description'])
        new = self.cloud.create_server(name='new-style', version='2.19',
                                       description='my words')
        self.assertEqual('my words',
                         self.cloud.get_server(new['id'], version='2.19')['description'])
        plain = self.cloud.create_server(name='plain', version='2.19')
        self.assertIsNone(self.cloud.get_server(plain['id'], version='2.19')['description'])

    def test_single_create_keeps_its_name(self):
        token = self.new_token()
        server = self.cloud.create_server(name='solo', token=token, min_count=1,
                                          max_count=1)
        self.assertEqual('solo', self.cloud.get_server(server['id'])['name'])

    def test_return_reservation_id(self):
        token = self.new_token()
        resp = self.cloud.request(
            'POST', '/v2.1/servers', token=token, version='2.37',
            json={'server': {'name': 'r', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID,
                             'networks': 'none', 'min_count': 3,
                             'return_reservation_id': True}})
        self.assertEqual(202, resp.status_code, resp.get_data(True))
        self.assertEqual(['reservation_id'], list(resp.json))
        self.assertRegex(resp.json['reservation_id'], r'^r-[0-9a-z]{8}$')
        self.assertNotIn('Location', resp.headers)
        listed = self.cloud.request('GET', '/v2.1/servers', token=token).json['servers']
        self.assertEqual({'r-1', 'r-2', 'r-3'}, {s['name'] for s in listed})
        for server in listed:
            admin = self.cloud.get_server(server['id'], version='2.3')
            self.assertEqual(resp.json['reservation_id'],
                             admin['OS-EXT-SRV-ATTR:reservation_id'])


class TestViews(cloud.CloudTestCase):
    """Key sets of show and detail at each microversion, against Nova's samples."""

    MEMBER = 'viewer:viewproject'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tokens = {'member': cls.MEMBER, 'admin': cloud.ADMIN_TOKEN}
        cls.servers = {who: cls.cloud.create_server(name=f'{who}-server', token=token)['id']
                       for who, token in tokens.items()}
        cls.tokens = tokens
        for server_id in cls.servers.values():
            cls.cloud.wait_for_status(server_id, 'ACTIVE')

    def _show(self, version, who):
        resp = self.cloud.request('GET', f'/v2.1/servers/{self.servers[who]}',
                                  token=self.tokens[who], version=version)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        return resp.json['server']

    def _detail(self, version, who):
        resp = self.cloud.request('GET', '/v2.1/servers/detail', token=self.tokens[who],
                                  version=version)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        [server] = [s for s in resp.json['servers'] if s['id'] == self.servers[who]]
        return server

    def _compare(self, what, version, sample, actual):
        self.assertEqual(sorted(sample), sorted(actual), f'{what} at {version}')
        for key in ('flavor', 'image'):
            if isinstance(sample[key], dict):
                self.assertEqual(sorted(sample[key]), sorted(actual[key]),
                                 f'{what} {key} at {version}')
        sample_ip = next(iter(sample['addresses'].values()))[0]
        actual_ip = next(iter(actual['addresses'].values()))[0]
        self.assertEqual(sorted(sample_ip), sorted(actual_ip), f'{what} address')

    def test_show_key_sets(self):
        for version, path, who in SHOW_SAMPLES:
            self._compare('show', version, _sample_server(path), self._show(version, who))

    def test_detail_key_sets(self):
        for version, path, who in DETAIL_SAMPLES:
            self._compare('detail', version, _sample_server(path),
                          self._detail(version, who))

    def test_member_never_sees_admin_keys(self):
        # Each admin sample less its admin-only keys is what a member gets.
        for version, path, who in SHOW_SAMPLES:
            if who != 'admin':
                continue
            expected = {k for k in _sample_server(path) if not _admin_only(k, version)}
            self.assertEqual(sorted(expected), sorted(self._show(version, 'member')),
                             version)

    def test_flavor_shape(self):
        old = self._show('2.46', 'member')['flavor']
        self.assertEqual({'id': '1', 'links': [
            {'href': 'http://localhost/flavors/1', 'rel': 'bookmark'}]}, old)
        new = self._show('2.47', 'member')['flavor']
        self.assertEqual({'vcpus': 1, 'ram': 512, 'disk': 1, 'ephemeral': 0, 'swap': 0,
                          'original_name': 'm1.tiny', 'extra_specs': {}}, new)

    def test_image_properties_from_2_98(self):
        self.assertNotIn('properties', self._show('2.97', 'member')['image'])
        image = self._show('2.98', 'member')['image']
        self.assertEqual(cloud.IMAGE_ID, image['id'])
        self.assertEqual('x86_64', image['properties']['architecture'])

    def test_host_id(self):
        host = self.cloud.get_server(self.servers['member'])['OS-EXT-SRV-ATTR:host']
        expected = hashlib.sha224(('viewproject' + host).encode()).hexdigest()
        self.assertEqual(expected, self._show('2.1', 'member')['hostId'])
        # Same host, other project: another hostId.
        admin_host = self.cloud.get_server(self.servers['admin'])['OS-EXT-SRV-ATTR:host']
        self.assertEqual(hashlib.sha224(('admin' + admin_host).encode()).hexdigest(),
                         self._show('2.1', 'admin')['hostId'])

    def test_values(self):
        view = self._show('2.100', 'member')
        self.assertIs(False, view['locked'])
        self.assertIsNone(view['locked_reason'])
        self.assertEqual([], view['server_groups'])
        self.assertEqual({}, view['scheduler_hints'])
        self.assertEqual([], view['tags'])
        self.assertEqual('ACTIVE', view['status'])
        self.assertEqual(0, view['progress'])
        self.assertEqual('viewproject', view['tenant_id'])
        self.assertEqual('viewer', view['user_id'])
        self.assertEqual('member-server', view['OS-EXT-SRV-ATTR:hostname'])
        self.assertEqual('', view['accessIPv4'])
        self.assertEqual('', view['config_drive'])
        self.assertRegex(view['created'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        self.assertRegex(view['OS-SRV-USG:launched_at'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$')
        self.assertIsNone(view['OS-SRV-USG:terminated_at'])
        [address] = view['addresses']['private']
        self.assertEqual(4, address['version'])
        self.assertTrue(address['addr'].startswith('10.0.0.'))
        self.assertTrue(address['OS-EXT-IPS-MAC:mac_addr'].startswith('fa:16:3e:'))
        admin = self._show('2.16', 'admin')
        self.assertEqual('UP', admin['host_status'])
        self.assertEqual(admin['OS-EXT-SRV-ATTR:host'],
                         admin['OS-EXT-SRV-ATTR:hypervisor_hostname'])
        self.assertRegex(admin['OS-EXT-SRV-ATTR:instance_name'], r'^instance-[0-9a-f]{8}$')


class TestListsAndScope(cloud.CloudTestCase):

    def test_list_items(self):
        token = self.new_token()
        server = self.cloud.create_server(name='listed', token=token)
        resp = self.cloud.request('GET', '/v2.1/servers', token=token)
        self.assertEqual(200, resp.status_code)
        self.assertEqual(['servers'], list(resp.json))
        [item] = resp.json['servers']
        self.assertEqual({'id', 'name', 'links'}, set(item))
        self.assertEqual((server['id'], 'listed'), (item['id'], item['name']))
        self.assertEqual(server['links'], item['links'])

    def test_paging(self):
        token = self.new_token()
        self.cloud.create_server(name='page', token=token, min_count=3)
        resp = self.cloud.request('GET', '/v2.1/servers?limit=2', token=token)
        self.assertEqual(200, resp.status_code)
        first = resp.json['servers']
        self.assertEqual(2, len(first))
        [link] = resp.json['servers_links']
        self.assertEqual('next', link['rel'])
        self.assertEqual(f'http://localhost/v2.1/servers?limit=2&marker={first[-1]["id"]}',
                         link['href'])
        href = urllib.parse.urlsplit(link['href'])
        resp = self.cloud.request('GET', f'{href.path}?{href.query}', token=token)
        second = resp.json['servers']
        self.assertEqual(1, len(second))
        self.assertNotIn('servers_links', resp.json)
        self.assertEqual({'page-1', 'page-2', 'page-3'},
                         {s['name'] for s in first + second})
        # Detail pages the same way, with its own path in the link.
        resp = self.cloud.request('GET', '/v2.1/servers/detail?limit=1', token=token)
        self.assertIn('/v2.1/servers/detail?limit=1&marker=',
                      resp.json['servers_links'][0]['href'])
        # A full last page still gets a link, to an empty page.
        resp = self.cloud.request('GET', '/v2.1/servers?limit=3', token=token)
        last = resp.json['servers'][-1]['id']
        self.assertIn(f'marker={last}', resp.json['servers_links'][0]['href'])
        resp = self.cloud.request('GET', f'/v2.1/servers?limit=3&marker={last}',
                                  token=token)
        self.assertEqual({'servers': []}, resp.json)

    def test_unknown_marker(self):
        resp = self.cloud.request('GET', '/v2.1/servers?marker=nope',
                                  token=self.new_token())
        self.assertEqual(400, resp.status_code)
        self.assertEqual('marker [nope] not found', resp.json['badRequest']['message'])

    def test_other_projects_servers_are_invisible(self):
        owner, other = self.new_token(), self.new_token()
        server = self.cloud.create_server(token=owner)
        for method in ('GET', 'DELETE'):
            resp = self.cloud.request(method, f'/v2.1/servers/{server["id"]}', token=other)
            self.assertEqual(404, resp.status_code, method)
            self.assertEqual(f'Instance {server["id"]} could not be found.',
                             resp.json['itemNotFound']['message'])
        for path in ('/v2.1/servers', '/v2.1/servers/detail'):
            self.assertEqual([], self.cloud.request('GET', path, token=other).json['servers'])
        # Still there for its owner.
        self.assertEqual(200, self.cloud.request('GET', f'/v2.1/servers/{server["id"]}',
                                                 token=owner).status_code)

    def test_all_tenants_needs_admin(self):
        token = self.new_token()
        for path in ('/v2.1/servers?all_tenants=1', '/v2.1/servers/detail?all_tenants',
                     '/v2.1/servers?all_tenants=true'):
            resp = self.cloud.request('GET', path, token=token)
            self.assertEqual(403, resp.status_code, path)
            self.assertEqual(['forbidden'], list(resp.json))

    def test_all_tenants_for_admin(self):
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        project = token.split(':')[1]
        own = self.cloud.request('GET', '/v2.1/servers', token=cloud.ADMIN_TOKEN).json
        self.assertNotIn(server['id'], [s['id'] for s in own['servers']])
        every = self.cloud.request('GET', f'/v2.1/servers?all_tenants=1&tenant_id={project}',
                                   token=cloud.ADMIN_TOKEN).json
        self.assertEqual([server['id']], [s['id'] for s in every['servers']])

    def test_delete(self):
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        admin = self.cloud.get_server(server['id'])
        resp = self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=token)
        self.assertEqual(204, resp.status_code)
        self.assertEqual(b'', resp.data)
        self.cloud.wait_for_status(server['id'], 'DELETED')
        resp = self.cloud.request('GET', f'/v2.1/servers/{server["id"]}', token=token)
        self.assertEqual(404, resp.status_code)
        for path in ('/v2.1/servers', '/v2.1/servers/detail'):
            self.assertEqual([], self.cloud.request('GET', path, token=token).json['servers'])
        # A second delete finds nothing.
        resp = self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=token)
        self.assertEqual(404, resp.status_code)
        self.assertIsNotNone(admin['OS-EXT-SRV-ATTR:host'])

    def test_delete_while_building(self):
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        resp = self.cloud.request('DELETE', f'/v2.1/servers/{server["id"]}', token=token)
        self.assertEqual(204, resp.status_code)
        self.cloud.wait_for_status(server['id'], 'DELETED')


class TestServerIps(cloud.CloudTestCase):

    def test_addresses_by_network(self):
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        shown = self.cloud.wait_for_status(server['id'], 'ACTIVE', token=token)
        expected = {network: [{'version': a['version'], 'addr': a['addr']} for a in items]
                    for network, items in shown['addresses'].items()}
        self.assertTrue(expected)
        resp = self.cloud.request('GET', f'/v2.1/servers/{server["id"]}/ips', token=token)
        self.assertEqual(200, resp.status_code, resp.get_data(True))
        self.assertEqual({'addresses': expected}, resp.json)
        network = next(iter(expected))
        resp = self.cloud.request('GET', f'/v2.1/servers/{server["id"]}/ips/{network}',
                                  token=token)
        self.assertEqual({network: expected[network]}, resp.json)
        resp = self.cloud.request('GET', f'/v2.1/servers/{server["id"]}/ips/elsewhere',
                                  token=token)
        self.assertEqual(404, resp.status_code)
        self.assertEqual('Instance is not a member of specified network',
                         resp.json['itemNotFound']['message'])
        # Another project's server does not exist for them.
        resp = self.cloud.request('GET', f'/v2.1/servers/{server["id"]}/ips',
                                  token=self.new_token())
        self.assertEqual(404, resp.status_code)


class TestServerPassword(cloud.CloudTestCase):

    def test_show_and_clear(self):
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        self.cloud.wait_for_status(server['id'], 'ACTIVE', token=token)
        path = f'/v2.1/servers/{server["id"]}/os-server-password'
        # No guest has posted one (there is no metadata service): "", as Nova's.
        self.assertEqual({'password': ''}, self.cloud.request('GET', path,
                                                              token=token).json)
        # Where Nova keeps a posted one: system metadata password_0..3.
        with session.transaction() as s:
            for n, part in enumerate(('c2Vj', 'cmV0', '', '')):
                s.add(models.InstanceSystemMetadata(instance_uuid=server['id'],
                                                    key=f'password_{n}', value=part))
        self.assertEqual({'password': 'c2VjcmV0'},
                         self.cloud.request('GET', path, token=token).json)
        self.assertEqual(404, self.cloud.request('GET', path,
                                                 token=self.new_token()).status_code)
        self.assertEqual(204, self.cloud.request('DELETE', path, token=token).status_code)
        self.assertEqual({'password': ''}, self.cloud.request('GET', path,
                                                              token=token).json)


class TestServerTopology(cloud.CloudTestCase):

    def test_no_numa_topology(self):
        token = self.new_token()
        server = self.cloud.create_server(token=token)
        path = f'/v2.1/servers/{server["id"]}/topology'
        # Kumo's guests have no NUMA topology: what Nova answers for such a server.
        for who in (token, cloud.ADMIN_TOKEN):
            resp = self.cloud.request('GET', path, token=who, version='2.78')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            self.assertEqual({'nodes': [], 'pagesize_kb': None}, resp.json)
        # Before 2.78 there is no such API (a fault, with the microversion headers).
        resp = self.cloud.request('GET', path, token=token, version='2.77')
        self.assertEqual(404, resp.status_code)
        self.assertEqual('The resource could not be found.',
                         resp.json['itemNotFound']['message'])
        self.assertEqual('compute 2.77', resp.headers['OpenStack-API-Version'])
        self.assertEqual(404, self.cloud.request('GET', path, token=self.new_token(),
                                                 version='2.78').status_code)
        self.assertEqual(404, self.cloud.request(
            'GET', f'/v2.1/servers/{uuid.uuid4()}/topology', token=token,
            version='2.78').status_code)


class TestImagesProxy(cloud.CloudTestCase):
    COMPUTES = 0

    def test_list_and_show_up_to_2_35(self):
        for path in ('/v2.1/images', '/v2.1/images/detail'):
            resp = self.cloud.request('GET', path, version='2.35')
            self.assertEqual(200, resp.status_code, path)
            self.assertIn(cloud.IMAGE_ID, [i['id'] for i in resp.json['images']])
        resp = self.cloud.request('GET', f'/v2.1/images/{cloud.IMAGE_ID}', version='2.35')
        self.assertEqual(200, resp.status_code)
        image = resp.json['image']
        self.assertEqual('ACTIVE', image['status'])
        self.assertEqual(cloud.IMAGE_ID, image['id'])
        resp = self.cloud.request('GET', '/v2.1/images', version='2.1')
        self.assertEqual(200, resp.status_code)
        self.assertEqual([{'id', 'name', 'links'}],
                         [set(i) for i in resp.json['images'] if i['id'] == cloud.IMAGE_ID])

    def test_gone_from_2_36(self):
        for path in ('/v2.1/images', '/v2.1/images/detail',
                     f'/v2.1/images/{cloud.IMAGE_ID}'):
            for version in ('2.36', '2.100'):
                resp = self.cloud.request('GET', path, version=version)
                self.assertEqual(404, resp.status_code, (path, version))
                self.assertEqual(['itemNotFound'], list(resp.json))

    def test_list_filters_and_paging(self):
        token = self.new_token()
        project = token.split(':')[1]

        def private(name, **fields):
            return cloud.image_with(name=name, owner=project, visibility='private',
                                    **fields)
        snap = private('snap', min_ram=512, properties={
            'image_type': 'snapshot', 'instance_uuid': 'a0a0a0a0-0000-4000-8000-0000000000aa'})
        backup = private('backup', min_disk=5, properties={'image_type': 'backup'})
        plain = private('plain')

        def listed(query, path='/v2.1/images'):
            resp = self.cloud.request('GET', f'{path}?{query}', token=token, version='2.35')
            self.assertEqual(200, resp.status_code, resp.get_data(True))
            return resp.json

        def ids(query, path='/v2.1/images'):
            mine = {snap, backup, plain}
            return {i['id'] for i in listed(query, path)['images']} & mine
        self.assertEqual({snap}, ids('type=snapshot'))
        self.assertEqual({snap}, ids('server=http://x/v2.1/servers/'
                                     'a0a0a0a0-0000-4000-8000-0000000000aa'))
        self.assertEqual({backup}, ids('name=backup', '/v2.1/images/detail'))
        self.assertEqual({snap}, ids('minRam=256'))
        self.assertEqual({backup}, ids('minDisk=5'))
        self.assertEqual({backup}, ids('property-image_type=backup'))
        self.assertEqual({snap, backup, plain}, ids('status=ACTIVE'))
        self.assertEqual(set(), ids('status=saving'))
        self.assertEqual(set(), ids('changes-since=2999-01-01T00:00:00Z'))
        self.assertEqual({snap, backup, plain}, ids('changes-since=2000-01-01T00:00:00Z'))
        for bad in ('changes-since=yesterday', 'minRam=lots', 'limit=-1', 'marker=nope'):
            resp = self.cloud.request('GET', f'/v2.1/images?{bad}', token=token)
            self.assertEqual(400, resp.status_code, bad)
        # Paging: one at a time, each page linking the next.
        first = listed('limit=1')
        self.assertEqual(1, len(first['images']))
        self.assertIn(f"marker={first['images'][0]['id']}",
                      first['images_links'][0]['href'])
        second = listed(f"limit=1&marker={first['images'][0]['id']}")
        self.assertNotEqual(first['images'], second['images'])

    def test_image_metadata(self):
        token = self.new_token()
        project = token.split(':')[1]
        mine = cloud.image_with(owner=project, properties={'os_distro': 'debian'})
        theirs = cloud.image_with(owner='another-project', properties={'a': 'b'})
        base = f'/v2.1/images/{mine}/metadata'

        def call(method, path, body=None, token=token, version='2.38'):
            return self.cloud.request(method, path, token=token, json=body, version=version)
        self.assertEqual({'metadata': {'os_distro': 'debian'}}, call('GET', base).json)
        resp = call('POST', base, {'metadata': {'color': 'blue'}})
        self.assertEqual({'metadata': {'os_distro': 'debian', 'color': 'blue'}}, resp.json)
        self.assertEqual({'meta': {'color': 'blue'}}, call('GET', f'{base}/color').json)
        resp = call('PUT', f'{base}/color', {'meta': {'color': 'red'}})
        self.assertEqual({'meta': {'color': 'red'}}, resp.json)
        self.assertEqual(400, call('PUT', f'{base}/color', {'meta': {'size': 'l'}}).status_code)
        self.assertEqual(400, call('PUT', f'{base}/color',
                                   {'meta': {'color': 'a', 'b': 'c'}}).status_code)
        self.assertEqual(204, call('DELETE', f'{base}/os_distro').status_code)
        self.assertEqual(404, call('GET', f'{base}/os_distro').status_code)
        self.assertEqual(404, call('DELETE', f'{base}/os_distro').status_code)
        resp = call('PUT', base, {'metadata': {'only': 'this'}})
        self.assertEqual({'metadata': {'only': 'this'}}, resp.json)
        self.assertEqual({'metadata': {'only': 'this'}}, call('GET', base).json)
        # The images proxy's view shows the same.
        shown = call('GET', f'/v2.1/images/{mine}', version='2.35').json['image']
        self.assertEqual({'only': 'this'}, shown['metadata'])
        # The metadata_items limit (128 by default).
        too_many = {f'k{n}': 'v' for n in range(129)}
        resp = call('PUT', base, {'metadata': too_many})
        self.assertEqual(403, resp.status_code)
        self.assertEqual('Image metadata limit exceeded',
                         resp.json['forbidden']['message'])
        # Another project's image: readable when public, not writable; gone at 2.39.
        self.assertEqual({'metadata': {'a': 'b'}},
                         call('GET', f'/v2.1/images/{theirs}/metadata').json)
        self.assertEqual(403, call('POST', f'/v2.1/images/{theirs}/metadata',
                                   {'metadata': {'x': 'y'}}).status_code)
        hidden = cloud.image_with(owner=project, visibility='private')
        self.assertEqual(404, call('GET', f'/v2.1/images/{hidden}/metadata',
                                   token=self.new_token()).status_code)
        self.assertEqual(404, call('GET', base, version='2.39').status_code)
        self.assertEqual(404, call('GET', '/v2.1/images/no-such/metadata').status_code)

    def test_delete_under_the_image_services_rules(self):
        token = self.new_token()
        project = token.split(':')[1]
        mine = cloud.image_with(owner=project, visibility='private')
        protected = cloud.image_with(owner=project, protected=True)
        theirs = cloud.image_with(owner='another-project')

        def delete(image_id, token=token, version=None):
            return self.cloud.request('DELETE', f'/v2.1/images/{image_id}', token=token,
                                      version=version).status_code
        self.assertEqual(404, delete(mine, token=self.new_token()))  # not theirs to see
        self.assertEqual(403, delete(theirs))                        # public, not ours
        self.assertEqual(403, delete(protected))
        self.assertEqual(404, delete(mine, version='2.36'))
        self.assertEqual(204, delete(mine))
        self.assertEqual(404, self.cloud.request('GET', f'/v2.1/images/{mine}',
                                                 token=token).status_code)
        self.assertEqual(404, delete(mine))
        self.assertEqual(204, delete(theirs, token=cloud.ADMIN_TOKEN))

    def test_unknown_image(self):
        resp = self.cloud.request('GET', '/v2.1/images/no-such-image')
        self.assertEqual(404, resp.status_code)
        self.assertEqual(['itemNotFound'], list(resp.json))
