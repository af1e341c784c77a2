"""The image service's records: discovery, schemas, create, show, list (filters, sort,
paging), PATCH (json-patch), delete, visibility and policy, as Glance v2 answers."""
from __future__ import annotations

import uuid

from tests.unit.image_service import base

ADMIN = base.ADMIN


class TestDiscovery(base.ImageServiceTestCase):

    def test_versions_without_a_token(self):
        root = self.call('GET', '/', token=False, status=300).json
        listed = self.call('GET', '/versions', token=False).json
        self.assertEqual(root, listed)
        current = [v for v in listed['versions'] if v['status'] == 'CURRENT']
        self.assertEqual(1, len(current))
        self.assertTrue(current[0]['id'].startswith('v2.'))
        self.assertIn('v2.0', [v['id'] for v in listed['versions']])
        self.assertEqual([{'rel': 'self', 'href': 'http://localhost/v2/'}],
                         current[0]['links'])

    def test_everything_else_needs_a_token(self):
        self.call('GET', '/v2/images', token=False, status=401)
        self.call('GET', '/v2/schemas/image', token=False, status=401)

    def test_schemas(self):
        image = self.call('GET', '/v2/schemas/image').json
        self.assertEqual('image', image['name'])
        self.assertEqual({'type': 'string'}, image['additionalProperties'])
        for prop in ('id', 'name', 'status', 'visibility', 'os_hash_algo', 'min_ram',
                     'kernel_id', 'ramdisk_id', 'architecture', 'tags', 'file'):
            self.assertIn(prop, image['properties'])
        self.assertIn('qcow2', image['properties']['disk_format']['enum'])
        self.assertTrue(image['properties']['status']['readOnly'])
        images = self.call('GET', '/v2/schemas/images').json
        self.assertEqual('images', images['name'])
        self.assertEqual(image, images['properties']['images']['items'])
        self.assertEqual({'first', 'next', 'describedby'},
                         {link['rel'] for link in images['links']})


