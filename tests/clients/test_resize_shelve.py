"""resize / confirmResize / revertResize, shelve / shelveOffload / unshelve and the
migration lists, driven by the real clients: the `openstack` CLI, openstacksdk and
python-novaclient, against one kumo-all with two fake computes.

What the CLI calls, at the microversion it negotiates (OS_COMPUTE_API_VERSION 2.100;
the SDK caps each resource at its own maximum):
  server resize --flavor F --wait   POST /servers/{id}/action {"resize"}, then polls
                                    GET /servers/{id} until ACTIVE or VERIFY_RESIZE
  server resize confirm|revert      POST /servers/{id}/action {"confirmResize"|...}
  server migration list             GET /os-migrations (SDK Migration, at 2.80),
                                    --limit/--marker from 2.59
  server migration show S ID        by id (2.24+): meant as GET /servers/{S}/migrations
                                    /{ID}, sent as /servers/{ID}/migrations/{S} (the
                                    CLI's argument order bug, see below); by uuid
                                    (2.59+): GET /servers/{S}/migrations, in-progress
                                    live migrations only, so never a resize
  server shelve [--offload] --wait  shelve, poll, then shelveOffload, poll (a server
                                    already SHELVED is skipped by this CLI)
  server unshelve [--host H] --wait unshelve (host from 2.91), poll until ACTIVE
  server event list                 GET /servers/{id}/os-instance-actions

shelved_offload_time is -1 here, so that shelve stops at SHELVED and offloading is the
explicit shelveOffload (admin only by default, as Nova's).
"""
from __future__ import annotations

import json
import os
import subprocess

import openstack
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from openstack import exceptions as sdk_exc

from tests.clients import base
from tests.fixtures import stack

ADMIN_TOKEN = 'admin:admin'
HOSTS = {'compute1', 'compute2'}
SMALL, MEDIUM = ('2', 'm1.small'), ('3', 'm1.medium')   # (flavorid, name)
NOVACLIENT_MAX = '2.96'


class _ResizeShelveBase(base.KumoClientTestCase):

    extra_config = {'DEFAULT': {'shelved_offload_time': -1}}

    def setUp(self):
        super().setUp()
        self.api = stack.Client(self.endpoint, token=self.token)
        self.addCleanup(self.api.http.close)
        self.admin_api = stack.Client(self.endpoint, token=ADMIN_TOKEN)
        self.addCleanup(self.admin_api.http.close)

    def boot(self, name: str) -> str:
        server_id = self.api.boot(name).id
        self.api.wait_status(server_id, 'ACTIVE')
        return server_id

    def host_of(self, server_id: str) -> str | None:
        return self.admin_api.show(server_id).get('OS-EXT-SRV-ATTR:host')


