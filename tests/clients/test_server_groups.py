"""Server groups through the real clients against a running Kumo: the `openstack` CLI,
openstacksdk and python-novaclient create, list, show and delete them (the 2.64
policy + rules form and the older policies list), and a server booted with the
`group` scheduler hint is a member (anti-affinity keeping members apart)."""
from __future__ import annotations

import json
import os
import subprocess
import uuid

import openstack
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from openstack import exceptions as sdk_exc

from tests.clients import base
from tests.fixtures import stack

ADMIN_TOKEN = 'admin:admin'
NOVACLIENT_MAX = '2.96'


def _name(prefix: str) -> str:
    return f'{prefix}-{uuid.uuid4().hex[:8]}'


class TestServerGroupsCLI(base.KumoClientTestCase):
    """The `openstack` CLI as a subprocess (settings: tests/clients/test_openstackclient)."""

    def openstack(self, *args: str, expect_rc: int = 0):
        """Run `openstack ARGS` as this test's user; JSON output (-f json) is parsed."""
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env.update({
            'OS_AUTH_TYPE': 'admin_token', 'OS_ENDPOINT': self.compute_url,
            'OS_TOKEN': self.token, 'OS_COMPUTE_API_VERSION': base.MAX_MICROVERSION,
            'OS_IDENTITY_API_VERSION': '3',
            'OS_IDENTITY_ENDPOINT_OVERRIDE': f'{self.endpoint}/',
        })
        proc = subprocess.run([stack.executable('openstack'), *args], env=env,
                              capture_output=True, text=True, timeout=90, check=False)
        self.assertEqual(expect_rc, proc.returncode,
                         f'{" ".join(args)}:\nstdout: {proc.stdout}\nstderr: {proc.stderr}')
        if expect_rc == 0 and '-f' in args and args[args.index('-f') + 1] == 'json':
            return json.loads(proc.stdout)
        return proc

    def test_create_list_show_delete(self):
        name = _name('cli')
        created = self.openstack('server', 'group', 'create', '--policy', 'anti-affinity',
                                 '--rule', 'max_server_per_host=2', name, '-f', 'json')
        self.assertEqual((name, 'anti-affinity', {'max_server_per_host': 2}, []),
                         (created['name'], created['policy'], created['rules'],
                          created['members']))
        self.assertEqual((self.project, self.user),
                         (created['project_id'], created['user_id']))
        group_id = created['id']
        listed = self.openstack('server', 'group', 'list', '-f', 'json')
        self.assertEqual([(group_id, name, 'anti-affinity')],
                         [(g['ID'], g['Name'], g['Policy']) for g in listed])
        # Looked up by name, as users do.
        shown = self.openstack('server', 'group', 'show', name, '-f', 'json')
        self.assertEqual(group_id, shown['id'])
        # A member booted with the hint, through the CLI too.
        server = self.openstack('server', 'create', '--flavor', base.FLAVOR_NAME,
                                '--image', base.IMAGE_ID, '--nic', 'none',
                                '--hint', f'group={group_id}', '--wait', _name('vm'),
                                '-f', 'json')
        self.assertEqual('ACTIVE', server['status'])
        shown = self.openstack('server', 'group', 'show', group_id, '-f', 'json')
        self.assertEqual([server['id']], shown['members'])
        self.openstack('server', 'group', 'delete', name)
        self.assertEqual([], self.openstack('server', 'group', 'list', '-f', 'json'))
        proc = self.openstack('server', 'group', 'show', group_id, expect_rc=1)
        self.assertIn(f'No ServerGroup found for {group_id}', proc.stderr)


