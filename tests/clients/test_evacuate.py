"""evacuate driven by the real clients against one kumo-all with two fake computes:
the operator marks the server's host down (`openstack compute service set --down`,
os-services' forced_down, 2.11+), then evacuates with the `openstack` CLI or
python-novaclient, as one does for a dead host.

  openstack server evacuate [--host H] [--password P] S
      POST /servers/{id}/action {"evacuate": {...}} (host from 2.29). Its --wait
      never ends, against Nova as here: python-openstackclient 10.5 waits for
      'ACTIVE' while osc-lib compares lower-cased statuses. So the test polls.
      (At 2.95 an ACTIVE server ends SHUTOFF; the CLI test runs at 2.94.)
  novaclient servers.evacuate(server, host=None, password=None[, force])
"""
from __future__ import annotations

from novaclient import client as nova_client

from tests.clients import test_resize_shelve as resize_shelve

ADMIN_TOKEN = resize_shelve.ADMIN_TOKEN
HOSTS = resize_shelve.HOSTS
_CLI = resize_shelve.TestOpenStackClientResizeShelve


class TestEvacuateClients(resize_shelve._ResizeShelveBase):
    extra_config = None
    # The `openstack` CLI helpers of the resize/shelve client tests.
    env, openstack, show = _CLI.env, _CLI.openstack, _CLI.show

    def host_down(self, host: str, down: bool = True) -> None:
        self.openstack('compute', 'service', 'set', '--down' if down else '--up', host,
                       'nova-compute', token=ADMIN_TOKEN, version='2.11')
        if down:
            self.addCleanup(self.host_down, host, False)

    def test_openstack_server_evacuate(self):
        server_id = self.boot('cli-evacuate')
        source = self.host_of(server_id)
        proc = self.openstack('server', 'evacuate', server_id, token=ADMIN_TOKEN,
                              version='2.94', expect_rc=1)
        self.assertIn(f'Compute service of {source} is still in use.', proc.stderr)
        self.host_down(source)
        proc = self.openstack('server', 'evacuate', server_id, version='2.94',
                              expect_rc=1)
        self.assertIn('403', proc.stderr)   # admins only
        self.openstack('server', 'evacuate', server_id, token=ADMIN_TOKEN,
                       version='2.94')
        self.wait_for(f'{server_id} evacuated', lambda: (
            self.show(server_id, token=ADMIN_TOKEN)['OS-EXT-STS:task_state'] is None))
        self.assertEqual('ACTIVE', self.show(server_id, token=ADMIN_TOKEN)['status'])
        self.assertEqual(HOSTS - {source}, {self.host_of(server_id)})
        events = self.openstack('server', 'event', 'list', server_id, '-f', 'json',
                                token=ADMIN_TOKEN)
        self.assertIn('evacuate', [e['Action'] for e in events])
        migrations = self.openstack('server', 'migration', 'list', '--server', server_id,
                                    '-f', 'json', token=ADMIN_TOKEN, version='2.59')
        self.assertEqual([('evacuation', 'done', source)],
                         [(m['Type'], m['Status'], m['Source Compute'])
                          for m in migrations])

    def test_novaclient_evacuate(self):
        server_id = self.boot('nc-evacuate')
        source = self.host_of(server_id)
        dest = (HOSTS - {source}).pop()
        self.host_down(source)
        nc = nova_client.Client(resize_shelve.NOVACLIENT_MAX,
                                session=self.session(ADMIN_TOKEN),
                                endpoint_override=self.compute_url)
        resp, body = nc.servers.evacuate(server_id, host=dest, password='s3cret')
        self.assertEqual((200, None), (resp.status_code, body))

        def settled(status, host):
            server = nc.servers.get(server_id)
            return (server.status == status and self.host_of(server_id) == host
                    and getattr(server, 'OS-EXT-STS:task_state') is None)
        # From 2.95 the evacuated server is left stopped, as Nova's.
        self.wait_for(f'{server_id} evacuated', lambda: settled('SHUTOFF', dest))
        # Before 2.14: onSharedStorage, and the password in the answer.
        old = nova_client.Client('2.13', session=self.session(ADMIN_TOKEN),
                                 endpoint_override=self.compute_url)
        self.host_down(source, False)
        self.host_down(dest)
        resp, body = old.servers.evacuate(server_id, on_shared_storage=False,
                                          password='again')
        self.assertEqual((200, {'adminPass': 'again'}), (resp.status_code, body))
        self.wait_for(f'{server_id} evacuated back', lambda: settled('SHUTOFF', source))
