"""Each hint filter, the AZ/image/aggregate/instance-count filters and the JSON query
language: verdicts, reason codes and sentences, and Nova's quirks."""
from __future__ import annotations

import ipaddress
import json

import testtools

from kumo_common import objects
from kumo_scheduler import filters
from kumo_scheduler.filters import (
    affinity,
    aggregate_extra_specs,
    availability_zone,
    cells,
    extra_specs_ops,
    image_props,
    json_filter,
    num_instances,
)
from kumo_scheduler.host_state import AggregateInfo, HostManager
from tests.unit.scheduler.test_filters import _ConfTestCase, host_state, request_spec

A, B, C = ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222',
           '33333333-3333-3333-3333-333333333333')


def req(hints=None, places=None, group=None, az=None, image_props_=None, extra_specs=None):
    spec = request_spec()
    spec.scheduler_hints = {k: v if isinstance(v, list) else [v]
                            for k, v in (hints or {}).items()}
    spec.availability_zone = az
    if image_props_ is not None:
        spec.image = objects.ImageSpec(id='i', properties=image_props_)
    if extra_specs is not None:
        spec.flavor.extra_specs = extra_specs
    return filters.Request(spec=spec, instance_uuid=spec.instance_uuids[0],
                           instance_hosts=places or {}, group=group)


def with_aggregates(state, *aggs):
    HostManager._assign_aggregates(state, [AggregateInfo(i, f'u{i}', f'agg{i}', md)
                                           for i, md in enumerate(aggs)])
    return state


def names(hosts):
    return [h.host for h in hosts]


class TestSameDifferentHost(testtools.TestCase):
    hosts = [host_state('h1'), host_state('h2'), host_state('h3')]
    places = {A: ('h1', 'cell1'), B: ('h2', 'cell1')}

    def test_same_host_any_listed(self):
        flt = affinity.SameHostFilter()
        passed, removed = flt.filter_all(self.hosts, req({'same_host': [A, B]}, self.places))
        self.assertEqual(['h1', 'h2'], names(passed))
        [(host, verdict)] = removed
        self.assertEqual(('h3', 'same_host.not_colocated'), (host.host, verdict.code))
        self.assertEqual(f'same_host: runs none of {A}, {B}', verdict.reason)
        # Same verdicts host by host.
        self.assertFalse(flt.passes(host, req({'same_host': [A, B]}, self.places)).passed)

    def test_no_hint_passes_all(self):
        for flt in (affinity.SameHostFilter(), affinity.DifferentHostFilter()):
            self.assertEqual((self.hosts, []), flt.filter_all(self.hosts, req()))

    def test_same_host_of_unplaced_instance_passes_nothing(self):
        passed, _ = affinity.SameHostFilter().filter_all(self.hosts, req({'same_host': C}))
        self.assertEqual([], passed)

    def test_different_host(self):
        flt = affinity.DifferentHostFilter()
        passed, removed = flt.filter_all(self.hosts, req({'different_host': A}, self.places))
        self.assertEqual(['h2', 'h3'], names(passed))
        self.assertEqual([('h1', 'different_host.colocated', f'different_host: runs {A}')],
                         [(h.host, v.code, v.reason) for h, v in removed])


class TestCIDR(testtools.TestCase):

    def test_inside_network(self):
        hosts = [host_state('a', host_ip='10.0.0.5'), host_state('b', host_ip='10.0.1.5'),
                 host_state('c', host_ip=None), host_state('d', host_ip='fd00::1')]
        for h in hosts:  # the HostManager parses node IPs once; do it here
            ip = ipaddress.ip_address(h.host_ip) if h.host_ip else None
            h.host_ip_int, h.host_ip_version = (int(ip), ip.version) if ip else (None, None)
        flt = affinity.SimpleCIDRAffinityFilter()
        passed, removed = flt.filter_all(hosts, req({'build_near_host_ip': '10.0.0.1'}))
        self.assertEqual(['a'], names(passed))  # default /24
        self.assertEqual('cidr: host IP 10.0.1.5 is outside 10.0.0.0/24', removed[0][1].reason)
        passed, _ = flt.filter_all(hosts, req({'build_near_host_ip': '10.0.0.1',
                                               'cidr': '/16'}))
        self.assertEqual(['a', 'b'], names(passed))
        passed, _ = flt.filter_all(hosts, req({'build_near_host_ip': 'fd00::9',
                                               'cidr': '/64'}))
        self.assertEqual(['d'], names(passed))
        # cidr alone is ignored, as Nova.
        self.assertEqual((hosts, []), flt.filter_all(hosts, req({'cidr': '/8'})))


