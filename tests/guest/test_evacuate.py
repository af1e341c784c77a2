"""evacuate (admin) on the real test guest, with two agents on the one libvirtd (each
with its own instances path): the server's host dies (its agent killed, its guest gone
as with a power loss), os-services reports it down, and the server is rebuilt from its
image on the other host: ACTIVE there (before 2.95) or SHUTOFF (2.95), its domain
defined with the new host's files, the `evacuation` migration `done`. When the dead
agent returns it cleans up: the migration is `completed`, its copy of the server's
files is gone, and the evacuated guest on the other host is left running."""
from __future__ import annotations

import os
import re
import time

from tests.guest import base

# The agents report every 2 s (tests.fixtures.stack): a host is down soon after its
# agent dies, and a loaded machine is still far from making a live one look down.
SERVICE_DOWN_TIME = 10


class TestEvacuate(base.GuestTestCase):
    COMPUTES = 2
    EXTRA_CONFIG = {'DEFAULT': {'service_down_time': SERVICE_DOWN_TIME}}
    # A spawn on a loaded machine.
    EVACUATE_TIMEOUT = 120

    def wait_for(self, what: str, predicate, timeout: float = base.STATE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail(f'{what}: not after {timeout}s')
            time.sleep(0.5)

    def service_state(self, host: str) -> str:
        response = self.client.get('/v2.1/os-services',
                                   params={'host': host, 'binary': 'nova-compute'})
        self.assertEqual(200, response.status_code, response.text)
        (service,) = response.json()['services']
        return service['state']

    def migrations(self, server_id: str) -> list[tuple[str, str, str, str]]:
        response = self.client.get('/v2.1/os-migrations',
                                   params={'instance_uuid': server_id})
        self.assertEqual(200, response.status_code, response.text)
        return [(m['migration_type'], m['status'], m['source_compute'],
                 m['dest_compute']) for m in response.json()['migrations']]

    def host_dies(self, server_id: str, host: str) -> None:
        """`host` loses power: its agent dies and so does the guest with it.

        On a real cloud the guest's QEMU goes with the host, and its domain definition
        stays on the dead host's own libvirtd, where no other host sees it. Here both
        agents share one libvirtd, so the power loss is played by `virsh destroy` and
        the definition must go as well (undefine): left defined, it is a domain of
        `host` with the server's UUID, which the other agent must never replace
        (LibvirtDriver._someone_elses: it is another agent's), and no second domain
        can have that UUID; the evacuation would fail. What stays behind, as on the
        dead host's disk, is the server's directory in `host`'s instances path.
        """
        self.stack.kill_agent(host)
        self.addCleanup(self.ensure_agent, host)
        base.virsh('destroy', server_id)
        base.virsh('undefine', server_id, '--managed-save')
        self.assertEqual('', base.domstate(server_id))
        self.wait_for(f'{host} reported down', lambda: self.service_state(host) == 'down',
                      timeout=SERVICE_DOWN_TIME + 30)

    def ensure_agent(self, host: str) -> None:
        """(cleanup) A test that failed with an agent dead leaves it running again."""
        if self.stack.processes[f'kumo-compute@{host}'].poll() is not None:
            self.stack.start_agent(host)

    def evacuate(self, server_id: str, microversion: str) -> None:
        response = self.client.post(
            f'/v2.1/servers/{server_id}/action', json={'evacuate': {}},
            headers={'OpenStack-API-Version': f'compute {microversion}'})
        self.assertEqual(200, response.status_code, response.text)

    def host_returns(self, server_id: str, host: str) -> None:
        """The dead host's agent starts again: it cleans up after the evacuation."""
        self.stack.start_agent(host)
        self.wait_for(f'{host} reported up', lambda: self.service_state(host) == 'up')
        self.wait_for('the evacuation completed', lambda: all(
            m[1] == 'completed' for m in self.migrations(server_id)))
        self.wait_for(f'the directory of {server_id} on {host} removed',
                      lambda: not os.path.exists(self.dir_on(server_id, host)))

    def test_evacuate_away_from_a_dead_host_and_back(self):
        server_id = self.boot('guest-evacuate', config_drive=True)
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        source = server['OS-EXT-SRV-ATTR:host']
        dest = next(h for h in self.stack.compute_hosts if h != source)
        self.wait_console(server_id, r'^KUMO-GUEST: ready', host=source)

        # A host that is up keeps its servers (Nova's 400).
        response = self.client.post(f'/v2.1/servers/{server_id}/action',
                                    json={'evacuate': {}})
        self.assertEqual(400, response.status_code, response.text)
        self.assertIn(f'Compute service of {source} is still in use.', response.text)

        # --- the source dies; before 2.95 an ACTIVE server is ACTIVE on the other host --
        self.host_dies(server_id, source)
        self.evacuate(server_id, '2.94')
        server = self.wait_server(server_id, 'ACTIVE', power_state=1,
                                  timeout=self.EVACUATE_TIMEOUT)
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', base.domstate(server_id))
        xml = base.virsh('dumpxml', server_id)
        self.assertIn(self.dir_on(server_id, dest), xml)
        self.assertNotIn(self.dir_on(server_id, source), xml)
        text = self.wait_console(server_id, r'^KUMO-GUEST: ready', host=dest)
        # Built from the image with the server's own config drive.
        self.assertIn(f'uuid={server_id}\n', text)
        self.assertEqual([('evacuation', 'done', source, dest)],
                         self.migrations(server_id))
        # The dead host's files are where it left them until it returns.
        self.assertTrue(os.path.isdir(self.dir_on(server_id, source)))

        # --- the source returns: it cleans up, and leaves the new guest alone ----------
        self.host_returns(server_id, source)
        self.assertEqual([('evacuation', 'completed', source, dest)],
                         self.migrations(server_id))
        server = self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertEqual(dest, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('running', base.domstate(server_id))
        self.assertIn(self.dir_on(server_id, dest), base.virsh('dumpxml', server_id))
        # Untouched: still the guest's first boot on the new host.
        self.assertEqual(1, len(re.findall(r'(?m)^KUMO-GUEST: init started',
                                           self.console(server_id, host=dest))))

        # --- now the other host dies; from 2.95 the server comes back SHUTOFF ----------
        self.host_dies(server_id, dest)
        self.evacuate(server_id, '2.95')
        server = self.wait_server(server_id, 'SHUTOFF', power_state=4,
                                  timeout=self.EVACUATE_TIMEOUT)
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('shut off', base.domstate(server_id))
        self.assertIn(self.dir_on(server_id, source), base.virsh('dumpxml', server_id))
        # Powered off at once, as Nova's (no ACPI request the young guest may miss).
        self.assertNotIn('power button pressed', self.console(server_id, host=source))
        self.assertEqual({('evacuation', 'completed', source, dest),
                          ('evacuation', 'done', dest, source)},
                         set(self.migrations(server_id)))

        self.host_returns(server_id, dest)
        self.assertEqual({('completed', source, dest), ('completed', dest, source)},
                         {m[1:] for m in self.migrations(server_id)})
        server = self.wait_server(server_id, 'SHUTOFF', power_state=4)
        self.assertEqual(source, server['OS-EXT-SRV-ATTR:host'])
        self.assertEqual('shut off', base.domstate(server_id))
        self.assertTrue(os.path.isdir(self.dir_on(server_id, source)))
        # And it starts on its new host.
        self.action(server_id, {'os-start': None})
        self.wait_server(server_id, 'ACTIVE', power_state=1)
        self.assertEqual('running', base.domstate(server_id))
