"""openstacksdk, python-novaclient and the `openstack` CLI manage host aggregates
against a running Kumo, as Nova operators do: hosts, metadata, the availability zone
an aggregate defines (seen in os-availability-zone and honoured by the scheduler), and
Nova's errors as each client raises them.

Aggregates and hosts are cloud-wide, not per project, so every test names its own
aggregate and zone and undoes what it did even when it fails; the class's kumo-all
(two fake computes, compute1 and compute2) is shared by its tests.
"""
from __future__ import annotations

import uuid

from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from openstack import exceptions as sdk_exc

from tests.clients import base, test_openstackclient

ADMIN_TOKEN = 'admin:admin'
NOVACLIENT_MAX = '2.96'
COMPUTE_SERVICE = 'nova-compute'


def _zone_hosts(zones, name: str) -> dict | None:
    """The hosts of zone `name` in an os-availability-zone detail list, None if the
    zone is not listed. SDK and novaclient objects both carry `hosts`."""
    for zone in zones:
        zone_name = getattr(zone, 'name', None) or getattr(zone, 'zoneName', None)
        if zone_name == name:
            return zone.hosts or {}
    return None


class TestAggregates(base.KumoClientTestCase):
    """One kumo-all for the three clients."""

    # The CLI is driven as test_openstackclient drives it (admin_token, no Keystone).
    env = test_openstackclient.TestOpenStackClient.env
    openstack = test_openstackclient.TestOpenStackClient.openstack

    def unique(self, what: str) -> str:
        return f'{what}-{uuid.uuid4().hex[:8]}'

    # --- openstacksdk ----------------------------------------------------------------

    def test_openstacksdk(self):
        admin = self.connect(ADMIN_TOKEN).compute
        user = self.connect().compute
        name, zone = self.unique('sdk-agg'), self.unique('sdk-zone')

        aggregate = admin.create_aggregate(name=name)
        self.addCleanup(self._sdk_cleanup, admin, aggregate.id)
        self.assertEqual(name, aggregate.name)
        self.assertIsNone(aggregate.availability_zone)
        self.assertTrue(aggregate.uuid)

        added = admin.add_host_to_aggregate(aggregate, 'compute1')
        self.assertEqual(['compute1'], added.hosts)
        meta = admin.set_aggregate_metadata(aggregate, {'availability_zone': zone,
                                                        'ssd': 'true'})
        self.assertEqual({'availability_zone': zone, 'ssd': 'true'}, meta.metadata)
        self.assertEqual(zone, meta.availability_zone)
        # A None value removes the key.
        meta = admin.set_aggregate_metadata(aggregate, {'ssd': None, 'rack': 'r1'})
        self.assertEqual({'availability_zone': zone, 'rack': 'r1'}, meta.metadata)

        self.assertIn(aggregate.id, [a.id for a in admin.aggregates()])
        shown = admin.get_aggregate(aggregate.id)
        self.assertEqual((name, zone, ['compute1'], {'availability_zone': zone,
                                                      'rack': 'r1'}),
                         (shown.name, shown.availability_zone, shown.hosts, shown.metadata))
        renamed = admin.update_aggregate(aggregate.id, name=f'{name}-renamed')
        self.assertEqual(f'{name}-renamed', renamed.name)
        self.assertEqual(f'{name}-renamed', admin.get_aggregate(aggregate.id).name)

        # The zone is an availability zone now, holding compute1 only.
        hosts = _zone_hosts(admin.availability_zones(details=True), zone)
        self.assertEqual(['compute1'], list(hosts))
        self.assertIn(COMPUTE_SERVICE, hosts['compute1'])
        self.assertIn(zone, [z.name for z in user.availability_zones()])
        self.assertNotIn('compute1',
                         _zone_hosts(admin.availability_zones(details=True), 'nova') or {})

        # A server asking for the zone lands on the aggregate's host.
        server = user.create_server(name='in-zone', flavor_id=base.FLAVOR_ID,
                                    image_id=base.IMAGE_ID, networks='none',
                                    availability_zone=zone)
        server = user.wait_for_server(server, interval=base.POLL, wait=base.TIMEOUT)
        self.assertEqual(zone, server.availability_zone)
        self.assertEqual('compute1', admin.get_server(server.id).compute_host)

        # Nova's errors, as the SDK raises them.
        self.assertRaises(sdk_exc.NotFoundException, admin.add_host_to_aggregate,
                          aggregate, 'no-such-host')
        self.assertRaises(sdk_exc.ConflictException, admin.add_host_to_aggregate,
                          aggregate, 'compute1')
        self.assertRaises(sdk_exc.BadRequestException, admin.delete_aggregate, aggregate)
        self.assertRaises(sdk_exc.ForbiddenException, user.create_aggregate, name='mine')

        user.delete_server(server)
        user.wait_for_delete(server, interval=base.POLL, wait=base.TIMEOUT)
        self.assertEqual([], admin.remove_host_from_aggregate(aggregate, 'compute1').hosts)
        # A zone without hosts is no zone.
        self.assertIsNone(_zone_hosts(admin.availability_zones(details=True), zone))
        admin.delete_aggregate(aggregate, ignore_missing=False)
        self.assertRaises(sdk_exc.NotFoundException, admin.get_aggregate, aggregate.id)
        self.assertNotIn(aggregate.id, [a.id for a in admin.aggregates()])

    def _sdk_cleanup(self, admin, aggregate_id: int) -> None:
        """Empty and delete the aggregate if the test stopped half-way."""
        try:
            aggregate = admin.get_aggregate(aggregate_id)
        except sdk_exc.NotFoundException:
            return
        for server in admin.servers(all_projects=True):
            admin.delete_server(server)
            admin.wait_for_delete(server, interval=base.POLL, wait=base.TIMEOUT)
        for host in aggregate.hosts or []:
            admin.remove_host_from_aggregate(aggregate, host)
        admin.delete_aggregate(aggregate)

    # --- python-novaclient -------------------------------------------------------------

    def nova(self, token: str | None = None):
        return nova_client.Client(NOVACLIENT_MAX, session=self.session(token),
                                  endpoint_override=self.compute_url)

    def test_novaclient(self):
        admin, user = self.nova(ADMIN_TOKEN), self.nova()
        name, zone = self.unique('nc-agg'), self.unique('nc-zone')

        aggregate = admin.aggregates.create(name, zone)
        self.addCleanup(self._nova_cleanup, admin, aggregate.id)
        self.assertEqual((name, zone), (aggregate.name, aggregate.availability_zone))

        added = admin.aggregates.add_host(aggregate, 'compute2')
        self.assertEqual(['compute2'], added.hosts)
        meta = admin.aggregates.set_metadata(aggregate, {'gpu': 'none'})
        self.assertEqual({'availability_zone': zone, 'gpu': 'none'}, meta.metadata)

        listed = {a.id: a for a in admin.aggregates.list()}
        self.assertEqual(['compute2'], listed[aggregate.id].hosts)
        shown = admin.aggregates.get(aggregate.id)
        self.assertEqual((name, zone, ['compute2']),
                         (shown.name, shown.availability_zone, shown.hosts))
        self.assertEqual(aggregate.uuid, shown.uuid)
        updated = admin.aggregates.update(aggregate, {'name': f'{name}-2'})
        self.assertEqual(f'{name}-2', updated.name)

        hosts = _zone_hosts(admin.availability_zones.list(), zone)
        self.assertEqual(['compute2'], list(hosts))
        self.assertIn(COMPUTE_SERVICE, hosts['compute2'])
        self.assertTrue(hosts['compute2'][COMPUTE_SERVICE]['available'])
        self.assertIn(zone, [z.zoneName for z in user.availability_zones.list(
            detailed=False)])

        server = user.servers.create('nc-in-zone', base.IMAGE_ID, base.FLAVOR_ID,
                                     nics='none', availability_zone=zone)
        self.wait_for('server ACTIVE',
                      lambda: user.servers.get(server.id).status == 'ACTIVE')
        shown = admin.servers.get(server.id)
        self.assertEqual('compute2', getattr(shown, 'OS-EXT-SRV-ATTR:host'))
        self.assertEqual(zone, getattr(shown, 'OS-EXT-AZ:availability_zone'))

        error = self.assertRaises(nova_exc.NotFound, admin.aggregates.add_host,
                                  aggregate, 'no-such-host')
        self.assertEqual(404, error.code)
        error = self.assertRaises(nova_exc.Conflict, admin.aggregates.add_host,
                                  aggregate, 'compute2')
        self.assertEqual(409, error.code)
        error = self.assertRaises(nova_exc.BadRequest, admin.aggregates.delete, aggregate)
        self.assertEqual(400, error.code)
        self.assertIn('Host aggregate is not empty', str(error))
        self.assertRaises(nova_exc.NotFound, admin.aggregates.remove_host,
                          aggregate, 'compute1')

        user.servers.delete(server)
        self.wait_for('server gone', lambda: self._nova_gone(user, server.id))
        self.assertEqual([], admin.aggregates.remove_host(aggregate, 'compute2').hosts)
        admin.aggregates.delete(aggregate)
        self.assertRaises(nova_exc.NotFound, admin.aggregates.get, aggregate.id)
        self.assertIsNone(_zone_hosts(admin.availability_zones.list(), zone))

    @staticmethod
    def _nova_gone(client, server_id: str) -> bool:
        try:
            client.servers.get(server_id)
        except nova_exc.NotFound:
            return True
        return False

    def _nova_cleanup(self, admin, aggregate_id: int) -> None:
        try:
            aggregate = admin.aggregates.get(aggregate_id)
        except nova_exc.NotFound:
            return
        for server in admin.servers.list(search_opts={'all_tenants': True}):
            admin.servers.delete(server)
            self.wait_for('server gone', lambda s=server: self._nova_gone(admin, s.id))
        for host in aggregate.hosts:
            admin.aggregates.remove_host(aggregate, host)
        admin.aggregates.delete(aggregate)

    # --- the openstack CLI -------------------------------------------------------------

    def test_openstack_cli(self):
        name, zone = self.unique('cli-agg'), self.unique('cli-zone')

        def cli(*args, **kwargs):
            return self.openstack(*args, token=ADMIN_TOKEN, **kwargs)

        created = cli('aggregate', 'create', '--zone', zone, '--property', 'ssd=true',
                      name, '-f', 'json')
        self.addCleanup(self._nova_cleanup, self.nova(ADMIN_TOKEN), created['id'])
        self.assertEqual((name, zone), (created['name'], created['availability_zone']))

        added = cli('aggregate', 'add', 'host', name, 'compute1', '-f', 'json')
        self.assertEqual(['compute1'], added['hosts'])
        cli('aggregate', 'set', '--property', 'rack=r2', name)
        shown = cli('aggregate', 'show', name, '-f', 'json')
        self.assertEqual((created['id'], zone, ['compute1']),
                         (shown['id'], shown['availability_zone'], shown['hosts']))
        self.assertEqual({'ssd': 'true', 'rack': 'r2'}, shown['properties'])

        listed = cli('aggregate', 'list', '--long', '-f', 'json')
        row = next(r for r in listed if r['Name'] == name)
        self.assertEqual(zone, row['Availability Zone'])
        self.assertEqual(['compute1'], row['Hosts'])

        zones = cli('availability', 'zone', 'list', '--compute', '--long', '-f', 'json')
        self.assertIn(('compute1', COMPUTE_SERVICE),
                      {(z['Host Name'], z['Service Name']) for z in zones
                       if z['Zone Name'] == zone})

        proc = cli('aggregate', 'add', 'host', name, 'no-such-host', expect_rc=1)
        self.assertIn('404', proc.stderr)
        self.assertIn('Compute host no-such-host could not be found.', proc.stderr)
        proc = cli('aggregate', 'add', 'host', name, 'compute1', expect_rc=1)
        self.assertIn('409', proc.stderr)
        proc = cli('aggregate', 'delete', name, expect_rc=1)
        self.assertIn('400', proc.stderr)
        self.assertIn('Host aggregate is not empty', proc.stderr)

        removed = cli('aggregate', 'remove', 'host', name, 'compute1', '-f', 'json')
        self.assertEqual([], removed['hosts'])
        cli('aggregate', 'delete', name)
        self.assertNotIn(name, [r['Name'] for r in cli('aggregate', 'list', '-f', 'json')])
        proc = cli('aggregate', 'show', name, expect_rc=1)
        self.assertIn(name, proc.stderr)
