"""python-novaclient against a running Kumo, at its highest microversion (2.96: the
client refuses anything newer), at the one it negotiates by itself, and at 2.1."""
from __future__ import annotations

import datetime
import uuid

from novaclient import api_versions
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc

from tests.clients import base

# novaclient's own ceiling (novaclient.API_MAX_VERSION); Kumo's is 2.100.
NOVACLIENT_MAX = '2.96'


class TestNovaclient(base.KumoClientTestCase):

    def nova(self, version: str = NOVACLIENT_MAX, token: str | None = None):
        return nova_client.Client(version, session=self.session(token),
                                  endpoint_override=self.compute_url)

    def negotiated(self, token: str | None = None):
        """As the `nova` CLI does: start at 2.1, then take the highest version both
        the client and the server speak."""
        nc = self.nova('2.1', token)
        nc.api_version = api_versions.discover_version(
            nc, api_versions.APIVersion('2.latest'))
        return nc

    def boot(self, nc, name: str, **kwargs):
        if nc.api_version >= api_versions.APIVersion('2.37'):
            kwargs.setdefault('nics', 'auto')
        return nc.servers.create(name, base.IMAGE_ID, base.FLAVOR_ID, **kwargs)

    def wait_status(self, nc, server_id: str, status: str):
        """Poll as novaclient users do (`nova boot --poll`): GET until `status`."""
        def reached():
            server = nc.servers.get(server_id)
            if server.status == 'ERROR' and status != 'ERROR':
                self.fail(f'{server_id} went to ERROR: {getattr(server, "fault", None)}')
            return server if server.status == status else None
        return self.wait_for(f'{server_id} to be {status}', reached)

    def wait_gone(self, nc, server_id: str) -> None:
        def gone():
            try:
                nc.servers.get(server_id)
            except nova_exc.NotFound:
                return True
            return False
        self.wait_for(f'{server_id} to be deleted', gone)

    # --- versions --------------------------------------------------------------------
    def test_version_negotiation(self):
        nc = self.nova('2.1')
        current = nc.versions.get_current()
        self.assertEqual('2.100', current.version)
        self.assertEqual('2.1', current.min_version)
        self.assertEqual('CURRENT', current.status)
        self.assertEqual({'v2.0', 'v2.1'}, {v.id for v in nc.versions.list()})
        self.assertEqual(api_versions.APIVersion(NOVACLIENT_MAX),
                         self.negotiated().api_version)

    def test_version_outside_the_servers_range_is_refused(self):
        # Well-formed but above Kumo's maximum: 406, as Nova.
        nc = self.nova('2.1')
        nc.api_version = api_versions.APIVersion('2.101')
        error = self.assertRaises(nova_exc.NotAcceptable, nc.servers.list)
        self.assertIn('Minimum is 2.1 and maximum is 2.100', error.message)

    def test_endpoint_with_project_id(self):
        """Old service catalogs hold /v2.1/{project_id}; links then carry it too."""
        nc = nova_client.Client(NOVACLIENT_MAX, session=self.session(),
                                endpoint_override=f'{self.compute_url}/{self.project}')
        self.assertEqual(api_versions.APIVersion(NOVACLIENT_MAX), api_versions.discover_version(
            nc, api_versions.APIVersion('2.latest')))
        server = self.boot(nc, 'project-url')
        self.wait_status(nc, server.id, 'ACTIVE')
        (listed,) = nc.servers.list()
        self.assertEqual(f'{self.compute_url}/{self.project}/servers/{server.id}',
                         listed.links[0]['href'])
        nc.servers.delete(server)
        self.wait_gone(nc, server.id)

    # --- the whole life of a server, at three microversions --------------------------
    def test_lifecycle_at_novaclient_max(self):
        self._lifecycle(self.nova(NOVACLIENT_MAX))

    def test_lifecycle_at_negotiated_version(self):
        self._lifecycle(self.negotiated())

    def test_lifecycle_at_2_1(self):
        self._lifecycle(self.nova('2.1'))

    def _lifecycle(self, nc) -> None:
        def at_least(version: str) -> bool:
            return nc.api_version >= api_versions.APIVersion(version)

        name = f'nova-{nc.api_version.get_string()}'
        created = self.boot(nc, name, meta={'k': 'v'})
        self.assertTrue(created.adminPass)
        server = self.wait_status(nc, created.id, 'ACTIVE')

        # show
        self.assertEqual(name, server.name)
        self.assertEqual({'k': 'v'}, server.metadata)
        self.assertEqual(self.project, server.tenant_id)
        self.assertEqual('active', getattr(server, 'OS-EXT-STS:vm_state'))
        self.assertEqual(1, getattr(server, 'OS-EXT-STS:power_state'))
        self.assertEqual(base.IMAGE_ID, server.image['id'])
        self.assertEqual(['private'], list(server.networks))
        if at_least('2.47'):
            self.assertEqual(base.FLAVOR_NAME, server.flavor['original_name'])
        else:
            self.assertEqual(base.FLAVOR_ID, server.flavor['id'])
        self.assertEqual(at_least('2.9'), hasattr(server, 'locked'))

        # list: detailed and not, with a name regex and a status
        self.assertEqual([server.id], [s.id for s in nc.servers.list()])
        (plain,) = nc.servers.list(detailed=False)
        self.assertEqual((server.id, name), (plain.id, plain.name))
        self.assertFalse(hasattr(plain, 'status'))
        self.assertEqual([server.id], [s.id for s in nc.servers.list(
            search_opts={'name': '^nova-2', 'status': 'ACTIVE'})])
        self.assertEqual([], nc.servers.list(search_opts={'name': '^other'}))
        self.assertEqual(server.id, nc.servers.find(name=name).id)

        # update
        if at_least('2.19'):
            updated = nc.servers.update(server, name=f'{name}-renamed',
                                        description='from novaclient')
            self.assertEqual('from novaclient', updated.description)
        else:
            updated = nc.servers.update(server, name=f'{name}-renamed')
        self.assertEqual(f'{name}-renamed', updated.name)
        self.assertEqual(f'{name}-renamed', nc.servers.get(server.id).name)

        # actions, through the Server object's own methods
        server = nc.servers.get(server.id)
        for act, status in ((server.stop, 'SHUTOFF'), (server.start, 'ACTIVE'),
                            (server.reboot, 'ACTIVE'),
                            (lambda: server.reboot(reboot_type='HARD'), 'ACTIVE'),
                            (server.pause, 'PAUSED'), (server.unpause, 'ACTIVE'),
                            (server.suspend, 'SUSPENDED'), (server.resume, 'ACTIVE')):
            act()
            self.wait_status(nc, server.id, status)
            self.assertIsNone(getattr(nc.servers.get(server.id), 'OS-EXT-STS:task_state'))
        if at_least('2.73'):
            server.lock(reason='testing')
            self.assertEqual('testing', nc.servers.get(server.id).locked_reason)
        else:
            server.lock()
        if at_least('2.9'):
            self.assertTrue(nc.servers.get(server.id).locked)
        self.assertRaises(nova_exc.Conflict, server.stop)
        self.assertRaises(nova_exc.Conflict, server.delete)
        server.unlock()

        # delete
        server.delete()
        self.wait_gone(nc, server.id)
        self.assertEqual([], nc.servers.list())

    # --- list filters and paging -----------------------------------------------------
    def test_list_filters_sort_and_paging(self):
        nc = self.nova()
        ids = [self.boot(nc, f'page-{n}').id for n in range(5)]
        for server_id in ids:
            self.wait_status(nc, server_id, 'ACTIVE')
        nc.servers.stop(ids[2])
        self.wait_status(nc, ids[2], 'SHUTOFF')
        nc.servers.lock(ids[4])
        by_name = {'sort_keys': ['display_name'], 'sort_dirs': ['asc']}

        def names(servers):
            return [s.name for s in servers]
        self.assertEqual([f'page-{n}' for n in range(5)], names(nc.servers.list(**by_name)))
        self.assertEqual([f'page-{n}' for n in reversed(range(5))], names(nc.servers.list(
            sort_keys=['display_name'], sort_dirs=['desc'])))
        self.assertEqual(['page-2'], names(nc.servers.list(search_opts={'status': 'SHUTOFF'})))
        self.assertEqual(['page-1', 'page-3'], names(nc.servers.list(
            search_opts={'name': 'page-[13]'}, **by_name)))
        self.assertEqual(['page-4'], names(nc.servers.list(search_opts={'locked': True})))
        self.assertEqual(4, len(nc.servers.list(search_opts={'locked': False})))

        # One page, the page after a marker, and novaclient's walk over every page
        # (limit=-1: it follows with the last id as marker until a page is empty).
        self.assertEqual(['page-0', 'page-1'], names(nc.servers.list(limit=2, **by_name)))
        self.assertEqual(['page-2', 'page-3'], names(nc.servers.list(
            limit=2, marker=ids[1], **by_name)))
        self.assertEqual(['page-4'], names(nc.servers.list(limit=2, marker=ids[3], **by_name)))
        self.assertEqual([], nc.servers.list(limit=2, marker=ids[4], **by_name))
        self.assertEqual([f'page-{n}' for n in range(5)], names(nc.servers.list(
            limit=-1, **by_name)))
        self.assertEqual(['page-0', 'page-1'], names(nc.servers.list(
            detailed=False, limit=2, **by_name)))
        self.assertRaises(nova_exc.BadRequest, nc.servers.list, marker=str(uuid.uuid4()))

    def test_all_tenants(self):
        nc = self.nova()
        server = self.boot(nc, 'tenant-scoped')
        admin = self.nova(token='admin:admin')
        self.assertEqual([server.id], [s.id for s in admin.servers.list(
            search_opts={'all_tenants': True, 'project_id': self.project})])
        self.assertRaises(nova_exc.Forbidden, nc.servers.list,
                          search_opts={'all_tenants': True})
        other = self.nova(token=f'someone:{self.project}-other')
        self.assertEqual([], other.servers.list())
        self.assertRaises(nova_exc.NotFound, other.servers.get, server.id)

    # --- errors ----------------------------------------------------------------------
    def test_errors(self):
        nc = self.nova()
        missing = str(uuid.uuid4())
        error = self.assertRaises(nova_exc.NotFound, nc.servers.get, missing)
        self.assertEqual(404, error.code)
        self.assertIn(missing, error.message)
        self.assertTrue(error.request_id.startswith('req-'))
        self.assertRaises(nova_exc.NotFound, nc.servers.delete, missing)
        self.assertRaises(nova_exc.NotFound, nc.servers.stop, missing)
        self.assertRaises(nova_exc.NotFound, nc.servers.update, missing, name='x')

        error = self.assertRaises(nova_exc.BadRequest, nc.servers.create, 'x',
                                  base.IMAGE_ID, 'no-such-flavor', nics='auto')
        self.assertEqual(400, error.code)
        self.assertRaises(nova_exc.BadRequest, nc.servers.create, 'x', str(uuid.uuid4()),
                          base.FLAVOR_ID, nics='auto')
        self.assertEqual([], nc.servers.list())

        server = self.boot(nc, 'conflicts')
        self.wait_status(nc, server.id, 'ACTIVE')
        self.assertRaises(nova_exc.Conflict, nc.servers.start, server)
        self.assertRaises(nova_exc.Conflict, nc.servers.resume, server)

    # --- os-simple-tenant-usage ------------------------------------------------------
    def test_usage_list_and_get(self):
        nc = self.nova()
        ids = set()
        for name in ('used-1', 'used-2'):
            server = self.boot(nc, name)
            self.wait_status(nc, server.id, 'ACTIVE')
            ids.add(server.id)
        start = datetime.datetime.utcnow() - datetime.timedelta(days=1)
        end = start + datetime.timedelta(days=2)

        def mine():
            usage = nc.usage.get(self.project, start, end)
            # Counted once a whole second has passed since launch, as in Nova.
            return usage if len(getattr(usage, 'server_usages', [])) == 2 else None
        usage = self.wait_for('both servers in the usage', mine)
        self.assertEqual(ids, {s['instance_id'] for s in usage.server_usages})
        self.assertEqual({'active'}, {s['state'] for s in usage.server_usages})
        self.assertGreater(usage.total_memory_mb_usage, 0)

        # The admin's list from 2.40, paged as `nova usage-list` pages it: each page's
        # last server is the next page's marker, until a page comes back empty.
        admin = self.nova(token='admin:admin')
        seen, marker = [], None
        for _page in range(100):
            page = admin.usage.list(start, end, detailed=True, limit=1, marker=marker)
            if not page:
                break
            self.assertEqual(1, sum(len(u.server_usages) for u in page))
            seen.extend((u.tenant_id, s['instance_id']) for u in page
                        for s in u.server_usages)
            marker = seen[-1][1]
        self.assertEqual(sorted(seen), seen)
        self.assertEqual(ids, {sid for project, sid in seen if project == self.project})
        self.assertRaises(nova_exc.Forbidden, nc.usage.list, start, end)
        other = self.nova(token=f'someone:{self.project}-other')
        self.assertRaises(nova_exc.Forbidden, other.usage.get, self.project, start, end)