class TestGroups(testtools.TestCase):

    def test_anti_affinity_with_max_server_per_host(self):
        group = filters.GroupInfo('g', 'anti-affinity', hosts={'h1': 1, 'h2': 2})
        flt = affinity.ServerGroupAntiAffinityFilter()
        hosts = [host_state('h1'), host_state('h2'), host_state('h3')]
        passed, removed = flt.filter_all(hosts, req(group=group))
        self.assertEqual(['h3'], names(passed))
        self.assertEqual('group g (anti-affinity): host has 1 member(s), '
                         'max_server_per_host 1', removed[0][1].reason)
        group.rules = {'max_server_per_host': 2}
        self.assertEqual(['h1', 'h3'], names(flt.filter_all(hosts, req(group=group))[0]))
        # Not this filter's policy: everything passes.
        group.policy = 'affinity'
        self.assertEqual(3, len(flt.filter_all(hosts, req(group=group))[0]))

    def test_affinity(self):
        flt = affinity.ServerGroupAffinityFilter()
        hosts = [host_state('h1'), host_state('h2')]
        empty = filters.GroupInfo('g', 'affinity')
        self.assertEqual(2, len(flt.filter_all(hosts, req(group=empty))[0]))
        placed = filters.GroupInfo('g', 'affinity', hosts={'h2': 1})
        passed, removed = flt.filter_all(hosts, req(group=placed))
        self.assertEqual(['h2'], names(passed))
        self.assertEqual('group.affinity', removed[0][1].code)


class TestCells(testtools.TestCase):
    hosts = [host_state('h1', cell_name='cell1'), host_state('h2', cell_name='cell2')]

    def test_target_cell(self):
        passed, removed = cells.TargetCellFilter().filter_all(
            self.hosts, req({'target_cell': 'cell2'}))
        self.assertEqual(['h2'], names(passed))
        self.assertEqual("target_cell: host is in cell 'cell1', not 'cell2'",
                         removed[0][1].reason)

    def test_different_cell_by_instance_or_name(self):
        flt = cells.DifferentCellFilter()
        passed, removed = flt.filter_all(self.hosts, req({'different_cell': A},
                                                         {A: ('h1', 'cell1')}))
        self.assertEqual(['h2'], names(passed))
        self.assertIn(f'instance {A} is there', removed[0][1].reason)
        passed, _ = flt.filter_all(self.hosts, req({'different_cell': 'cell2'}))
        self.assertEqual(['h1'], names(passed))


class TestAvailabilityZone(_ConfTestCase):

    def test_zone_from_aggregates_else_default(self):
        self.flags(default_availability_zone='nova')
        inside = with_aggregates(host_state('h1'), {'availability_zone': 'az1'})
        plain = with_aggregates(host_state('h2'))
        flt = availability_zone.AvailabilityZoneFilter()
        self.assertEqual(['h1'], names(flt.filter_all([inside, plain], req(az='az1'))[0]))
        passed, removed = flt.filter_all([inside, plain], req(az='nova'))
        self.assertEqual(['h2'], names(passed))
        self.assertEqual("availability zone: requested 'nova', host is in 'az1'",
                         removed[0][1].reason)
        self.assertEqual(2, len(flt.filter_all([inside, plain], req())[0]))


class TestImageProperties(testtools.TestCase):

    def test_architecture_hv_type_vm_mode_version(self):
        flt = image_props.ImagePropertiesFilter()
        x86 = host_state('x86', hypervisor_type='qemu', hypervisor_version=6002000)
        x86.architecture = 'x86_64'
        arm = host_state('arm', hypervisor_type='qemu', hypervisor_version=6002000)
        arm.architecture = 'aarch64'
        unknown = host_state('unknown', hypervisor_type='kvm')
        hosts = [x86, arm, unknown]
        passed, removed = flt.filter_all(hosts, req(image_props_={'hw_architecture': 'amd64'}))
        self.assertEqual(['x86', 'unknown'], names(passed))
        self.assertEqual(('image.arch_mismatch', 'image: needs architecture x86_64, host is '
                          'aarch64'), (removed[0][1].code, removed[0][1].reason))
        passed, _ = flt.filter_all(hosts, req(image_props_={'hypervisor_type': 'KVM'}))
        self.assertEqual(['unknown'], names(passed))
        passed, removed = flt.filter_all(hosts, req(image_props_={'hw_vm_mode': 'xen'}))
        self.assertEqual([], passed)
        self.assertEqual('image.vm_mode_mismatch', removed[0][1].code)
        props = {'img_hv_type': 'qemu', 'img_hv_requested_version': '>=6.1'}
        self.assertEqual(['x86', 'arm'], names(flt.filter_all(hosts, req(
            image_props_=props))[0]))
        props['img_hv_requested_version'] = '>=7.0'
        passed, removed = flt.filter_all(hosts, req(image_props_=props))
        self.assertEqual([], passed)
        self.assertEqual('image: needs hypervisor version >=7.0, host has 6.2.0',
                         removed[0][1].reason)
        # No properties: every host passes.
        self.assertEqual((hosts, []), flt.filter_all(hosts, req(image_props_={})))

    def test_fake_hypervisor_stands_in_for_any(self):
        fake = host_state('f', hypervisor_type='fake')
        self.assertTrue(image_props.ImagePropertiesFilter().passes(
            fake, req(image_props_={'hypervisor_type': 'qemu'})).passed)


