"""Flavors, flavor extra specs and flavor access end to end: views per microversion
against the samples, who sees which flavor, filters, sorting, paging, management."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from oslo_policy import policy as oslo_policy

from kumo_api import policy
from kumo_common.db import models, session
from tests.fixtures import cloud
from tests.unit.api import api_samples

ADMIN = cloud.ADMIN_TOKEN

# The flavors of Nova's samples beyond the five seeded ones (ids 1..5 are identical).
SAMPLE_FLAVORS = [
    {'name': 'm1.tiny.specs', 'id': '6', 'ram': 512, 'vcpus': 1, 'disk': 1},
    {'name': 'm1.small.description', 'id': '7', 'ram': 2048, 'vcpus': 1, 'disk': 20,
     'description': 'test description'},
]
SAMPLE_SPECS = {'6': {'hw:numa_nodes': '1'},
                '7': {'hw:cpu_policy': 'shared', 'hw:numa_nodes': '1'}}


class FlavorTestCase(cloud.CloudTestCase):
    COMPUTES = 1

    def call(self, method, path, token=ADMIN, version=None, json=None, status=200):
        resp = self.cloud.request(method, '/v2.1' + path, token=token, version=version,
                                  json=json)
        self.assertEqual(status, resp.status_code, resp.get_data(True))
        return resp.json

    def create_flavor(self, version='2.55', **flavor):
        return self.call('POST', '/flavors', version=version, json={'flavor': flavor})['flavor']

    def assert_fault(self, resp_json, code, message):
        self.assertEqual(message, next(iter(resp_json.values()))['message'])
        self.assertEqual(code, next(iter(resp_json.values()))['code'])


class TestFlavorSamples(FlavorTestCase):
    """The flavors of the samples, viewed by a project member at each microversion."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for flavor in SAMPLE_FLAVORS:
            resp = cls.cloud.request('POST', '/v2.1/flavors', token=ADMIN, version='2.55',
                                     json={'flavor': flavor})
            assert resp.status_code == 200, resp.get_data(True)
            resp = cls.cloud.request('POST', f'/v2.1/flavors/{flavor["id"]}/os-extra_specs',
                                     token=ADMIN,
                                     json={'extra_specs': SAMPLE_SPECS[flavor['id']]})
            assert resp.status_code == 200, resp.get_data(True)

    def _compare_list(self, path, version, sample_path):
        sample = api_samples.load(sample_path)
        body = self.call('GET', path, token=self.new_token(), version=version)
        sample_ids = [f['id'] for f in sample['flavors']]
        # The 2.1 samples predate flavor 7; everything else is exactly the samples'.
        self.assertEqual(['1', '2', '3', '4', '5', '6', '7'],
                         [f['id'] for f in body['flavors']])
        mine = {'flavors': [f for f in body['flavors'] if f['id'] in sample_ids]}
        api_samples.assert_like(self, sample, mine)

    def test_list(self):
        for version, sample in [('2.1', 'flavors/flavors-list-resp.json'),
                                ('2.54', 'flavors/flavors-list-resp.json'),
                                ('2.55', 'flavors/v2.55/flavors-list-resp.json'),
                                ('2.61', 'flavors/v2.61/flavors-list-resp.json'),
                                ('2.75', 'flavors/v2.75/flavors-list-resp.json'),
                                ('2.100', 'flavors/v2.75/flavors-list-resp.json')]:
            self._compare_list('/flavors', version, sample)

    def test_detail(self):
        for version, sample in [('2.1', 'flavors/flavors-detail-resp.json'),
                                ('2.55', 'flavors/v2.55/flavors-detail-resp.json'),
                                ('2.60', 'flavors/v2.55/flavors-detail-resp.json'),
                                ('2.61', 'flavors/v2.61/flavors-detail-resp.json'),
                                ('2.74', 'flavors/v2.61/flavors-detail-resp.json'),
                                ('2.75', 'flavors/v2.75/flavors-detail-resp.json'),
                                ('2.100', 'flavors/v2.75/flavors-detail-resp.json')]:
            self._compare_list('/flavors/detail', version, sample)

    def test_show(self):
        for version, flavor_id, sample in [
                ('2.1', '1', 'flavors/flavor-get-resp.json'),
                ('2.55', '7', 'flavors/v2.55/flavor-get-resp.json'),
                ('2.61', '7', 'flavors/v2.61/flavor-get-resp.json'),
                ('2.75', '7', 'flavors/v2.75/flavor-get-resp.json'),
                ('2.100', '7', 'flavors/v2.75/flavor-get-resp.json')]:
            body = self.call('GET', f'/flavors/{flavor_id}', token=self.new_token(),
                             version=version)
            api_samples.assert_like(self, api_samples.load(sample), body)

    def test_extra_specs_samples(self):
        token = self.new_token()
        api_samples.assert_like(
            self, api_samples.load('flavor-extra-specs/flavor-extra-specs-list-resp.json'),
            self.call('GET', '/flavors/7/os-extra_specs', token=token))
        api_samples.assert_like(
            self, api_samples.load('flavor-extra-specs/flavor-extra-specs-get-resp.json'),
            self.call('GET', '/flavors/7/os-extra_specs/hw:numa_nodes', token=token))

    def test_extra_specs_hidden_when_policy_denies_index(self):
        enforcer = policy.get_enforcer()
        enforcer.load_rules()
        enforcer.set_rules(oslo_policy.Rules.from_dict(
            {'os_compute_api:os-flavor-extra-specs:index': '!'}), overwrite=False,
            use_conf=False)
        self.addCleanup(policy.reset)
        body = self.call('GET', '/flavors/7', token=self.new_token(), version='2.75')
        self.assertNotIn('extra_specs', body['flavor'])
        self.assertEqual('test description', body['flavor']['description'])


