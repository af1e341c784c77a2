"""openstacksdk against a running Kumo: discovery, create, list, show, update, actions,
delete and errors, through the SDK's own proxy methods, as a user of Nova would."""
from __future__ import annotations

import urllib.parse
import uuid

import openstack
from openstack import exceptions as sdk_exc
from openstack import utils as sdk_utils

from tests.clients import base


class TestOpenStackSDK(base.KumoClientTestCase):

    def setUp(self):
        super().setUp()
        self.conn = self.connect()
        self.compute = self.conn.compute

    def boot(self, name: str, wait: bool = True, **kwargs):
        server = self.compute.create_server(
            name=name, flavor_id=base.FLAVOR_ID, image_id=base.IMAGE_ID,
            networks=kwargs.pop('networks', 'auto'), **kwargs)
        if wait:
            server = self.wait(server)
        return server

    def wait(self, server, status: str = 'ACTIVE'):
        return self.compute.wait_for_server(server, status=status, interval=base.POLL,
                                            wait=base.TIMEOUT)

    # --- discovery -------------------------------------------------------------------
    def test_version_discovery(self):
        data = self.compute.get_endpoint_data()
        self.assertEqual((2, 1), data.min_microversion)
        self.assertEqual((2, 100), data.max_microversion)
        self.assertEqual(f'{self.compute_url}/', data.service_url)
        self.assertEqual('2.100', sdk_utils.maximum_supported_microversion(
            self.compute, '2.100'))
        # Asking for more than the server speaks settles on the server's maximum.
        self.assertEqual('2.100', sdk_utils.maximum_supported_microversion(
            self.compute, '2.200'))

    def test_version_discovery_from_root(self):
        """`GET /` (the versions list) as the unversioned endpoint of a catalog."""
        conn = openstack.connect(
            auth_type='admin_token', auth={'endpoint': self.endpoint, 'token': self.token},
            load_yaml_config=False, load_envvars=False)
        self.addCleanup(conn.close)
        data = conn.compute.get_endpoint_data()
        self.assertEqual((2, 100), data.max_microversion)
        self.assertEqual((2, 1), data.min_microversion)
        self.assertEqual(f'{self.compute_url}/', data.service_url)

    def test_connect_with_admin_token_config(self):
        """openstack.connect() with the settings a clouds.yaml would hold."""
        conn = openstack.connect(
            auth_type='admin_token', auth={'endpoint': self.compute_url, 'token': self.token},
            compute_api_version='2.100', load_yaml_config=False, load_envvars=False)
        self.addCleanup(conn.close)
        server = conn.compute.create_server(name='via-connect', flavor_id=base.FLAVOR_ID,
                                            image_id=base.IMAGE_ID, networks='none')
        conn.compute.wait_for_server(server, interval=base.POLL, wait=base.TIMEOUT)
        self.assertEqual(['via-connect'], [s.name for s in conn.compute.servers()])

    # --- create and show -------------------------------------------------------------
    def test_create_and_show(self):
        created = self.compute.create_server(
            name='sdk-show', flavor_id=base.FLAVOR_ID, image_id=base.IMAGE_ID,
            networks='auto', metadata={'purpose': 'test'}, description='made by the SDK')
        self.assertTrue(created.admin_password)
        self.assertTrue(uuid.UUID(created.id))
        server = self.wait(created)
        self.assertEqual('ACTIVE', server.status)

        shown = self.compute.get_server(created.id)
        self.assertEqual('sdk-show', shown.name)
        self.assertEqual('made by the SDK', shown.description)
        self.assertEqual({'purpose': 'test'}, shown.metadata)
        self.assertEqual(self.project, shown.project_id)
        self.assertEqual(1, shown.power_state)
        self.assertEqual('active', shown.vm_state)
        self.assertIsNone(shown.task_state)
        self.assertEqual('sdk-show', shown.hostname)
        self.assertFalse(shown.is_locked)
        self.assertEqual({}, shown.scheduler_hints)  # 2.100: the SDK negotiated it
        self.assertEqual(base.IMAGE_ID, shown.image.id)
        self.assertEqual(base.FLAVOR_NAME, shown.flavor.original_name)
        self.assertEqual(512, shown.flavor.ram)
        self.assertEqual(1, shown.flavor.vcpus)
        self.assertEqual(['private'], list(shown.addresses))
        (address,) = shown.addresses['private']
        self.assertEqual(4, address['version'])
        self.assertTrue(address['addr'].startswith('10.0.0.'), address)
        self.assertTrue(shown.host_id)
        self.assertIsNotNone(shown.launched_at)
        # Admin-only attributes stay hidden from a member...
        self.assertIsNone(shown.compute_host)
        # ...and an admin sees them.
        admin = self.connect('admin:admin').compute.get_server(created.id)
        self.assertIn(admin.compute_host, self.stack.compute_hosts)
        self.assertEqual(admin.compute_host, admin.hypervisor_hostname)

    def test_find_server_by_name_and_id(self):
        server = self.boot('findable', wait=False)
        self.assertEqual(server.id, self.compute.find_server('findable').id)
        self.assertEqual(server.id, self.compute.find_server(server.id).id)
        self.assertIsNone(self.compute.find_server('no-such-server'))
        self.assertRaises(sdk_exc.NotFoundException, self.compute.find_server,
                          'no-such-server', ignore_missing=False)

    def test_create_without_networks_at_2_100_is_bad_request(self):
        # networks is required from 2.37; the SDK sends what it is given.
        error = self.assertRaises(
            sdk_exc.BadRequestException, self.compute.create_server, name='x',
            flavor_id=base.FLAVOR_ID, image_id=base.IMAGE_ID)
        self.assertIn('networks', str(error))

    def test_bad_flavor_and_image_are_bad_requests(self):
        self.assertRaises(sdk_exc.BadRequestException, self.compute.create_server,
                          name='x', flavor_id='no-such-flavor', image_id=base.IMAGE_ID,
                          networks='auto')
        self.assertRaises(sdk_exc.BadRequestException, self.compute.create_server,
                          name='x', flavor_id=base.FLAVOR_ID, image_id=str(uuid.uuid4()),
                          networks='auto')
        self.assertEqual([], list(self.compute.servers()))

    def test_missing_server_is_not_found(self):
        missing = str(uuid.uuid4())
        self.assertRaises(sdk_exc.NotFoundException, self.compute.get_server, missing)
        self.assertRaises(sdk_exc.NotFoundException, self.compute.update_server,
                          missing, name='x')
        self.assertRaises(sdk_exc.NotFoundException, self.compute.stop_server, missing)
        self.assertRaises(sdk_exc.NotFoundException, self.compute.delete_server, missing,
                          ignore_missing=False)
        self.assertIsNone(self.compute.delete_server(missing))  # ignore_missing=True

    def test_other_projects_servers_are_not_found(self):
        server = self.boot('mine', wait=False)
        other = self.connect(f'someone:{self.project}-other').compute
        self.assertRaises(sdk_exc.NotFoundException, other.get_server, server.id)
        self.assertEqual([], list(other.servers()))
        self.assertRaises(sdk_exc.ForbiddenException, list,
                          other.servers(all_projects=True))
        admin = self.connect('admin:admin').compute
        self.assertIn(server.id, [s.id for s in admin.servers(all_projects=True,
                                                              project_id=self.project)])

    # --- list ------------------------------------------------------------------------
    def test_list_filters_and_sort(self):
        servers = {name: self.boot(name, wait=False)
                   for name in ('web-1', 'web-2', 'db-1')}
        for server in servers.values():
            self.wait(server)
        self.compute.stop_server(servers['web-2'])
        self.wait(servers['web-2'], 'SHUTOFF')

        detailed = list(self.compute.servers())
        self.assertEqual(3, len(detailed))
        self.assertTrue(all(s.status for s in detailed))
        plain = list(self.compute.servers(details=False))
        self.assertEqual({s.id for s in detailed}, {s.id for s in plain})
        self.assertTrue(all(s.status is None for s in plain))

        def names(**query):
            return [s.name for s in self.compute.servers(**query)]
        self.assertEqual({'web-1', 'web-2'}, set(names(name='^web-')))
        self.assertEqual(['db-1'], names(name='db'))
        self.assertEqual(['web-2'], names(status='SHUTOFF'))
        self.assertEqual({'web-1', 'db-1'}, set(names(status='ACTIVE')))
        self.assertEqual(['web-1'], names(name='^web', status='ACTIVE'))
        self.assertEqual(['db-1', 'web-1', 'web-2'],
                         names(sort_key='display_name', sort_dir='asc'))
        self.assertEqual(['web-2', 'web-1', 'db-1'],
                         names(sort_key='display_name', sort_dir='desc'))
        # `id` (the uuid filter) is an admin-only filter in Nova: a member's is dropped.
        self.assertEqual(3, len(list(self.compute.servers(id=servers['db-1'].id))))
        admin = self.connect('admin:admin').compute
        self.assertEqual([servers['db-1'].id], [s.id for s in admin.servers(
            all_projects=True, id=servers['db-1'].id)])

    def test_paging_follows_servers_links(self):
        made = [self.boot(f'page-{n}', wait=False) for n in range(5)]
        for server in made:
            self.wait(server)
        order = {'sort_key': 'display_name', 'sort_dir': 'asc'}

        sent = self.record_requests(self.conn.session)
        paged = [s.name for s in self.compute.servers(limit=2, **order)]
        self.assertEqual([f'page-{n}' for n in range(5)], paged)
        lists = [r for r in sent if '/servers/detail' in r.url]
        # Pages of 2, 2 and 1; the full ones carry a "next" link, whose marker
        # the SDK sends. After the short page the SDK tries once more by itself
        # (its own heuristic for APIs without links) and gets an empty page.
        self.assertEqual([2, 2, 1, 0], [len(r.json()['servers']) for r in lists])
        nexts = [r.json().get('servers_links', []) for r in lists]
        self.assertEqual([['next'], ['next'], [], []],
                         [[link['rel'] for link in n] for n in nexts])
        for page, following in ((0, 1), (1, 2)):
            href = urllib.parse.urlparse(nexts[page][0]['href'])
            self.assertEqual(urllib.parse.urlparse(self.compute_url).netloc, href.netloc)
            self.assertEqual('/v2.1/servers/detail', href.path)
            sent_query = urllib.parse.parse_qs(urllib.parse.urlparse(
                lists[following].url).query)
            self.assertEqual(urllib.parse.parse_qs(href.query), sent_query)
        self.assertEqual([made[1].id], urllib.parse.parse_qs(
            urllib.parse.urlparse(lists[1].url).query)['marker'])

        # One page only, and a page after a marker.
        first = list(self.compute.servers(limit=2, paginated=False, **order))
        self.assertEqual(['page-0', 'page-1'], [s.name for s in first])
        after = list(self.compute.servers(limit=2, marker=first[-1].id, paginated=False,
                                          **order))
        self.assertEqual(['page-2', 'page-3'], [s.name for s in after])
        # max_items stops early, in the SDK.
        self.assertEqual(3, len(list(self.compute.servers(max_items=3, **order))))

    def test_unknown_marker_is_bad_request(self):
        self.assertRaises(sdk_exc.BadRequestException, list,
                          self.compute.servers(marker=str(uuid.uuid4())))

    # --- update ----------------------------------------------------------------------
    def test_update_name_and_description(self):
        server = self.boot('before', wait=False)
        updated = self.compute.update_server(server, name='after',
                                             description='changed by the SDK')
        self.assertEqual('after', updated.name)
        self.assertEqual('changed by the SDK', updated.description)
        shown = self.compute.get_server(server.id)
        self.assertEqual('after', shown.name)
        self.assertEqual('changed by the SDK', shown.description)
        self.assertEqual(['after'], [s.name for s in self.compute.servers(name='^after$')])

    # --- actions ---------------------------------------------------------------------
    def test_power_actions(self):
        server = self.boot('actions')
        steps = [
            (self.compute.stop_server, 'SHUTOFF', 4),
            (self.compute.start_server, 'ACTIVE', 1),
            (lambda s: self.compute.reboot_server(s, 'SOFT'), 'ACTIVE', 1),
            (lambda s: self.compute.reboot_server(s, 'HARD'), 'ACTIVE', 1),
            (self.compute.pause_server, 'PAUSED', 3),
            (self.compute.unpause_server, 'ACTIVE', 1),
            (self.compute.suspend_server, 'SUSPENDED', 7),
            (self.compute.resume_server, 'ACTIVE', 1),
        ]
        for action, status, power_state in steps:
            action(server)
            # wait_for_server returns at once if the object in hand already has the
            # status (it does after a reboot), so look at the server afresh first.
            server = self.wait(self.compute.get_server(server.id), status)
            self.assertIsNone(server.task_state, status)
            self.assertEqual(power_state, server.power_state, status)

    def test_action_in_wrong_state_is_conflict(self):
        server = self.boot('conflict')
        self.assertRaises(sdk_exc.ConflictException, self.compute.start_server, server)
        self.assertRaises(sdk_exc.ConflictException, self.compute.unpause_server, server)

    def test_lock_and_unlock(self):
        server = self.boot('locked')
        self.compute.lock_server(server, locked_reason='maintenance')
        shown = self.compute.get_server(server)
        self.assertTrue(shown.is_locked)
        self.assertEqual('maintenance', shown.locked_reason)
        self.assertEqual([server.id], [s.id for s in self.compute.servers(locked=True)])
        # A locked server refuses changes from its (non-admin) owner.
        self.assertRaises(sdk_exc.ConflictException, self.compute.stop_server, server)
        self.assertRaises(sdk_exc.ConflictException, self.compute.delete_server, server)
        self.compute.unlock_server(server)
        shown = self.compute.get_server(server)
        self.assertFalse(shown.is_locked)
        self.assertIsNone(shown.locked_reason)
        self.compute.stop_server(server)
        self.wait(server, 'SHUTOFF')

    # --- delete ----------------------------------------------------------------------
    def test_delete_and_wait_until_gone(self):
        server = self.boot('doomed')
        self.assertIsNone(self.compute.delete_server(server))
        self.compute.wait_for_delete(server, interval=base.POLL, wait=base.TIMEOUT)
        self.assertRaises(sdk_exc.NotFoundException, self.compute.get_server, server.id)
        self.assertEqual([], list(self.compute.servers()))
        # A deleted server is still listed by changes-since (as Nova), DELETED.
        gone = list(self.compute.servers(changes_since='2000-01-01T00:00:00Z'))
        self.assertEqual([(server.id, 'DELETED')], [(s.id, s.status) for s in gone])
