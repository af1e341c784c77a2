"""Each weigher: what it prefers, its multiplier option, and the loader."""
from __future__ import annotations

from kumo_scheduler import filters, weighers
from tests.unit.scheduler.test_filters import _ConfTestCase, host_state, request_spec


def order(hosts, request=None, names=('RAMWeigher', 'CPUWeigher', 'DiskWeigher',
                                      'NumInstancesWeigher', 'BuildFailureWeigher',
                                      'ServerGroupSoftAffinityWeigher',
                                      'ServerGroupSoftAntiAffinityWeigher')):
    return [h.host for h, _ in weighers.weigh(hosts, request,
                                              weighers.load_enabled(list(names))).ranked]


class TestWeighers(_ConfTestCase):

    def test_disk_weigher(self):
        self.flags(group='filter_scheduler', ram_weight_multiplier=0.0,
                   cpu_weight_multiplier=0.0)
        hosts = [host_state('a', local_gb_used=90), host_state('b', local_gb_used=10)]
        self.assertEqual(['b', 'a'], order(hosts))
        self.flags(group='filter_scheduler', disk_weight_multiplier=-1.0)
        self.assertEqual(['a', 'b'], order(hosts))

    def test_num_instances_weigher_off_by_default_then_spreads(self):
        hosts = [host_state('a', instances={'x', 'y'}), host_state('b')]
        self.assertEqual(['a', 'b'], order(hosts, names=['NumInstancesWeigher']))
        self.flags(group='filter_scheduler', num_instances_weight_multiplier=-1.0)
        self.assertEqual(['b', 'a'], order(hosts, names=['NumInstancesWeigher']))

    def test_build_failures_outweigh_everything(self):
        bad = host_state('a', failed_builds=1)  # the emptiest host, but it fails builds
        good = host_state('b', memory_mb_used=6000, vcpus_used=6, local_gb_used=90)
        self.assertEqual(['b', 'a'], order([bad, good]))
        self.flags(group='filter_scheduler', build_failure_weight_multiplier=0.0)
        self.assertEqual(['a', 'b'], order([bad, good]))

    def _group_request(self, policy):
        spec = request_spec()
        group = filters.GroupInfo('g', policy, hosts={'a': 2, 'b': 1})
        return filters.Request(spec=spec, instance_uuid='i', group=group)

    def test_soft_affinity_and_anti_affinity(self):
        self.flags(group='filter_scheduler', ram_weight_multiplier=0.0,
                   cpu_weight_multiplier=0.0, disk_weight_multiplier=0.0)
        hosts = [host_state('a'), host_state('b'), host_state('c')]
        self.assertEqual(['a', 'b', 'c'], order(hosts, self._group_request('soft-affinity')))
        self.assertEqual(['c', 'b', 'a'],
                         order(hosts, self._group_request('soft-anti-affinity')))
        # Off for other policies (the hard ones are filters).
        self.assertEqual(['a', 'b', 'c'], order(list(reversed(hosts)),
                                                self._group_request('anti-affinity')))
        self.flags(group='filter_scheduler', soft_anti_affinity_weight_multiplier=0.0)
        self.assertEqual(['a', 'b', 'c'],
                         order(hosts, self._group_request('soft-anti-affinity')))

    def test_breakdown_and_keep(self):
        hosts = [host_state(n, memory_mb_used=i * 100) for i, n in enumerate('abcdef')]
        result = weighers.weigh(hosts, None, weighers.load_enabled(['RAMWeigher']), keep=2)
        self.assertEqual(['a', 'b'], [h.host for h, _ in result.ranked])
        self.assertEqual({'RAMWeigher': 1.0}, result.breakdown(result.ranked[0][0]))

    def test_load_enabled(self):
        self.assertEqual(7, len(weighers.load_enabled(
            ['nova.scheduler.weights.all_weighers'])))
        self.assertEqual(['RAMWeigher'], [w.name for w in weighers.load_enabled(
            ['nova.scheduler.weights.ram.RAMWeigher'])])
        self.assertRaises(ValueError, weighers.load_enabled, ['NoSuchWeigher'])