class TestFlavorManage(FlavorTestCase):

    def test_create_with_generated_id(self):
        flavor = self.create_flavor(name='auto-id', ram=256, vcpus=1, disk=0, version='2.1')
        self.assertRegex(flavor['id'], r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                                       r'[0-9a-f]{4}-[0-9a-f]{12}$')
        shown = self.call('GET', f'/flavors/{flavor["id"]}')['flavor']
        self.assertEqual(flavor, shown)
        self.assertEqual(('', 0, True, 1.0), (flavor['swap'], flavor['disk'],
                                              flavor['os-flavor-access:is_public'],
                                              flavor['rxtx_factor']))

    def test_create_every_field(self):
        flavor = self.create_flavor(
            version='2.61', name='full', id='full-1', ram='1024', vcpus='2', disk='10',
            swap=512, rxtx_factor='2.5', description='all of it',
            **{'OS-FLV-EXT-DATA:ephemeral': 5, 'os-flavor-access:is_public': 'false'})
        self.assertEqual(
            {'id': 'full-1', 'name': 'full', 'ram': 1024, 'vcpus': 2, 'disk': 10,
             'swap': 512, 'rxtx_factor': 2.5, 'description': 'all of it',
             'OS-FLV-EXT-DATA:ephemeral': 5, 'os-flavor-access:is_public': False,
             'OS-FLV-DISABLED:disabled': False, 'extra_specs': {}},
            {k: v for k, v in flavor.items() if k != 'links'})

    def test_numeric_id_becomes_a_string(self):
        flavor = self.create_flavor(name='numeric-id', id=4242, ram=64, vcpus=1, disk=0)
        self.assertEqual('4242', flavor['id'])

    def test_duplicates_conflict(self):
        self.create_flavor(name='dup-name', id='dup-1', ram=64, vcpus=1, disk=0)
        resp = self.call('POST', '/flavors', json={'flavor': {
            'name': 'dup-name', 'id': 'dup-2', 'ram': 64, 'vcpus': 1, 'disk': 0}},
            status=409)
        self.assert_fault(resp, 409, 'Flavor with name dup-name already exists.')
        resp = self.call('POST', '/flavors', json={'flavor': {
            'name': 'other-name', 'id': 'dup-1', 'ram': 64, 'vcpus': 1, 'disk': 0}},
            status=409)
        self.assert_fault(resp, 409, 'Flavor with ID dup-1 already exists.')

    def test_bad_bodies(self):
        for flavor in ({'name': 'x', 'ram': 0, 'vcpus': 1, 'disk': 0},
                       {'name': 'x', 'ram': 64, 'vcpus': 1, 'disk': -1},
                       {'name': ' lead', 'ram': 64, 'vcpus': 1, 'disk': 0},
                       {'name': 'x', 'id': 'bad/id', 'ram': 64, 'vcpus': 1, 'disk': 0},
                       {'name': 'x', 'ram': 64, 'vcpus': 1},
                       {'name': 'x', 'ram': 64, 'vcpus': 1, 'disk': 0, 'rxtx_factor': 0},
                       {'name': 'x', 'ram': '99999999999', 'vcpus': 1, 'disk': 0},
                       {'name': 'x', 'ram': 64, 'vcpus': 1, 'disk': 0, 'description': 'd'}):
            resp = self.cloud.request('POST', '/v2.1/flavors', token=ADMIN, version='2.54',
                                      json={'flavor': flavor})
            self.assertEqual(400, resp.status_code, (flavor, resp.get_data(True)))
        # Nova's own words for a name (its 'name' format) and, quoting Nova's very
        # pattern of printable characters, for a description.
        resp = self.call('POST', '/flavors', json={'flavor': {
            'name': ' lead', 'ram': 64, 'vcpus': 1, 'disk': 0}}, status=400)
        self.assert_fault(resp, 400, "An invalid 'name' value was provided. The name must "
                                     "be: printable characters. Can not start or end with "
                                     "whitespace.")
        resp = self.call('POST', '/flavors', version='2.55', json={'flavor': {
            'name': 'x', 'ram': 64, 'vcpus': 1, 'disk': 0, 'description': 'bad\x01'}},
            status=400)
        message = resp['badRequest']['message']
        self.assertTrue(message.startswith(
            "Invalid input for field/attribute flavor/description. Value: bad\x01. "
            "'bad\\x01' does not match '^[\\\\ -\\\\~\\xa0-\xac\xae-\u0377\u037a-"), message)
        self.assertTrue(message.endswith("\ufffc-\ufffd]*$'"), message)

    def test_only_admins_manage(self):
        token = self.new_token()
        resp = self.call('POST', '/flavors', token=token, json={'flavor': {
            'name': 'nope', 'ram': 64, 'vcpus': 1, 'disk': 0}}, status=403)
        self.assert_fault(resp, 403, "Policy doesn't allow "
                                     'os_compute_api:os-flavor-manage:create to be performed.')
        self.call('DELETE', '/flavors/1', token=token, status=403)
        self.call('PUT', '/flavors/1', token=token, version='2.55',
                  json={'flavor': {'description': 'x'}}, status=403)

    def test_update_description(self):
        self.create_flavor(name='describe-me', id='describe', ram=64, vcpus=1, disk=0)
        # No such API before 2.55.
        self.call('PUT', '/flavors/describe', version='2.54',
                  json={'flavor': {'description': 'x'}}, status=404)
        body = self.call('PUT', '/flavors/describe', version='2.75',
                         json={'flavor': {'description': 'now described'}})
        self.assertEqual('now described', body['flavor']['description'])
        self.assertEqual({}, body['flavor']['extra_specs'])
        self.assertEqual(0, body['flavor']['swap'])
        self.call('PUT', '/flavors/describe', version='2.55',
                  json={'flavor': {'description': None}})
        self.assertIsNone(self.call('GET', '/flavors/describe',
                                    version='2.55')['flavor']['description'])
        self.call('PUT', '/flavors/describe', version='2.55',
                  json={'flavor': {'name': 'renamed'}}, status=400)
        self.call('PUT', '/flavors/nope', version='2.55',
                  json={'flavor': {'description': 'x'}}, status=404)

    def test_delete_keeps_servers_flavor(self):
        """Deleting a flavor in use: gone from the API, kept in the server's 2.47 view."""
        self.create_flavor(name='short-lived', id='short', ram=128, vcpus=1, disk=1)
        token = self.new_token()
        server = self.cloud.create_server(token=token, flavorRef='short')
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        self.call('DELETE', '/flavors/short', status=202)
        resp = self.call('GET', '/flavors/short', status=404)
        self.assert_fault(resp, 404, 'Flavor short could not be found.')
        self.call('DELETE', '/flavors/short', status=404)
        view = self.cloud.get_server(server['id'], token=token, version='2.47')
        self.assertEqual({'vcpus': 1, 'ram': 128, 'disk': 1, 'ephemeral': 0, 'swap': 0,
                          'original_name': 'short-lived', 'extra_specs': {}},
                         view['flavor'])


