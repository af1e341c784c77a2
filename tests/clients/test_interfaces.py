"""os-interface through the clients people use: `openstack server add network`,
`server add port` and `server remove port` (the CLI configured by the clouds.yaml
kumo-all writes, ports through Kumo's network service), and novaclient's
interface_list."""
from __future__ import annotations

import json
import os
import subprocess

from novaclient import client as nova_client

from tests.clients import base
from tests.clients.test_image_network import ImageNetworkTestCase
from tests.fixtures import stack


class TestInterfaceClients(ImageNetworkTestCase):

    def openstack(self, *args: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env['OS_CLIENT_CONFIG_FILE'] = os.path.join(self.stack.dir, 'state', 'clouds.yaml')
        argv = [stack.executable('openstack'), '--os-cloud', 'kumo', '--os-token',
                self.token, *args]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90,
                              check=False)
        self.assertEqual(0, proc.returncode,
                         f'{" ".join(args)}:\nstdout: {proc.stdout}\nstderr: {proc.stderr}')
        if '-f' in args and args[args.index('-f') + 1] == 'json':
            return json.loads(proc.stdout)
        return proc

    def ports(self, server_id: str) -> list[dict]:
        return self.openstack('port', 'list', '--server', server_id, '-f', 'json')

    def test_add_network_add_port_remove_port_and_interface_list(self):
        self.openstack('network', 'create', 'nic-net', '-f', 'json')
        self.openstack('subnet', 'create', '--network', 'nic-net', '--subnet-range',
                       '10.88.0.0/24', 'nic-subnet', '-f', 'json')
        server = self.openstack('server', 'create', '--image', base.IMAGE_ID, '--flavor',
                                base.FLAVOR_ID, '--network', 'nic-net', '--wait',
                                'nics', '-f', 'json')
        sid = server['id']
        self.assertEqual(1, len(self.ports(sid)))

        self.openstack('server', 'add', 'network', sid, 'nic-net')
        self.assertEqual(2, len(self.ports(sid)))
        mine = self.openstack('port', 'create', '--network', 'nic-net', 'mine', '-f',
                              'json')
        self.openstack('server', 'add', 'port', sid, mine['id'])
        self.assertIn(mine['id'], [p['ID'] for p in self.ports(sid)])

        nc = nova_client.Client('2.70', session=self.session(),
                                endpoint_override=self.compute_url)
        listed = nc.servers.interface_list(sid)
        self.assertEqual({p['ID'] for p in self.ports(sid)}, {i.port_id for i in listed})
        self.assertEqual({'ACTIVE'}, {i.port_state for i in listed})

        self.openstack('server', 'remove', 'port', sid, mine['id'])
        self.assertNotIn(mine['id'], [p['ID'] for p in self.ports(sid)])
        kept = self.openstack('port', 'show', mine['id'], '-f', 'json')
        self.assertEqual('', kept['device_id'])
        self.assertEqual(2, len(nc.servers.interface_list(sid)))
        self.openstack('server', 'delete', '--wait', sid)
        self.openstack('port', 'delete', mine['id'])
