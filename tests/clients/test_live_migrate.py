"""Live migration driven by the real clients against one kumo-all with two fake
computes (whose fake hypervisors hand the guest over as a real copy would):

  openstack server migrate --live-migration [--host H] S
      POST /servers/{id}/action {"os-migrateLive": {...}}; then `openstack server
      migration list` shows the live-migration record, completed
  novaclient servers.live_migrate(server, host, block_migration, [disk_over_commit])
  openstacksdk compute.live_migrate_server(server, host, block_migration)
"""
from __future__ import annotations

import openstack
from novaclient import client as nova_client
from novaclient import exceptions as nova_exceptions

from tests.clients import test_resize_shelve as resize_shelve

ADMIN_TOKEN = resize_shelve.ADMIN_TOKEN
HOSTS = resize_shelve.HOSTS
_CLI = resize_shelve.TestOpenStackClientResizeShelve


class TestLiveMigrateClients(resize_shelve._ResizeShelveBase):
    extra_config = None
    env, openstack, show = _CLI.env, _CLI.openstack, _CLI.show

    def settled_on(self, server_id: str, host: str, status: str = 'ACTIVE') -> None:
        def done():
            server = self.show(server_id, token=ADMIN_TOKEN)
            return (server['status'], server['OS-EXT-STS:task_state'],
                    self.host_of(server_id)) == (status, None, host)
        self.wait_for(f'{server_id} {status} on {host}', done)

    def test_openstack_server_migrate_live(self):
        server_id = self.boot('cli-live')
        source = self.host_of(server_id)
        dest = (HOSTS - {source}).pop()
        proc = self.openstack('server', 'migrate', '--live-migration', server_id,
                              version='2.56', expect_rc=1)
        self.assertIn('403', proc.stderr)   # admins only
        self.openstack('server', 'migrate', '--live-migration', server_id,
                       token=ADMIN_TOKEN, version='2.56')
        self.settled_on(server_id, dest)
        self.openstack('server', 'migrate', '--live-migration', '--host', source,
                       server_id, token=ADMIN_TOKEN, version='2.56')
        self.settled_on(server_id, source)
        migrations = self.openstack('server', 'migration', 'list', '--server', server_id,
                                    '-f', 'json', token=ADMIN_TOKEN, version='2.59')
        self.assertEqual(sorted([('live-migration', 'completed', source, dest),
                                 ('live-migration', 'completed', dest, source)]),
                         sorted((m['Type'], m['Status'], m['Source Compute'],
                                 m['Dest Compute']) for m in migrations))

    def test_novaclient_and_openstacksdk(self):
        server_id = self.boot('nc-live')
        source = self.host_of(server_id)
        dest = (HOSTS - {source}).pop()
        old = nova_client.Client('2.24', session=self.session(ADMIN_TOKEN),
                                 endpoint_override=self.compute_url)
        # Before 2.34 the refusal comes back at once.
        error = self.assertRaises(nova_exceptions.BadRequest, old.servers.live_migrate,
                                  server_id, source,
                                  False, False)
        self.assertIn(f'Unable to migrate instance ({server_id}) to current host '
                      f'({source})', str(error))
        old.servers.live_migrate(server_id, dest, False, False)
        self.settled_on(server_id, dest)
        conn = openstack.connection.Connection(
            session=self.session(ADMIN_TOKEN), compute_endpoint_override=self.compute_url,
            compute_api_version='2.68')
        conn.compute.live_migrate_server(server_id, host=None, block_migration='auto')
        self.settled_on(server_id, source)


class TestLiveMigrationAbortClients(resize_shelve._ResizeShelveBase):
    """`openstack server migration abort` and `... force complete` while a (fake)
    copy takes a minute: the abort leaves the server where it ran, the force-complete
    ends the migration at once on the destination."""
    extra_config = {'compute': {'fake_live_migration_delay': 60}}
    env, openstack, show = _CLI.env, _CLI.openstack, _CLI.show
    settled_on = TestLiveMigrateClients.settled_on

    def running(self, server_id: str) -> dict:
        """The server's live migration in progress, once it copies."""
        found = []

        def copying():
            found[:] = [m for m in self.openstack(
                'server', 'migration', 'list', '--server', server_id, '-f', 'json',
                token=ADMIN_TOKEN, version='2.59') if m['Status'] == 'running']
            return bool(found)
        self.wait_for(f'{server_id} copying', copying)
        return found[0]

    def test_abort_and_force_complete(self):
        server_id = self.boot('cli-abort')
        source = self.host_of(server_id)
        dest = (HOSTS - {source}).pop()
        self.openstack('server', 'migrate', '--live-migration', server_id,
                       token=ADMIN_TOKEN, version='2.56')
        migration = self.running(server_id)
        self.openstack('server', 'migration', 'abort', server_id, str(migration['Id']),
                       token=ADMIN_TOKEN, version='2.24')
        self.settled_on(server_id, source)
        self.openstack('server', 'migrate', '--live-migration', server_id,
                       token=ADMIN_TOKEN, version='2.56')
        migration = self.running(server_id)
        self.openstack('server', 'migration', 'force', 'complete', server_id,
                       str(migration['Id']), token=ADMIN_TOKEN, version='2.22')
        self.settled_on(server_id, dest)
        statuses = sorted(m['Status'] for m in self.openstack(
            'server', 'migration', 'list', '--server', server_id, '-f', 'json',
            token=ADMIN_TOKEN, version='2.59'))
        self.assertEqual(['cancelled', 'completed'], statuses)