class TestCreateAndShow(base.ImageServiceTestCase):

    def test_defaults_and_shape(self):
        created = self.create(name='fresh', tags=['a', 'b'], architecture='x86_64',
                              min_ram=64)
        self.assertEqual({
            'name': 'fresh', 'disk_format': 'qcow2', 'container_format': 'bare',
            'visibility': 'shared', 'size': None, 'virtual_size': None, 'status': 'queued',
            'checksum': None, 'protected': False, 'min_ram': 64, 'min_disk': 0,
            'owner': self.project, 'os_hidden': False, 'os_hash_algo': None,
            'os_hash_value': None, 'id': created['id'], 'tags': ['a', 'b'],
            'architecture': 'x86_64', 'self': f'/v2/images/{created["id"]}',
            'file': f'/v2/images/{created["id"]}/file', 'schema': '/v2/schemas/image',
            'created_at': created['created_at'], 'updated_at': created['updated_at'],
        }, created)
        self.assertRegex(created['created_at'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        self.assertEqual(created, self.show(created['id']))

    def test_an_image_has_no_tasks(self):
        image = self.create(name='uploaded')
        resp = self.call('GET', f'/v2/images/{image["id"]}/tasks', status=200)
        self.assertEqual({'tasks': []}, resp.json)
        self.call('GET', f'/v2/images/{image["id"]}/tasks',
                  token=f'user:{uuid.uuid4().hex}', status=404)
        self.call('GET', f'/v2/images/{uuid.uuid4()}/tasks', status=404)

    def test_location_header_and_chosen_id(self):
        image_id = str(uuid.uuid4())
        resp = self.call('POST', '/v2/images', json={'id': image_id, 'name': 'mine'},
                         status=201)
        self.assertTrue(resp.headers['Location'].endswith(f'/v2/images/{image_id}'))
        self.assertEqual(image_id, resp.json['id'])
        conflict = self.call('POST', '/v2/images', json={'id': image_id}, status=409)
        self.assertIn('already exists', conflict.json['message'])
        self.assertEqual('409 Conflict', conflict.json['code'])

    def test_bad_bodies(self):
        for body, status, words in [
                ({'status': 'active'}, 403, "Attribute 'status' is read-only."),
                ({'checksum': 'x'}, 403, "Attribute 'checksum' is read-only."),
                ({'self': '/x'}, 403, "Attribute 'self' is read-only."),
                ({'location': '/etc/passwd'}, 403, "Attribute 'location' is reserved."),
                ({'disk_format': 'floppy'}, 400, 'disk_format'),
                ({'min_ram': 'lots'}, 400, 'min_ram'),
                ({'id': 'not-a-uuid'}, 400, 'id'),
                ({'kernel_id': 'not-a-uuid'}, 400, 'kernel_id'),
                ({'custom': 5}, 400, 'custom'),
                ({'name': 'x' * 256}, 400, 'name')]:
            resp = self.call('POST', '/v2/images', json=body, status=status)
            self.assertIn(words, resp.json['message'], body)
        self.call('POST', '/v2/images', data='[', status=400,
                  headers={'Content-Type': 'application/json'})
        self.assertEqual([], self.names(f'?owner={self.project}'))

    def test_public_and_foreign_owner_are_for_admins(self):
        resp = self.create(visibility='public', status=403)
        self.assertIn('publicize_image', resp['message'])
        self.create(owner='someone-else', status=403)
        public = self.create(token=ADMIN, visibility='public', owner=self.project)
        self.assertEqual(('public', self.project), (public['visibility'], public['owner']))
        community = self.create(visibility='community')
        self.assertEqual('community', community['visibility'])

    def test_visibility(self):
        other = f'user:{uuid.uuid4().hex}'
        private = self.create(name='private', visibility='private')
        shared = self.create(name='shared')
        community = self.create(name='community', visibility='community')
        for image in (private, shared):
            self.call('GET', f'/v2/images/{image["id"]}', token=other, status=404)
            self.assertEqual(image['id'], self.show(image['id'], token=ADMIN)['id'])
        self.assertEqual(community['id'], self.show(community['id'], token=other)['id'])
        # The seeded public image is everyone's.
        self.assertEqual('active', self.show(base.cloud.IMAGE_ID, token=other)['status'])
        missing = self.call('GET', f'/v2/images/{uuid.uuid4()}', status=404).json
        self.assertIn('No image found with ID', missing['message'])


class TestList(base.ImageServiceTestCase):

    def setUp(self):
        super().setUp()
        self.made = {}
        for name, fields in [('alpha', {'os_distro': 'debian', 'tags': ['gold']}),
                             ('bravo', {'visibility': 'private', 'min_ram': 128}),
                             ('charlie', {'os_distro': 'debian'}),
                             ('delta', {'visibility': 'community', 'tags': ['gold']}),
                             ('echo', {'os_hidden': True})]:
            self.made[name] = self.create(name=name, **fields)

    def mine(self, query: str = '', token: str | None = None) -> list[str]:
        sep = '&' if '?' in query else '?'
        return self.names(f'{query}{sep}owner={self.project}', token=token)

    def test_default_list_and_newest_first(self):
        # Hidden images are listed only when asked for.
        self.assertEqual(['delta', 'charlie', 'bravo', 'alpha'], self.mine())
        listed = self.call('GET', '/v2/images').json
        self.assertEqual({'images', 'first', 'schema'}, set(listed))
        self.assertEqual('/v2/images', listed['first'])
        self.assertEqual('/v2/schemas/images', listed['schema'])
        self.assertIn(base.cloud.IMAGE_ID, [i['id'] for i in listed['images']])

    def test_other_projects_see_public_only(self):
        other = f'user:{uuid.uuid4().hex}'
        # Community images of others are listed only when asked for.
        self.assertEqual([], self.mine(token=other))
        self.assertEqual(['delta'], self.mine('?visibility=community', token=other))
        self.assertEqual(['delta'], self.mine('?visibility=all', token=other))
        self.assertEqual([], self.mine('?visibility=private', token=other))
        self.assertEqual(['bravo'], self.mine('?visibility=private', token=ADMIN))
        self.assertEqual(['delta', 'charlie', 'bravo', 'alpha'],
                         self.mine('?visibility=all'))

    def test_filters(self):
        self.assertEqual(['alpha'], self.mine('?name=alpha'))
        self.assertEqual(['charlie', 'alpha'], self.mine('?name=in:alpha,"charlie"'))
        self.assertEqual(['charlie', 'alpha'], self.mine('?os_distro=debian'))
        self.assertEqual(['delta', 'alpha'], self.mine('?tag=gold'))
        self.assertEqual(['alpha'], self.mine('?tag=gold&visibility=shared'))
        self.assertEqual(['echo'], self.mine('?os_hidden=true'))
        self.assertEqual([], self.mine('?status=active'))
        self.assertEqual(['delta', 'charlie', 'bravo', 'alpha'],
                         self.mine('?status=queued'))
        ids = f'{self.made["alpha"]["id"]},{self.made["bravo"]["id"]}'
        self.assertEqual(['bravo', 'alpha'], self.mine(f'?id=in:{ids}'))
        self.call('GET', '/v2/images?visibility=everyone', status=400)
        self.call('GET', '/v2/images?os_hidden=perhaps', status=400)

    def test_sort_and_paging(self):
        self.assertEqual(['alpha', 'bravo', 'charlie', 'delta'],
                         self.mine('?sort=name:asc'))
        self.assertEqual(['alpha', 'charlie', 'delta', 'bravo'],
                         self.mine('?sort=min_ram:asc,name:asc'))
        self.assertEqual(['delta', 'charlie', 'bravo', 'alpha'],
                         self.mine('?sort_key=name&sort_dir=desc'))
        first = self.call('GET', f'/v2/images?owner={self.project}&sort=name:asc'
                                 f'&limit=2').json
        self.assertEqual(['alpha', 'bravo'], [i['name'] for i in first['images']])
        self.assertIn(f'marker={self.made["bravo"]["id"]}', first['next'])
        self.assertNotIn('marker', first['first'])
        second = self.call('GET', first['next']).json
        self.assertEqual(['charlie', 'delta'], [i['name'] for i in second['images']])
        # A full page has a next link (as Glance); the page after it is empty.
        third = self.call('GET', second['next']).json
        self.assertEqual(([], False), (third['images'], 'next' in third))
        for query, words in [('sort=size:sideways', 'Invalid sort direction'),
                             ('sort=colour:asc', 'Invalid sort key'),
                             ('sort=name&sort_key=name', 'not compatible'),
                             ('limit=-1', 'limit param must be positive'),
                             ('limit=x', 'must be an integer'),
                             (f'marker={uuid.uuid4()}', 'Invalid marker')]:
            resp = self.call('GET', f'/v2/images?{query}', status=400)
            self.assertIn(words, resp.json['message'])


class TestPatch(base.ImageServiceTestCase):

    def test_properties_and_attributes(self):
        kernel, ramdisk = str(uuid.uuid4()), str(uuid.uuid4())
        image = self.create(name='before', custom='x', hypervisor_type='kvm')
        updated = self.patch(image['id'], [
            {'op': 'replace', 'path': '/name', 'value': 'after'},
            {'op': 'add', 'path': '/kernel_id', 'value': kernel},
            {'op': 'add', 'path': '/ramdisk_id', 'value': ramdisk},
            {'op': 'add', 'path': '/architecture', 'value': 'x86_64'},
            {'op': 'replace', 'path': '/hypervisor_type', 'value': 'qemu'},
            {'op': 'replace', 'path': '/min_ram', 'value': 256},
            {'op': 'replace', 'path': '/min_disk', 'value': 2},
            {'op': 'replace', 'path': '/tags', 'value': ['t1']},
            {'op': 'remove', 'path': '/custom'},
            {'op': 'add', 'path': '/odd~1name', 'value': 'slash'}]).json
        self.assertEqual(('after', kernel, ramdisk, 'x86_64', 'qemu', 256, 2, ['t1']),
                         (updated['name'], updated['kernel_id'], updated['ramdisk_id'],
                          updated['architecture'], updated['hypervisor_type'],
                          updated['min_ram'], updated['min_disk'], updated['tags']))
        self.assertNotIn('custom', updated)
        self.assertEqual('slash', updated['odd/name'])
        self.assertEqual(updated, self.show(image['id']))
        # add on an existing property replaces it (RFC 6902), remove then add works.
        again = self.patch(image['id'], [
            {'op': 'add', 'path': '/architecture', 'value': 'aarch64'},
            {'op': 'remove', 'path': '/hypervisor_type'},
            {'op': 'add', 'path': '/hypervisor_type', 'value': 'kvm'}]).json
        self.assertEqual(('aarch64', 'kvm'), (again['architecture'],
                                              again['hypervisor_type']))

    def test_refusals(self):
        image = self.create()
        for ops, status, words in [
                ([{'op': 'remove', 'path': '/name'}], 403, 'may not be removed'),
                ([{'op': 'replace', 'path': '/nothing', 'value': 'x'}], 409,
                 'Property nothing does not exist.'),
                ([{'op': 'remove', 'path': '/nothing'}], 409, 'does not exist'),
                ([{'op': 'replace', 'path': '/status', 'value': 'active'}], 403,
                 'read-only'),
                ([{'op': 'add', 'path': '/locations', 'value': []}], 403, 'reserved'),
                ([{'op': 'replace', 'path': '/min_ram', 'value': 'big'}], 400, 'min_ram'),
                ([{'op': 'move', 'path': '/name'}], 400, 'Invalid operation'),
                ([{'op': 'replace', 'path': '/name'}], 400, 'requires a member named'),
                ([{'op': 'replace', 'path': '/a/b', 'value': 'x'}], 400, 'JSON pointer'),
                ([{'op': 'replace', 'path': 'name', 'value': 'x'}], 400, 'start with'),
                ([{'op': 'replace', 'path': '/visibility', 'value': 'public'}], 403,
                 'publicize_image')]:
            resp = self.patch(image['id'], ops, status=status)
            self.assertIn(words, resp.json['message'], ops)
        # A refused patch changed nothing, even its earlier operations.
        self.patch(image['id'], [{'op': 'replace', 'path': '/name', 'value': 'x'},
                                 {'op': 'remove', 'path': '/nothing'}], status=409)
        self.assertEqual('image', self.show(image['id'])['name'])
        resp = self.call('PATCH', f'/v2/images/{image["id"]}', json=[], status=415)
        self.assertIn('openstack-images-v2.1-json-patch', resp.json['message'])

    def test_who_may_patch(self):
        image = self.create()
        other = f'user:{uuid.uuid4().hex}'
        self.patch(image['id'], [{'op': 'replace', 'path': '/name', 'value': 'x'}],
                   token=other, status=404)
        # The seeded image has no owner: visible to all, changed by admins only.
        self.patch(base.cloud.IMAGE_ID, [{'op': 'add', 'path': '/x', 'value': 'y'}],
                   status=403)
        made_public = self.patch(image['id'], [
            {'op': 'replace', 'path': '/visibility', 'value': 'public'}], token=ADMIN).json
        self.assertEqual('public', made_public['visibility'])
        self.assertEqual('public', self.show(image['id'], token=other)['visibility'])


class TestDelete(base.ImageServiceTestCase):

    def test_delete(self):
        image = self.create()
        self.call('DELETE', f'/v2/images/{image["id"]}',
                  token=f'user:{uuid.uuid4().hex}', status=404)
        self.call('DELETE', f'/v2/images/{image["id"]}', status=204)
        self.call('GET', f'/v2/images/{image["id"]}', status=404)
        self.call('DELETE', f'/v2/images/{image["id"]}', status=404)

    def test_protected_images_stay(self):
        image = self.create(protected=True)
        resp = self.call('DELETE', f'/v2/images/{image["id"]}', status=403)
        self.assertIn('is protected and cannot be deleted', resp.json['message'])
        self.patch(image['id'], [{'op': 'replace', 'path': '/protected', 'value': False}])
        self.call('DELETE', f'/v2/images/{image["id"]}', status=204)

    def test_ownerless_image_is_for_admins(self):
        resp = self.call('DELETE', f'/v2/images/{base.cloud.IMAGE_ID}', status=403)
        self.assertIn('delete_image', resp.json['message'])