class TestServerGroupsSDK(base.KumoClientTestCase):

    def connect(self, token: str | None = None, version: str = base.MAX_MICROVERSION
                ) -> openstack.connection.Connection:
        conn = openstack.connection.Connection(
            session=self.session(token), compute_endpoint_override=self.compute_url,
            compute_api_version=version, strict_proxies=True)
        self.addCleanup(conn.close)
        return conn

    def setUp(self):
        super().setUp()
        self.compute = self.connect().compute
        self.admin = self.connect(ADMIN_TOKEN).compute

    def boot(self, compute, group_id: str, status: str = 'ACTIVE'):
        server = compute.create_server(name=_name('sdk'), flavor_id=base.FLAVOR_ID,
                                       image_id=base.IMAGE_ID, networks='none',
                                       scheduler_hints={'group': group_id})
        return compute.wait_for_server(server, status=status, interval=base.POLL,
                                       wait=base.TIMEOUT)

    def test_policy_and_rules_from_2_64(self):
        group = self.compute.create_server_group(
            name=_name('sdk'), policy='anti-affinity', rules={'max_server_per_host': 1})
        self.assertEqual(('anti-affinity', {'max_server_per_host': 1}, []),
                         (group.policy, group.rules, group.member_ids))
        self.assertEqual((self.project, self.user), (group.project_id, group.user_id))
        self.assertEqual([group.id], [g.id for g in self.compute.server_groups()])
        self.assertEqual(group.name, self.compute.get_server_group(group.id).name)
        self.assertEqual(group.id, self.compute.find_server_group(group.name).id)
        # Two fake hosts, one member per host: the third member finds no host.
        first = self.boot(self.compute, group.id)
        second = self.boot(self.compute, group.id)
        hosts = {self.admin.get_server(s.id).compute_host for s in (first, second)}
        self.assertEqual(2, len(hosts))
        third = self.boot(self.compute, group.id, status='ERROR')
        self.assertIn('No valid host', self.compute.get_server(third.id).fault['message'])
        members = self.compute.get_server_group(group.id).member_ids
        self.assertEqual({first.id, second.id}, set(members) - {third.id})
        # Deleting a member takes it out of the group.
        self.compute.delete_server(first)
        self.compute.wait_for_delete(first, interval=base.POLL, wait=base.TIMEOUT)
        self.assertNotIn(first.id, self.compute.get_server_group(group.id).member_ids)
        self.compute.delete_server_group(group)
        self.assertRaises(sdk_exc.NotFoundException, self.compute.get_server_group,
                          group.id)
        self.assertIsNone(self.compute.find_server_group(group.name))

    def test_policies_list_before_2_64(self):
        old = self.connect(version='2.63').compute
        group = old.create_server_group(name=_name('sdk'), policies=['affinity'])
        self.assertEqual(['affinity'], group.policies)
        self.assertRaises(sdk_exc.NotSupported, old.create_server_group,
                          name=_name('sdk'), policy='anti-affinity',
                          rules={'max_server_per_host': 2})
        member = self.boot(old, group.id)
        other = self.boot(old, group.id)
        # Affinity: every member on the first member's host.
        self.assertEqual(self.admin.get_server(member.id).compute_host,
                         self.admin.get_server(other.id).compute_host)
        self.assertEqual({member.id, other.id},
                         set(old.get_server_group(group.id).member_ids))
        # The same group read at 2.64 has a policy and empty rules.
        shown = self.compute.get_server_group(group.id)
        self.assertEqual(('affinity', {}), (shown.policy, shown.rules))
        # Another project lists none of it and may not show it (Nova's policy check
        # against the group's project: 403); the admin lists it with all_projects.
        stranger = self.connect(f'someone:{uuid.uuid4().hex}').compute
        self.assertEqual([], list(stranger.server_groups()))
        self.assertRaises(sdk_exc.ForbiddenException, stranger.get_server_group, group.id)
        self.assertIn(group.id, [g.id for g in self.admin.server_groups(all_projects=True)])
        old.delete_server_group(group)


class TestServerGroupsNovaclient(base.KumoClientTestCase):

    def nova(self, token: str | None = None, version: str = NOVACLIENT_MAX):
        return nova_client.Client(version, session=self.session(token),
                                  endpoint_override=self.compute_url)

    def setUp(self):
        super().setUp()
        self.nc = self.nova()

    def wait_active(self, nc, server_id: str):
        return self.wait_for(f'{server_id} ACTIVE',
                             lambda: (s := nc.servers.get(server_id)).status == 'ACTIVE'
                             and s)

    def test_server_groups(self):
        group = self.nc.server_groups.create(name=_name('nc'), policy='soft-anti-affinity',
                                             rules={})
        self.assertEqual(('soft-anti-affinity', {}, []),
                         (group.policy, group.rules, group.members))
        anti = self.nc.server_groups.create(name=_name('nc'), policy='anti-affinity',
                                            rules={'max_server_per_host': 2})
        self.assertEqual({'max_server_per_host': 2}, anti.rules)
        self.assertEqual({group.id, anti.id}, {g.id for g in self.nc.server_groups.list()})
        server = self.nc.servers.create(_name('nc'), base.IMAGE_ID, base.FLAVOR_ID,
                                        nics='none', scheduler_hints={'group': group.id})
        self.wait_active(self.nc, server.id)
        self.assertEqual([server.id], self.nc.server_groups.get(group.id).members)
        # 2.1: a list of policies, and rules rejected.
        old = self.nova(version='2.1')
        legacy = old.server_groups.create(name=_name('nc'), policies=['affinity'])
        self.assertEqual(['affinity'], legacy.policies)
        self.assertRaises(nova_exc.BadRequest, self.nc.server_groups.create,
                          name=_name('nc'), policy='affinity',
                          rules={'max_server_per_host': 2})
        for each in (group, anti, legacy):
            self.nc.server_groups.delete(each.id)
        self.assertEqual([], self.nc.server_groups.list())
        self.assertRaises(nova_exc.NotFound, self.nc.server_groups.get, group.id)