class TestOpenStackClientResizeShelve(_ResizeShelveBase):

    def env(self, token: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env.update({
            'OS_AUTH_TYPE': 'admin_token',
            'OS_ENDPOINT': self.compute_url,
            'OS_TOKEN': token or self.token,
            'OS_COMPUTE_API_VERSION': base.MAX_MICROVERSION,
            'OS_IDENTITY_API_VERSION': '3',
            'OS_IDENTITY_ENDPOINT_OVERRIDE': f'{self.endpoint}/',
        })
        return env

    def openstack(self, *args: str, expect_rc: int = 0, token: str | None = None,
                  version: str | None = None):
        """Run `openstack ARGS`; JSON output (-f json) is parsed."""
        argv = [stack.executable('openstack')]
        if version:
            argv += ['--os-compute-api-version', version]
        argv += list(args)
        proc = subprocess.run(argv, env=self.env(token), capture_output=True, text=True,
                              timeout=90, check=False)
        self.assertEqual(expect_rc, proc.returncode,
                         f'{" ".join(args)}:\nstdout: {proc.stdout}\nstderr: {proc.stderr}')
        if expect_rc == 0 and '-f' in args and args[args.index('-f') + 1] == 'json':
            return json.loads(proc.stdout)
        return proc

    def show(self, server: str, token: str | None = None) -> dict:
        return self.openstack('server', 'show', server, '-f', 'json', token=token)

    def test_cold_migrate_and_reset_state(self):
        # server migrate: POST {"migrate": null} (--host: {"migrate": {"host"}}, 2.56),
        # --wait polls until ACTIVE or VERIFY_RESIZE; server set --state: os-resetState.
        server_id = self.boot('cli-migrate')
        first_host = self.host_of(server_id)
        proc = self.openstack('server', 'migrate', '--wait', server_id, expect_rc=1)
        self.assertIn('403', proc.stderr)   # admins only
        self.openstack('server', 'migrate', '--wait', server_id, token=ADMIN_TOKEN)
        self.assertEqual('VERIFY_RESIZE', self.show(server_id)['status'])
        self.assertEqual(HOSTS - {first_host}, {self.host_of(server_id)})
        self.openstack('server', 'resize', 'confirm', server_id)
        self.api.wait_status(server_id, 'ACTIVE')
        proc = self.openstack('server', 'migrate', '--host', self.host_of(server_id),
                              server_id, token=ADMIN_TOKEN, expect_rc=1)
        self.assertIn('Cannot migrate to the host where the server exists', proc.stderr)
        self.openstack('server', 'migrate', '--host', first_host, '--wait', server_id,
                       token=ADMIN_TOKEN)
        self.assertEqual(first_host, self.host_of(server_id))
        self.openstack('server', 'resize', 'revert', server_id)
        self.api.wait_status(server_id, 'ACTIVE')
        self.assertEqual(HOSTS - {first_host}, {self.host_of(server_id)})

        self.openstack('server', 'set', '--state', 'error', '--auto-approve', server_id,
                       token=ADMIN_TOKEN)
        self.assertEqual('ERROR', self.show(server_id)['status'])
        self.openstack('server', 'set', '--state', 'active', '--auto-approve', server_id,
                       token=ADMIN_TOKEN)
        self.assertEqual('ACTIVE', self.show(server_id)['status'])

    def test_resize_confirm_revert_and_migrations(self):
        server_id = self.boot('cli-resize')
        first_host = self.host_of(server_id)

        proc = self.openstack('server', 'resize', '--flavor', SMALL[1], '--wait',
                              'cli-resize')
        self.assertIn('Complete', proc.stdout)
        shown = self.show('cli-resize')
        self.assertEqual('VERIFY_RESIZE', shown['status'])
        self.assertEqual(SMALL[1], shown['flavor']['original_name'])
        self.assertEqual(2048, shown['flavor']['ram'])
        # Two hosts and no allow_resize_to_same_host: the other one.
        resized_host = self.host_of(server_id)
        self.assertEqual(HOSTS - {first_host}, {resized_host})
        self.assertEqual([server_id], [s['ID'] for s in self.openstack(
            'server', 'list', '--status', 'VERIFY_RESIZE', '-f', 'json')])
        # Resizing while VERIFY_RESIZE: 409, as Nova.
        proc = self.openstack('server', 'resize', '--flavor', SMALL[1], server_id,
                              expect_rc=1)
        self.assertIn('409', proc.stderr)

        self.openstack('server', 'resize', 'confirm', 'cli-resize')
        shown = self.api.wait_status(server_id, 'ACTIVE')
        self.assertEqual(SMALL[1], shown['flavor']['original_name'])
        self.assertEqual(resized_host, self.host_of(server_id))

        self.openstack('server', 'resize', '--flavor', MEDIUM[1], '--wait', server_id)
        shown = self.show(server_id)
        self.assertEqual(('VERIFY_RESIZE', MEDIUM[1]),
                         (shown['status'], shown['flavor']['original_name']))
        self.openstack('server', 'resize', 'revert', server_id)
        shown = self.api.wait_status(server_id, 'ACTIVE')
        self.assertEqual(SMALL[1], shown['flavor']['original_name'])
        self.assertEqual(resized_host, self.host_of(server_id))
        self.assertEqual(SMALL[1], self.show(server_id)['flavor']['original_name'])

        events = self.openstack('server', 'event', 'list', server_id, '-f', 'json')
        self.assertEqual(['create', 'resize', 'confirmResize', 'resize', 'revertResize'],
                         [e['Action'] for e in reversed(events)])
        self.assertEqual({server_id}, {e['Server ID'] for e in events})
        resize = next(e for e in events if e['Action'] == 'revertResize')
        shown = self.openstack('server', 'event', 'show', server_id, resize['Request ID'],
                               '-f', 'json', token=ADMIN_TOKEN)
        self.assertEqual(('revertResize', None), (shown['action'], shown['message']))
        self.assertEqual({'compute_revert_resize': 'Success',
                          'compute_finish_revert_resize': 'Success'},
                         {e['event']: e['result'] for e in shown['events']})
        self.assertEqual({resized_host, first_host}, {e['host'] for e in shown['events']})

        # A user may not list migrations (admin only, as Nova's default).
        proc = self.openstack('server', 'migration', 'list', '--server', server_id,
                              expect_rc=1)
        self.assertIn('403', proc.stderr)

        rows = self.openstack('server', 'migration', 'list', '--server', server_id,
                              '-f', 'json', token=ADMIN_TOKEN)
        self.assertEqual([('reverted', 'resize'), ('confirmed', 'resize')],
                         [(r['Status'], r['Type']) for r in rows])
        newest, oldest = rows
        self.assertNotEqual(oldest['Old Flavor'], oldest['New Flavor'])
        self.assertEqual(server_id, newest['Server UUID'])
        self.assertEqual((first_host, resized_host),
                         (oldest['Source Compute'], oldest['Dest Compute']))
        self.assertEqual((resized_host, first_host),
                         (newest['Source Compute'], newest['Dest Compute']))
        self.assertEqual(oldest['New Flavor'], newest['Old Flavor'])
        # Dest Host: the destination's IP, as Nova's (kumo-all gives computeN 127.0.1.N).
        self.assertEqual(f'127.0.1.{first_host[-1]}', newest['Dest Host'])
        self.assertGreater(newest['Id'], oldest['Id'])
        self.assertTrue(newest['UUID'])

        # Filters and paging (2.59) as the CLI sends them.
        self.assertEqual([oldest['UUID']], [r['UUID'] for r in self.openstack(
            'server', 'migration', 'list', '--server', server_id, '--status', 'confirmed',
            '--type', 'resize', '-f', 'json', token=ADMIN_TOKEN)])
        self.assertEqual([], self.openstack(
            'server', 'migration', 'list', '--server', server_id, '--type',
            'live-migration', '-f', 'json', token=ADMIN_TOKEN))
        self.assertEqual({newest['UUID'], oldest['UUID']}, {r['UUID'] for r in self.openstack(
            'server', 'migration', 'list', '--host', first_host, '-f', 'json',
            token=ADMIN_TOKEN) if r['Server UUID'] == server_id})
        (page,) = self.openstack('server', 'migration', 'list', '--server', server_id,
                                 '--limit', '1', '-f', 'json', token=ADMIN_TOKEN)
        self.assertEqual(newest['UUID'], page['UUID'])
        (page,) = self.openstack('server', 'migration', 'list', '--server', server_id,
                                 '--limit', '1', '--marker', newest['UUID'], '-f', 'json',
                                 token=ADMIN_TOKEN)
        self.assertEqual(oldest['UUID'], page['UUID'])
        # At 2.1 no uuid, no type, no paging.
        old = self.openstack('server', 'migration', 'list', '--server', server_id,
                             '-f', 'json', token=ADMIN_TOKEN, version='2.1')
        self.assertEqual(2, len(old))
        self.assertNotIn('UUID', old[0])

        # `server migration show` is about in-progress live migrations, and Kumo
        # has none: a resize is not shown, by id nor by uuid. By id, this CLI
        # (python-openstackclient 10.5) passes the server and the migration to the
        # SDK's get_server_migration(migration, server) the wrong way round, so it asks
        # for GET /servers/{migration id}/migrations/{server id}, which is a 404 for
        # the server, here as from Nova. The right URL is exercised through the SDK
        # and novaclient below and in tests/unit/api/test_migrations.py.
        proc = self.openstack('server', 'migration', 'show', server_id, str(newest['Id']),
                              token=ADMIN_TOKEN, expect_rc=1)
        self.assertIn(f'/servers/{newest["Id"]}/migrations/{server_id}', proc.stderr)
        self.assertIn(f'Instance {newest["Id"]} could not be found', proc.stderr)
        proc = self.openstack('server', 'migration', 'show', server_id, newest['UUID'],
                              token=ADMIN_TOKEN, expect_rc=1)
        self.assertIn(f'In-progress live migration {newest["UUID"]} is not found',
                      proc.stderr)

    def test_shelve_offload_unshelve(self):
        server_id = self.boot('cli-shelve')
        first_host = self.host_of(server_id)

        self.openstack('server', 'shelve', '--wait', 'cli-shelve')
        shown = self.show('cli-shelve')
        self.assertEqual('SHELVED', shown['status'])
        self.assertEqual(first_host, self.host_of(server_id))
        self.openstack('server', 'unshelve', '--wait', 'cli-shelve')
        self.assertEqual('ACTIVE', self.show('cli-shelve')['status'])
        self.assertEqual(first_host, self.host_of(server_id))

        # --offload: shelve then shelveOffload, the latter admin only.
        proc = self.openstack('server', 'shelve', '--offload', '--wait', server_id,
                              expect_rc=1)
        self.assertIn('403', proc.stderr)
        self.api.wait_status(server_id, 'SHELVED')
        self.openstack('server', 'unshelve', '--wait', server_id)
        self.openstack('server', 'shelve', '--offload', '--wait', server_id,
                       token=ADMIN_TOKEN)
        shown = self.show(server_id, token=ADMIN_TOKEN)
        self.assertEqual('SHELVED_OFFLOADED', shown['status'])
        self.assertIsNone(self.host_of(server_id))
        self.assertEqual([server_id], [s['ID'] for s in self.openstack(
            'server', 'list', '--status', 'SHELVED_OFFLOADED', '-f', 'json')])

        self.openstack('server', 'unshelve', '--wait', server_id)
        self.assertEqual('ACTIVE', self.show(server_id)['status'])
        self.assertIn(self.host_of(server_id), HOSTS)

        # 2.91: an admin picks the host; a user may not.
        self.openstack('server', 'shelve', '--offload', '--wait', server_id,
                       token=ADMIN_TOKEN)
        target = sorted(HOSTS)[1]
        proc = self.openstack('server', 'unshelve', '--host', target, server_id,
                              expect_rc=1)
        self.assertIn('403', proc.stderr)
        self.openstack('server', 'unshelve', '--host', 'no-such-host', server_id,
                       token=ADMIN_TOKEN, expect_rc=1)
        self.openstack('server', 'unshelve', '--host', target, '--wait', server_id,
                       token=ADMIN_TOKEN)
        self.assertEqual(('ACTIVE', target), (self.show(server_id)['status'],
                                              self.host_of(server_id)))
        proc = self.openstack('server', 'unshelve', '--host', target, server_id,
                              token=ADMIN_TOKEN, version='2.90', expect_rc=1)
        self.assertIn('2.91 or greater is required', proc.stderr)

        events = self.openstack('server', 'event', 'list', server_id, '-f', 'json')
        self.assertEqual(['create', 'shelve', 'unshelve', 'shelve', 'unshelve', 'shelve',
                          'shelveOffload', 'unshelve', 'shelve', 'shelveOffload',
                          'unshelve'], [e['Action'] for e in reversed(events)])


class TestOpenStackSDKResizeShelve(_ResizeShelveBase):

    def connect(self, token: str | None = None) -> openstack.connection.Connection:
        conn = openstack.connection.Connection(
            session=self.session(token), compute_endpoint_override=self.compute_url,
            image_endpoint_override=self.stack.image_endpoint,
            compute_api_version=base.MAX_MICROVERSION)
        self.addCleanup(conn.close)
        return conn

    def setUp(self):
        super().setUp()
        self.conn = self.connect()
        self.compute = self.conn.compute
        self.admin = self.connect(ADMIN_TOKEN).compute

    def shelve_images(self, server) -> list:
        return [i for i in self.conn.image.images(owner=self.project)
                if i.name == f'{server.name}-shelved']

    def wait(self, server, status: str):
        return self.compute.wait_for_server(server, status=status, interval=base.POLL,
                                            wait=base.TIMEOUT)

    def test_resize_confirm_revert_and_migrations(self):
        server = self.wait(self.compute.create_server(
            name='sdk-resize', flavor_id=base.FLAVOR_ID, image_id=base.IMAGE_ID,
            networks='none'), 'ACTIVE')
        first_host = self.admin.get_server(server.id).compute_host

        self.compute.resize_server(server, self.compute.find_flavor(SMALL[1]))
        server = self.wait(server, 'VERIFY_RESIZE')
        self.assertEqual(SMALL[1], server.flavor.original_name)
        self.assertEqual(2048, server.flavor.ram)
        self.compute.confirm_server_resize(server)
        server = self.wait(server, 'ACTIVE')
        self.assertEqual(SMALL[1], server.flavor.original_name)

        self.compute.resize_server(server, MEDIUM[0])
        server = self.wait(server, 'VERIFY_RESIZE')
        self.assertEqual(MEDIUM[1], server.flavor.original_name)
        self.compute.revert_server_resize(server)
        server = self.wait(server, 'ACTIVE')
        self.assertEqual((SMALL[1], 1), (server.flavor.original_name, server.flavor.vcpus))
        resized_host = self.admin.get_server(server.id).compute_host
        self.assertEqual(HOSTS - {first_host}, {resized_host})

        # Confirming an ACTIVE server: 409, as Nova.
        self.assertRaises(sdk_exc.ConflictException, self.compute.confirm_server_resize,
                          server)

        self.assertEqual(['create', 'resize', 'confirmResize', 'resize', 'revertResize'],
                         [a.action for a in reversed(list(
                             self.compute.server_actions(server)))])

        self.assertRaises(sdk_exc.ForbiddenException, list,
                          self.compute.migrations(server_id=server.id))
        migrations = list(self.admin.migrations(server_id=server.id))
        self.assertEqual([('reverted', 'resize'), ('confirmed', 'resize')],
                         [(m.status, m.migration_type) for m in migrations])
        newest, oldest = migrations
        self.assertEqual((server.id, resized_host, first_host),
                         (newest.server_id, newest.source_compute, newest.dest_compute))
        self.assertEqual(oldest.new_flavor_id, newest.old_flavor_id)
        self.assertEqual(f'127.0.1.{resized_host[-1]}', oldest.dest_host)
        self.assertEqual(server.user_id, newest.user_id)
        self.assertEqual(self.project, newest.project_id)
        self.assertEqual([newest.uuid], [m.uuid for m in self.admin.migrations(
            server_id=server.id, status='reverted')])
        self.assertEqual([oldest.uuid], [m.uuid for m in self.admin.migrations(
            server_id=server.id, limit=1, marker=newest.uuid)])
        self.assertEqual({newest.uuid, oldest.uuid}, {m.uuid for m in self.admin.migrations(
            project_id=self.project)})
        # The SDK follows migrations_links page by page.
        self.assertEqual([newest.uuid, oldest.uuid], [m.uuid for m in self.admin.migrations(
            server_id=server.id, limit=1)])

        # In-progress live migrations only: none here.
        self.assertEqual([], list(self.admin.server_migrations(server)))
        self.assertRaises(sdk_exc.NotFoundException, self.admin.get_server_migration,
                          newest.id, server, ignore_missing=False)
        self.assertRaises(sdk_exc.ForbiddenException, list,
                          self.compute.server_migrations(server))

    def test_shelve_offload_unshelve(self):
        server = self.wait(self.compute.create_server(
            name='sdk-shelve', flavor_id=base.FLAVOR_ID, image_id=base.IMAGE_ID,
            networks='none'), 'ACTIVE')
        self.compute.shelve_server(server)
        server = self.wait(server, 'SHELVED')
        # The shelve image, a snapshot of the server, in the image service.
        (image,) = self.shelve_images(server)
        self.assertEqual(('active', 'snapshot', server.id),
                         (image.status, image.properties.get('image_type'),
                          image.instance_uuid))

        self.assertRaises(sdk_exc.ForbiddenException, self.compute.shelve_offload_server,
                          server)
        self.admin.shelve_offload_server(server)
        server = self.wait(server, 'SHELVED_OFFLOADED')
        self.assertIsNone(self.admin.get_server(server).compute_host)

        self.compute.unshelve_server(server)
        server = self.wait(server, 'ACTIVE')
        self.assertIn(self.admin.get_server(server).compute_host, HOSTS)
        # Unshelved: the shelve image is gone (as Nova's).
        self.wait_for('the shelve image to go', lambda: not self.shelve_images(server))

        self.compute.shelve_server(server)
        self.wait(server, 'SHELVED')
        self.admin.shelve_offload_server(server)
        self.wait(server, 'SHELVED_OFFLOADED')
        target = sorted(HOSTS)[0]
        self.assertRaises(sdk_exc.ForbiddenException, self.compute.unshelve_server,
                          server, host=target)
        self.admin.unshelve_server(server, host=target)
        server = self.wait(server, 'ACTIVE')
        self.assertEqual(target, self.admin.get_server(server).compute_host)
        self.assertEqual(['create', 'shelve', 'shelveOffload', 'unshelve', 'shelve',
                          'shelveOffload', 'unshelve'],
                         [a.action for a in reversed(list(
                             self.compute.server_actions(server)))])


class TestNovaclientResizeShelve(_ResizeShelveBase):

    def nova(self, token: str | None = None, version: str = NOVACLIENT_MAX):
        return nova_client.Client(version, session=self.session(token),
                                  endpoint_override=self.compute_url)

    def wait_status(self, nc, server_id: str, status: str):
        def reached():
            server = nc.servers.get(server_id)
            if server.status == 'ERROR':
                self.fail(f'{server_id} went to ERROR: {getattr(server, "fault", None)}')
            return server if server.status == status else None
        return self.wait_for(f'{server_id} to be {status}', reached)

    def test_resize_confirm_revert_and_migrations(self):
        nc, admin = self.nova(), self.nova(ADMIN_TOKEN)
        server = nc.servers.create('nova-resize', base.IMAGE_ID, base.FLAVOR_ID,
                                   nics='none')
        self.wait_status(nc, server.id, 'ACTIVE')

        nc.servers.resize(server, SMALL[0])
        shown = self.wait_status(nc, server.id, 'VERIFY_RESIZE')
        self.assertEqual(SMALL[1], shown.flavor['original_name'])
        nc.servers.confirm_resize(server)
        self.assertEqual(SMALL[1], self.wait_status(nc, server.id, 'ACTIVE')
                         .flavor['original_name'])

        nc.servers.resize(server, MEDIUM[0])
        self.wait_status(nc, server.id, 'VERIFY_RESIZE')
        # Resizing again before confirming or reverting: 409, as Nova.
        self.assertRaises(nova_exc.Conflict, nc.servers.resize, server, SMALL[0])
        nc.servers.revert_resize(server)
        self.assertEqual(SMALL[1], self.wait_status(nc, server.id, 'ACTIVE')
                         .flavor['original_name'])

        self.assertEqual(['create', 'resize', 'confirmResize', 'resize', 'revertResize'],
                         [a.action for a in reversed(nc.instance_action.list(server))])

        self.assertRaises(nova_exc.Forbidden, nc.migrations.list, instance_uuid=server.id)
        migrations = admin.migrations.list(instance_uuid=server.id)
        self.assertEqual([('reverted', 'resize'), ('confirmed', 'resize')],
                         [(m.status, m.migration_type) for m in migrations])
        self.assertEqual(self.project, migrations[0].project_id)
        (page,) = admin.migrations.list(instance_uuid=server.id, limit=1)
        self.assertEqual(migrations[0].uuid, page.uuid)
        (page,) = admin.migrations.list(instance_uuid=server.id, limit=1,
                                        marker=page.uuid)
        self.assertEqual(migrations[1].uuid, page.uuid)
        self.assertEqual([], admin.migrations.list(instance_uuid=server.id,
                                                   changes_since='2999-01-01T00:00:00Z'))
        self.assertEqual(2, len(admin.migrations.list(
            instance_uuid=server.id, changes_before='2999-01-01T00:00:00Z')))
        self.assertEqual(2, len(admin.migrations.list(instance_uuid=server.id,
                                                      user_id=self.user)))
        self.assertEqual([], admin.migrations.list(instance_uuid=server.id,
                                                   user_id='someone-else'))
        self.assertRaises(nova_exc.BadRequest, admin.migrations.list,
                          marker='no-such-migration')

        # At 2.1: no uuid, no type.
        (old, _) = self.nova(ADMIN_TOKEN, '2.1').migrations.list(instance_uuid=server.id)
        self.assertFalse(hasattr(old, 'uuid'))
        self.assertFalse(hasattr(old, 'migration_type'))

        self.assertEqual([], admin.server_migrations.list(server))
        self.assertRaises(nova_exc.NotFound, admin.server_migrations.get, server,
                          migrations[0].id)

    def test_shelve_offload_unshelve(self):
        nc, admin = self.nova(), self.nova(ADMIN_TOKEN)
        server = nc.servers.create('nova-shelve', base.IMAGE_ID, base.FLAVOR_ID,
                                   nics='none')
        self.wait_status(nc, server.id, 'ACTIVE')
        nc.servers.shelve(server)
        self.wait_status(nc, server.id, 'SHELVED')
        # Shelving a shelved server: 409.
        self.assertRaises(nova_exc.Conflict, nc.servers.shelve, server)
        self.assertRaises(nova_exc.Forbidden, nc.servers.shelve_offload, server)
        admin.servers.shelve_offload(server)
        shown = self.wait_status(admin, server.id, 'SHELVED_OFFLOADED')
        self.assertIsNone(getattr(shown, 'OS-EXT-SRV-ATTR:host'))
        # A zone that does not exist: 400 (2.77).
        self.assertRaises(nova_exc.BadRequest, nc.servers.unshelve, server,
                          availability_zone='no-such-zone')
        nc.servers.unshelve(server)
        shown = self.wait_status(admin, server.id, 'ACTIVE')
        self.assertIn(getattr(shown, 'OS-EXT-SRV-ATTR:host'), HOSTS)

        # 2.77: into a zone (pinning the server to it); 2.91: unpinned again.
        nc.servers.shelve(server)
        self.wait_status(nc, server.id, 'SHELVED')
        admin.servers.shelve_offload(server)
        self.wait_status(nc, server.id, 'SHELVED_OFFLOADED')
        self.nova(version='2.77').servers.unshelve(server, availability_zone='nova')
        shown = self.wait_status(nc, server.id, 'ACTIVE')
        self.assertEqual('nova', getattr(shown, 'OS-EXT-AZ:availability_zone'))
        self.assertEqual('nova', shown.pinned_availability_zone)    # 2.96
        nc.servers.shelve(server)
        self.wait_status(nc, server.id, 'SHELVED')
        admin.servers.shelve_offload(server)
        self.wait_status(nc, server.id, 'SHELVED_OFFLOADED')
        nc.servers.unshelve(server, availability_zone=None)
        shown = self.wait_status(nc, server.id, 'ACTIVE')
        self.assertIsNone(shown.pinned_availability_zone)

        # At 2.1 the body is {"unshelve": null}.
        old = self.nova(version='2.1')
        old.servers.shelve(server)
        self.wait_status(old, server.id, 'SHELVED')
        old.servers.unshelve(server)
        self.wait_status(old, server.id, 'ACTIVE')
        self.assertEqual(['create', 'shelve', 'shelveOffload', 'unshelve', 'shelve',
                          'shelveOffload', 'unshelve', 'shelve', 'shelveOffload',
                          'unshelve', 'shelve', 'unshelve'],
                         [a.action for a in reversed(nc.instance_action.list(server))])