class TestAggregateExtraSpecs(testtools.TestCase):

    def test_scoped_and_unscoped_keys(self):
        ssd = with_aggregates(host_state('ssd'), {'disk': 'ssd', 'gpus': '4'})
        hdd = with_aggregates(host_state('hdd'), {'disk': 'hdd'})
        flt = aggregate_extra_specs.AggregateInstanceExtraSpecsFilter()
        passed, removed = flt.filter_all([ssd, hdd], req(extra_specs={
            'aggregate_instance_extra_specs:disk': 'ssd', 'hw:cpu_policy': 'dedicated'}))
        self.assertEqual(['ssd'], names(passed))
        self.assertEqual('aggregate.value_mismatch', removed[0][1].code)
        passed, removed = flt.filter_all([ssd, hdd], req(extra_specs={'gpus': '>= 2'}))
        self.assertEqual(['ssd'], names(passed))
        self.assertEqual('aggregate.missing_key', removed[0][1].code)

    def test_operators(self):
        for value, requirement, expected in (
                ('4', '= 2', True), ('1', '= 2', False), ('a', 's== a', True),
                ('abc', '<in> b', True), ('x y', '<all-in> x y', True),
                ('b', '<or> a <or> b', True), ('c', '<or> a <or> b', False),
                ('3', '!= 3', False), ('ssd', 'ssd', True), ('x', '>= 1', False)):
            self.assertEqual(expected, extra_specs_ops.match(value, requirement),
                             (value, requirement))


class TestNumInstances(_ConfTestCase):

    def test_limit(self):
        self.flags(group='filter_scheduler', max_instances_per_host=2)
        full = host_state('full', instances={'a', 'b'})
        room = host_state('room', instances={'a'})
        passed, removed = num_instances.NumInstancesFilter().filter_all([full, room], req())
        self.assertEqual(['room'], names(passed))
        self.assertEqual('instances: host runs 2, max_instances_per_host is 2',
                         removed[0][1].reason)


class TestJsonFilter(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.host = host_state('h1', memory_mb=8192, memory_mb_used=1024)
        self.host.cpu_info = {'arch': 'x86_64', 'features': ['vmx']}

    def ev(self, query):
        return json_filter.evaluate(query, self.host)

    def test_operators(self):
        self.assertTrue(self.ev(['>=', '$free_ram_mb', 1024, 7168]))
        self.assertFalse(self.ev(['>=', '$free_ram_mb', 1024, 7169]))
        self.assertTrue(self.ev(['=', '$host', 'h1']))
        self.assertTrue(self.ev(['in', '$host', 'h0', 'h1']))
        self.assertTrue(self.ev(['<', 1, 2, 3]))
        self.assertEqual([False, True], self.ev(['not', True, False]))
        self.assertTrue(self.ev(['or', False, True]))
        self.assertFalse(self.ev(['and', True, False]))
        self.assertTrue(self.ev(['=', '$cpu_info.arch', 'x86_64']))

    def test_nova_quirks(self):
        # Unresolvable variables are dropped: one argument left -> False.
        self.assertFalse(self.ev(['=', '$no_such_attr', 1]))
        # ... and dropped from `and`, which then holds only True.
        self.assertTrue(self.ev(['and', '$nothing', True]))
        self.assertTrue(self.ev([]))
        self.assertFalse(self.ev(['=', 1]))

    def test_filter_verdicts(self):
        flt = json_filter.JsonFilter()
        hosts = [self.host, host_state('h2', memory_mb=1024)]
        query = json.dumps(['>=', '$free_ram_mb', 2048])
        passed, removed = flt.filter_all(hosts, req({'query': query}))
        self.assertEqual(['h1'], names(passed))
        self.assertEqual(('query.false', f'query: {query} is false for this host'),
                         (removed[0][1].code, removed[0][1].reason))
        # A list result passes if any element is true.
        self.assertTrue(flt.passes(self.host, req({'query': '["not", true, false]'})).passed)
        # Comparing a number with a string rejects with a reason (Nova would crash).
        verdict = flt.passes(self.host, req({'query': '["<", "$host", 3]'}))
        self.assertEqual('query.error', verdict.code)

    def test_syntax_check(self):
        self.assertIsNone(json_filter.check_syntax(['and', ['=', 1, 1]]))
        self.assertIn("unknown operator '~'", json_filter.check_syntax(['and', ['~', 1]]))
        self.assertIn('JSON list', json_filter.check_syntax({'a': 1}))