class TestFlavorAccess(FlavorTestCase):

    def setUp(self):
        super().setUp()
        self.owner = self.new_token()
        self.owner_project = self.owner.split(':')[1]
        self.other = self.new_token()
        self.flavor_id = f"private-{uuid.uuid4().hex[:8]}"
        self.create_flavor(name=self.flavor_id, id=self.flavor_id, ram=128, vcpus=1,
                           disk=1, **{'os-flavor-access:is_public': False})

    def _visible(self, token, path='/flavors'):
        return [f['id'] for f in self.call('GET', path, token=token)['flavors']]

    def test_private_flavor_only_for_projects_given_access(self):
        for token in (self.owner, self.other):
            self.assertNotIn(self.flavor_id, self._visible(token))
            self.assertNotIn(self.flavor_id, self._visible(token, '/flavors/detail'))
            self.call('GET', f'/flavors/{self.flavor_id}', token=token, status=404)
        body = self.call('POST', f'/flavors/{self.flavor_id}/action',
                         json={'addTenantAccess': {'tenant': self.owner_project}})
        self.assertEqual({'flavor_access': [{'flavor_id': self.flavor_id,
                                             'tenant_id': self.owner_project}]}, body)
        self.assertIn(self.flavor_id, self._visible(self.owner))
        self.assertIn(self.flavor_id, self._visible(self.owner, '/flavors/detail'))
        self.call('GET', f'/flavors/{self.flavor_id}', token=self.owner)
        # Another project's private flavor stays invisible, even by id.
        self.assertNotIn(self.flavor_id, self._visible(self.other))
        self.call('GET', f'/flavors/{self.flavor_id}', token=self.other, status=404)
        self.call('GET', f'/flavors/{self.flavor_id}/os-extra_specs', token=self.other,
                  status=404)
        self.call('POST', f'/flavors/{self.flavor_id}/action',
                  json={'removeTenantAccess': {'tenant': self.owner_project}})
        self.assertNotIn(self.flavor_id, self._visible(self.owner))

    def test_booting_needs_access(self):
        resp = self.cloud.request('POST', '/v2.1/servers', token=self.owner, version='2.37',
                                  json={'server': {'name': 'vm', 'flavorRef': self.flavor_id,
                                                   'imageRef': cloud.IMAGE_ID,
                                                   'networks': 'auto'}})
        self.assertEqual(400, resp.status_code)
        self.assert_fault(resp.json, 400, 'Invalid flavorRef provided.')
        self.call('POST', f'/flavors/{self.flavor_id}/action',
                  json={'addTenantAccess': {'tenant': self.owner_project}})
        server = self.cloud.create_server(token=self.owner, flavorRef=self.flavor_id)
        self.cloud.wait_for_status(server['id'], 'ACTIVE')
        # Admins may boot any flavor.
        self.cloud.create_server(token=ADMIN, flavorRef=self.flavor_id)

    def test_access_list_is_admin_only_and_private_only(self):
        self.call('GET', f'/flavors/{self.flavor_id}/os-flavor-access', token=self.owner,
                  status=403)
        self.assertEqual({'flavor_access': []},
                         self.call('GET', f'/flavors/{self.flavor_id}/os-flavor-access'))
        resp = self.call('GET', '/flavors/1/os-flavor-access', status=404)
        self.assert_fault(resp, 404, 'Access list not available for public flavors.')
        self.call('POST', f'/flavors/{self.flavor_id}/action', token=self.owner,
                  json={'addTenantAccess': {'tenant': self.owner_project}}, status=403)

    def test_action_errors(self):
        action = f'/flavors/{self.flavor_id}/action'
        self.call('POST', action, json={'addTenantAccess': {'tenant': 'p1'}})
        resp = self.call('POST', action, json={'addTenantAccess': {'tenant': 'p1'}},
                         status=409)
        # As Nova's, the messages name the flavor's row id, not its flavor id.
        with session.reader() as s:
            row_id = s.scalars(sa.select(models.Flavor.id).where(
                models.Flavor.flavorid == self.flavor_id)).one()
        self.assert_fault(resp, 409, f'Flavor access already exists for flavor '
                                     f'{row_id} and project p1 combination.')
        resp = self.call('POST', action, json={'removeTenantAccess': {'tenant': 'p2'}},
                         status=404)
        self.assert_fault(resp, 404, f'Flavor access not found for {row_id} / '
                                     'p2 combination.')
        resp = self.call('POST', action, json={'fooAccess': {'tenant': 'p2'}}, status=400)
        self.assert_fault(resp, 400, 'There is no such action: fooAccess')
        self.call('POST', action, json={'addTenantAccess': {}}, status=400)
        self.call('POST', action, json={'addTenantAccess': {'tenant': 'a'},
                                        'removeTenantAccess': {'tenant': 'a'}}, status=400)
        self.call('POST', '/flavors/nope/action',
                  json={'addTenantAccess': {'tenant': 'a'}}, status=404)

    def test_public_flavor_access_by_microversion(self):
        resp = self.call('POST', '/flavors/2/action', version='2.7',
                         json={'addTenantAccess': {'tenant': 'p1'}}, status=409)
        self.assert_fault(resp, 409, 'Can not add access to a public flavor.')
        # Before 2.7 it was stored (and changes nothing: the flavor is public).
        self.call('POST', '/flavors/2/action', version='2.6',
                  json={'addTenantAccess': {'tenant': 'p1'}})

    def test_samples(self):
        # The samples' flavor "10", given to the samples' project.
        request = api_samples.load('flavor-access/flavor-create-req.json')
        request['flavor']['id'] = '10'
        self.call('POST', '/flavors', json=request)
        tenant = api_samples.SAMPLE_PROJECT
        body = self.call('POST', '/flavors/10/action',
                         json={'addTenantAccess': {'tenant': tenant}})
        api_samples.assert_like(
            self, api_samples.load('flavor-access/flavor-access-add-tenant-resp.json'), body)
        api_samples.assert_like(
            self, api_samples.load('flavor-access/flavor-access-list-resp.json'),
            self.call('GET', '/flavors/10/os-flavor-access'))
        api_samples.assert_like(
            self, api_samples.load('flavor-access/flavor-access-remove-tenant-resp.json'),
            self.call('POST', '/flavors/10/action',
                      json={'removeTenantAccess': {'tenant': tenant}}))


class TestFlavorListing(FlavorTestCase):
    """Filters, sorting and paging over the seeded flavors plus two private ones."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for name, public in (('p-granted', False), ('p-hidden', False)):
            resp = cls.cloud.request('POST', '/v2.1/flavors', token=ADMIN, json={'flavor': {
                'name': name, 'id': name, 'ram': 1, 'vcpus': 1, 'disk': 0,
                'os-flavor-access:is_public': public}})
            assert resp.status_code == 200, resp.get_data(True)
        # The admin's own project ("admin") was given one of them.
        resp = cls.cloud.request('POST', '/v2.1/flavors/p-granted/action', token=ADMIN,
                                 json={'addTenantAccess': {'tenant': 'admin'}})
        assert resp.status_code == 200, resp.get_data(True)

    def ids(self, query='', token=ADMIN, version=None, path='/flavors'):
        return [f['id'] for f in self.call('GET', path + query, token=token,
                                           version=version)['flavors']]

    def test_is_public_for_admins(self):
        self.assertEqual(['1', '2', '3', '4', '5', 'p-granted'], self.ids())
        self.assertEqual(['1', '2', '3', '4', '5', 'p-granted'], self.ids('?is_public=yes'))
        self.assertEqual(['p-granted', 'p-hidden'], self.ids('?is_public=false'))
        self.assertEqual(['p-granted', 'p-hidden'], self.ids('?is_public=0'))
        self.assertEqual(['1', '2', '3', '4', '5', 'p-granted', 'p-hidden'],
                         self.ids('?is_public=None'))
        resp = self.call('GET', '/flavors?is_public=maybe', status=400)
        self.assert_fault(resp, 400, 'Invalid is_public filter [maybe]')

    def test_is_public_ignored_for_others(self):
        token = self.new_token()
        for query in ('', '?is_public=false', '?is_public=none', '?is_public=maybe'):
            self.assertEqual(['1', '2', '3', '4', '5'], self.ids(query, token=token))

    def test_disabled_flavors_hidden_from_non_admins(self):
        with session.transaction() as s:
            s.execute(sa.update(models.Flavor).where(models.Flavor.flavorid == '5')
                      .values(disabled=True))
        self.addCleanup(self._enable, '5')
        self.assertEqual(['1', '2', '3', '4'], self.ids(token=self.new_token()))
        self.assertIn('5', self.ids())
        # Still shown by id, as Nova.
        self.call('GET', '/flavors/5', token=self.new_token())

    @staticmethod
    def _enable(flavorid):
        with session.transaction() as s:
            s.execute(sa.update(models.Flavor).where(models.Flavor.flavorid == flavorid)
                      .values(disabled=False))

    def test_min_ram_and_disk(self):
        self.assertEqual(['3', '4', '5'], self.ids('?minRam=4096'))
        self.assertEqual(['4', '5'], self.ids('?minDisk=80', path='/flavors/detail'))
        self.assertEqual(['4'], self.ids('?minRam=4097&minDisk=1&limit=1'))
        resp = self.call('GET', '/flavors?minRam=big', status=400)
        self.assert_fault(resp, 400, 'Invalid minRam filter [big]')
        self.call('GET', '/flavors?minDisk=1.5', status=400)

    def test_sorting(self):
        self.assertEqual(['5', '4', '3', '2', '1', 'p-granted'],
                         self.ids('?sort_key=memory_mb&sort_dir=desc'))
        self.assertEqual(['4', '3', '2', '1', '5', 'p-granted'],
                         self.ids('?sort_key=name'))
        resp = self.call('GET', '/flavors?sort_key=ram', status=400)
        self.assertIn('sort_key', resp['badRequest']['message'])
        self.call('GET', '/flavors?sort_dir=up', status=400)

    def test_paging(self):
        body = self.call('GET', '/flavors/detail?limit=2&sort_key=flavorid')
        self.assertEqual(['1', '2'], [f['id'] for f in body['flavors']])
        self.assertEqual('next', body['flavors_links'][0]['rel'])
        self.assertEqual((True, 'flavors/detail', [('limit', '2'), ('marker', '2'),
                                                   ('sort_key', 'flavorid')]),
                         api_samples.link_target(body['flavors_links'][0]['href']))
        self.assertEqual(['3', '4'], self.ids('?limit=2&marker=2'))
        self.assertEqual(['5', 'p-granted'], self.ids('?limit=2&marker=4'))
        last = self.call('GET', '/flavors?limit=2&marker=p-granted')
        self.assertEqual({'flavors': []}, last)
        # No link on a page that is not full.
        self.assertNotIn('flavors_links', self.call('GET', '/flavors?limit=10'))
        resp = self.call('GET', '/flavors?marker=nope', status=400)
        self.assert_fault(resp, 400, 'marker [nope] not found')
        # Another project cannot page from a private flavor it cannot see.
        self.call('GET', '/flavors?marker=p-hidden', token=self.new_token(), status=400)
        self.call('GET', '/flavors?limit=-1', status=400)

    def test_unknown_query_parameters(self):
        self.assertEqual(['1', '2', '3', '4', '5', 'p-granted'],
                         self.ids('?foo=bar', version='2.74'))
        self.call('GET', '/flavors?foo=bar', version='2.75', status=400)
        self.call('GET', '/flavors/detail?foo=bar', version='2.75', status=400)


class TestExtraSpecs(FlavorTestCase):

    def setUp(self):
        super().setUp()
        self.flavor_id = f"specs-{uuid.uuid4().hex[:8]}"
        self.create_flavor(name=self.flavor_id, id=self.flavor_id, ram=64, vcpus=1, disk=0)
        self.base = f'/flavors/{self.flavor_id}/os-extra_specs'

    def test_crud_as_the_samples(self):
        request = api_samples.load('flavor-extra-specs/flavor-extra-specs-create-req.json')
        body = self.call('POST', self.base, json=request)
        api_samples.assert_like(
            self, api_samples.load('flavor-extra-specs/flavor-extra-specs-create-resp.json'),
            body)
        request = api_samples.load('flavor-extra-specs/flavor-extra-specs-update-req.json')
        body = self.call('PUT', self.base + '/hw:numa_nodes', json=request)
        api_samples.assert_like(
            self, api_samples.load('flavor-extra-specs/flavor-extra-specs-update-resp.json'),
            body)
        self.assertEqual({'extra_specs': {'hw:cpu_policy': 'shared', 'hw:numa_nodes': '2'}},
                         self.call('GET', self.base))
        resp = self.cloud.request('DELETE', '/v2.1' + self.base + '/hw:cpu_policy',
                                  token=ADMIN)
        self.assertEqual((200, b''), (resp.status_code, resp.data))
        self.assertEqual({'extra_specs': {'hw:numa_nodes': '2'}}, self.call('GET', self.base))
        flavor = self.call('GET', f'/flavors/{self.flavor_id}', version='2.61')['flavor']
        self.assertEqual({'hw:numa_nodes': '2'}, flavor['extra_specs'])

    def test_numbers_are_stored_as_strings(self):
        body = self.call('POST', self.base, json={'extra_specs': {'quota:cpu_shares': 1024}})
        self.assertEqual({'extra_specs': {'quota:cpu_shares': 1024}}, body)
        self.assertEqual({'quota:cpu_shares': '1024'},
                         self.call('GET', self.base + '/quota:cpu_shares'))

    def test_errors(self):
        resp = self.call('GET', self.base + '/nope', status=404)
        self.assert_fault(resp, 404, f'Flavor {self.flavor_id} has no extra specs with key '
                                     'nope.')
        self.call('DELETE', self.base + '/nope', status=404)
        resp = self.call('PUT', self.base + '/hw:a', json={'hw:b': '1'}, status=400)
        self.assert_fault(resp, 400, 'Request body and URI mismatch')
        self.call('PUT', self.base + '/hw:a', json={'hw:a': '1', 'hw:b': '1'}, status=400)
        self.call('POST', self.base, json={'extra_specs': {'bad/key': '1'}}, status=400)
        self.call('POST', self.base, json={'extra_specs': {'k': 'v' * 256}}, status=400)
        resp = self.call('POST', self.base, json={'extra_specs': {'k': int('9' * 256)}},
                         status=400)
        self.assert_fault(resp, 400, 'extra_specs value has 256 characters, more than 255.')
        self.call('POST', self.base, json={'specs': {}}, status=400)
        self.call('GET', '/flavors/nope/os-extra_specs', status=404)

    def test_policy(self):
        token = self.new_token()
        self.call('POST', self.base, json={'extra_specs': {'a': 'b'}})
        # Readers (every project member) read; only admins write.
        self.assertEqual({'extra_specs': {'a': 'b'}}, self.call('GET', self.base, token=token))
        self.assertEqual({'a': 'b'}, self.call('GET', self.base + '/a', token=token))
        resp = self.call('POST', self.base, token=token, json={'extra_specs': {'a': 'c'}},
                         status=403)
        self.assert_fault(resp, 403, "Policy doesn't allow "
                                     'os_compute_api:os-flavor-extra-specs:create to be '
                                     'performed.')
        self.call('PUT', self.base + '/a', token=token, json={'a': 'c'}, status=403)
        self.call('DELETE', self.base + '/a', token=token, status=403)

    def test_validation_from_2_86(self):
        # Every namespace is covered by test_flavor_extra_spec_validation.
        bad = {'extra_specs': {'hw:cpu_policy': 'sometimes'}}
        resp = self.call('POST', self.base, version='2.86', json=bad, status=400)
        self.assert_fault(resp, 400, "Validation failed; 'sometimes' is not one of: "
                                     "dedicated, shared, mixed.")
        for spec in ({'hw:numa_nodes': '0'}, {'hw:numa_nodes': 'two'},
                     {'resources:VCPU': 'x'}, {'trait:HW_CPU_X86_AVX': 'maybe'},
                     {'hw_rng:allowed': 'perhaps'}, {'hw:not_a_key': 'x'}):
            self.call('POST', self.base, version='2.100', json={'extra_specs': spec},
                      status=400)
        self.call('PUT', self.base + '/hw:numa_nodes', version='2.86',
                  json={'hw:numa_nodes': 'x'}, status=400)
        # Before 2.86 anything goes; from 2.86 keys outside Nova's namespaces pass.
        self.call('POST', self.base, version='2.85', json=bad)
        self.call('POST', self.base, version='2.86', json={'extra_specs': {
            'hw:cpu_policy': 'dedicated', 'hw:numa_nodes': 2,
            'resources1:CUSTOM_GPU': '1', 'trait:HW_CPU_X86_AVX': 'required',
            'hw_rng:allowed': 'True', 'my:own': 'thing'}})
