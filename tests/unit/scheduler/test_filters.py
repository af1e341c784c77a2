"""The filter scheduler: each filter's verdict and reason, the weighers' order, and
select_destinations over a real (SQLite) database, concurrent claims included."""
from __future__ import annotations

import datetime
import threading
import uuid as uuidlib

import sqlalchemy as sa
import testtools
from oslo_config import cfg

from kumo_common import context, exceptions, objects
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import models, session
from kumo_common.db import scheduling as sched_db
from kumo_scheduler import filters, weighers
from kumo_scheduler.filters import compute as compute_filter
from kumo_scheduler.filters import resources
from kumo_scheduler.host_state import HostState
from kumo_scheduler.manager import SchedulerManager
from tests.fixtures import cloud, database

CONF = cfg.CONF


def host_state(name: str = 'compute1', seconds_since_heartbeat: float | None = 1.0,
               **kw) -> HostState:
    """A healthy, empty 8 vCPU / 8 GB / 100 GB host, unless told otherwise."""
    last = (None if seconds_since_heartbeat is None else
            models.utcnow() - datetime.timedelta(seconds=seconds_since_heartbeat))
    values = dict(
        node_id=1, uuid=str(uuidlib.uuid4()), host=name, nodename=name,
        host_ip='127.0.1.1', cell_name='cell1', availability_zone='nova',
        hypervisor_type='fake', hypervisor_version=1000, vcpus_total=8, vcpus_used=0,
        memory_mb=8192, memory_mb_used=0, local_gb=100, local_gb_used=0,
        cpu_allocation_ratio=1.0, ram_allocation_ratio=1.0, disk_allocation_ratio=1.0,
        reserved_host_cpus=0, reserved_host_memory_mb=0, reserved_host_disk_mb=0,
        service_disabled=False, service_disabled_reason=None,
        service_forced_down=False, last_seen_up=last)
    values.update(kw)
    state = HostState(**values)
    state.recompute()
    return state


def request_spec(vcpus: int = 1, memory_mb: int = 512, root_gb: int = 1,
                 ephemeral_gb: int = 0, swap: int = 0, uuids=None) -> objects.RequestSpec:
    return objects.RequestSpec(
        instance_uuids=list(uuids or [str(uuidlib.uuid4())]), project_id='p',
        user_id='u',
        flavor=objects.FlavorSpec(flavorid='f', name='f', vcpus=vcpus,
                                  memory_mb=memory_mb, root_gb=root_gb,
                                  ephemeral_gb=ephemeral_gb, swap=swap))


def request(**kw) -> filters.Request:
    """What a filter is given: the spec of one instance (see request_spec)."""
    spec = request_spec(**kw)
    return filters.Request(spec=spec, instance_uuid=spec.instance_uuids[0])


class _ConfTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        cloud.ensure_conf_parsed()

    def flags(self, group=None, **kw):
        for name, value in kw.items():
            CONF.set_override(name, value, group=group)
            self.addCleanup(CONF.clear_override, name, group=group)


class TestComputeFilter(_ConfTestCase):

    def setUp(self):
        super().setUp()
        self.flags(service_down_time=60)
        self.filter = compute_filter.ComputeFilter()

    def test_healthy_host_passes(self):
        self.assertTrue(self.filter.passes(host_state(), request()).passed)

    def test_disabled(self):
        verdict = self.filter.passes(
            host_state(service_disabled=True, service_disabled_reason='kernel upgrade'),
            request())
        self.assertEqual(filters.Verdict(False, 'compute service disabled (kernel upgrade)',
                                         'compute.disabled'), verdict)
        verdict = self.filter.passes(host_state(service_disabled=True), request())
        self.assertEqual('compute service disabled (no reason given)', verdict.reason)

    def test_forced_down(self):
        verdict = self.filter.passes(host_state(service_forced_down=True), request())
        self.assertEqual(filters.Verdict(False, 'compute service forced down',
                                         'compute.forced_down'), verdict)

    def test_stale_heartbeat(self):
        verdict = self.filter.passes(host_state(seconds_since_heartbeat=125.4),
                                     request())
        self.assertFalse(verdict.passed)
        self.assertEqual('compute.down', verdict.code)
        self.assertEqual('compute service down: last heartbeat 125s ago '
                         '(service_down_time 60s)', verdict.reason)

    def test_heartbeat_at_the_limit_is_alive(self):
        # Just inside the limit (the heartbeat's age is measured against the clock,
        # which moves on between building the state and judging it).
        self.assertTrue(self.filter.passes(host_state(seconds_since_heartbeat=59.5),
                                           request()).passed)
        self.flags(service_down_time=30)
        verdict = self.filter.passes(host_state(seconds_since_heartbeat=60), request())
        self.assertIn('(service_down_time 30s)', verdict.reason)

    def test_never_reported(self):
        verdict = self.filter.passes(host_state(seconds_since_heartbeat=None),
                                     request())
        self.assertEqual(filters.Verdict(False, 'compute service never reported',
                                         'compute.never_reported'), verdict)


class TestResourceFilters(testtools.TestCase):

    def test_ram_with_reserved_and_ratio(self):
        flt = resources.RamFilter()
        # (4096 - 512) * 1.0 - 3000 = 584 MB usable.
        host = host_state(memory_mb=4096, reserved_host_memory_mb=512, memory_mb_used=3000)
        self.assertTrue(flt.passes(host, request(memory_mb=584)).passed)
        verdict = flt.passes(host, request(memory_mb=1024))
        self.assertEqual(filters.Verdict(False, 'ram: needs 1024 MB, free 584 MB '
                                         '(ram_allocation_ratio 1)', 'ram.insufficient'),
                         verdict)
        # Overcommit 1.5: (4096 - 512) * 1.5 - 3000 = 2376 MB usable.
        host.ram_allocation_ratio = 1.5
        host.recompute()
        self.assertTrue(flt.passes(host, request(memory_mb=2376)).passed)
        self.assertEqual('ram: needs 2377 MB, free 2376 MB (ram_allocation_ratio 1.5)',
                         flt.passes(host, request(memory_mb=2377)).reason)

    def test_core_with_reserved_and_ratio(self):
        flt = resources.CoreFilter()
        # (4 - 1) * 4.0 - 10 = 2 vCPUs usable.
        host = host_state(vcpus_total=4, reserved_host_cpus=1, cpu_allocation_ratio=4.0,
                          vcpus_used=10)
        self.assertTrue(flt.passes(host, request(vcpus=2)).passed)
        self.assertEqual(filters.Verdict(False, 'vcpu: needs 3, free 2 (cpu_allocation_ratio '
                                         '4)', 'vcpu.insufficient'),
                         flt.passes(host, request(vcpus=3)))
        host.cpu_allocation_ratio = 1.0  # (4 - 1) - 10 < 0: full
        host.recompute()
        self.assertEqual('vcpu: needs 1, free 0 (cpu_allocation_ratio 1)',
                         flt.passes(host, request(vcpus=1)).reason)

    def test_disk_with_reserved_ratio_ephemeral_and_swap(self):
        flt = resources.DiskFilter()
        # (100 - 10240/1024) * 1.0 - 80 = 10 GB usable.
        host = host_state(local_gb=100, reserved_host_disk_mb=10240, local_gb_used=80)
        self.assertTrue(flt.passes(host, request(root_gb=10)).passed)
        self.assertEqual(filters.Verdict(False, 'disk: needs 11 GB, free 10 GB '
                                         '(disk_allocation_ratio 1)', 'disk.insufficient'),
                         flt.passes(host, request(root_gb=9, ephemeral_gb=2)))
        # Swap counts in whole GB, rounded up.
        self.assertFalse(flt.passes(host, request(root_gb=10, swap=1)).passed)
        host.disk_allocation_ratio = 2.0  # 90 * 2 - 80 = 100 GB usable
        host.recompute()
        self.assertTrue(flt.passes(host, request(root_gb=100)).passed)

    def test_load_enabled(self):
        loaded = filters.load_enabled(['DiskFilter', 'ComputeFilter'])
        self.assertEqual(['DiskFilter', 'ComputeFilter'], [f.name for f in loaded])
        exc = self.assertRaises(ValueError, filters.load_enabled,
                                ['ComputeFilter', 'NoSuchFilter'])
        self.assertIn('NoSuchFilter', str(exc))
        self.assertIn('known: ', str(exc))


class TestWeighers(_ConfTestCase):

    def _order(self, hosts):
        return [h.host for h, _w in weighers.weigh_simple(hosts)]

    def test_spread_by_free_ram_by_default(self):
        hosts = [host_state('a', memory_mb_used=6000), host_state('b', memory_mb_used=0),
                 host_state('c', memory_mb_used=3000)]
        self.assertEqual(['b', 'c', 'a'], self._order(hosts))

    def test_negative_multiplier_stacks(self):
        self.flags(group='filter_scheduler', ram_weight_multiplier=-1.0,
                   cpu_weight_multiplier=0.0, disk_weight_multiplier=0.0)
        hosts = [host_state('a', memory_mb_used=6000), host_state('b', memory_mb_used=0),
                 host_state('c', memory_mb_used=3000)]
        self.assertEqual(['a', 'c', 'b'], self._order(hosts))

    def test_weights_normalised_and_summed(self):
        self.flags(group='filter_scheduler', ram_weight_multiplier=1.0,
                   cpu_weight_multiplier=2.0, disk_weight_multiplier=0.0)
        # a: most free RAM (1.0 * 1), fewest free vCPUs (2.0 * 0) -> 1.0
        # b: least free RAM (1.0 * 0), most free vCPUs (2.0 * 1) -> 2.0
        hosts = [host_state('a', memory_mb_used=0, vcpus_used=8),
                 host_state('b', memory_mb_used=4096, vcpus_used=0)]
        ranked = weighers.weigh_simple(hosts)
        self.assertEqual([('b', 2.0), ('a', 1.0)], [(h.host, w) for h, w in ranked])

    def test_ties_broken_by_name(self):
        hosts = [host_state('c'), host_state('a'), host_state('b')]
        self.assertEqual(['a', 'b', 'c'], self._order(hosts))
        self.assertEqual([], weighers.weigh_simple([]))


def _register_node(host: str, vcpus: int = 4, memory_mb: int = 4096,
                   local_gb: int = 100, **kw) -> int:
    """Register a compute node the way the conductor does for an agent; its id."""
    report = objects.NodeReport(
        host=host, node_uuid=str(uuidlib.uuid4()), hypervisor_hostname=host,
        hypervisor_type='fake', hypervisor_version=1000, host_ip='127.0.1.1',
        cell_name='cell1', vcpus=vcpus, memory_mb=memory_mb, local_gb=local_gb,
        cpu_allocation_ratio=kw.pop('cpu_allocation_ratio', 1.0),
        ram_allocation_ratio=kw.pop('ram_allocation_ratio', 1.0),
        reserved_host_memory_mb=kw.pop('reserved_host_memory_mb', 0), **kw)
    with session.transaction() as s:
        return node_db.upsert_node(s, report, 'nova').id


class TestSelectDestinations(_ConfTestCase):
    """SchedulerManager.select_destinations on a real database with two nodes."""

    def setUp(self):
        super().setUp()
        self.useFixture(database.Database('sqlite'))
        self.flags(service_down_time=60)
        # The filters under test, whatever the default list holds.
        self.flags(group='filter_scheduler', host_subset_size=1,
                   enabled_filters=['ComputeFilter', 'RamFilter', 'CoreFilter',
                                    'DiskFilter'])
        self.ctxt = context.get_admin_context()

    def _node(self, node_id: int) -> models.ComputeNode:
        with session.reader() as s:
            return s.get(models.ComputeNode, node_id)

    def _allocations(self) -> list[tuple[str, int]]:
        with session.reader() as s:
            return [tuple(r) for r in s.execute(sa.select(
                models.Allocation.instance_uuid, models.Allocation.compute_node_id))]

    def _set_service(self, host: str, **values) -> None:
        with session.transaction() as s:
            s.execute(sa.update(models.Service).where(models.Service.host == host)
                      .values(**values))

    def test_picks_the_emptier_host_and_claims_on_it(self):
        busy = _register_node('compute1', memory_mb=8192)
        empty = _register_node('compute2', memory_mb=8192)
        with session.transaction() as s:
            self.assertTrue(node_db.claim(s, busy, 'existing', 2, 4096, 20))
        spec = request_spec(vcpus=1, memory_mb=1024, root_gb=10)
        [selection] = SchedulerManager().select_destinations(self.ctxt, spec)
        self.assertEqual('compute2', selection.service_host)
        self.assertEqual(spec.instance_uuids[0], selection.instance_uuid)
        self.assertEqual(self._node(empty).uuid, selection.compute_node_uuid)
        self.assertEqual(['compute1'], selection.alternate_hosts)
        node = self._node(empty)
        self.assertEqual((1, 1024, 10), (node.vcpus_used, node.memory_mb_used,
                                         node.local_gb_used))
        self.assertIn((spec.instance_uuids[0], empty), self._allocations())

    def test_several_instances_see_each_others_claims(self):
        _register_node('compute1', memory_mb=4096)
        _register_node('compute2', memory_mb=4096)
        spec = request_spec(memory_mb=2048, uuids=['i1', 'i2', 'i3', 'i4'])
        selections = SchedulerManager().select_destinations(self.ctxt, spec)
        hosts = sorted(s.service_host for s in selections)
        self.assertEqual(['compute1', 'compute1', 'compute2', 'compute2'], hosts)

    def test_no_valid_host_explains_each_filter(self):
        _register_node('compute1')
        _register_node('compute2', memory_mb=2048)
        _register_node('compute3')
        self._set_service('compute1', disabled=True, disabled_reason='maintenance')
        self._set_service('compute3', last_seen_up=models.utcnow()
                          - datetime.timedelta(seconds=600))
        spec = request_spec(memory_mb=3072)
        exc = self.assertRaises(exceptions.NoValidHost,
                                SchedulerManager().select_destinations, self.ctxt, spec)
        self.assertEqual('No valid host was found. 0 of 3 hosts: 2 removed by '
                         'ComputeFilter, 1 by RamFilter', str(exc))
        self.assertEqual([], self._allocations())
        # The full reasons are in the instance's scheduling report.
        with session.reader() as s:
            [row] = sched_db.reports(s, spec.instance_uuids[0])
        self.assertEqual('no_valid_host', row.result)
        steps = {step['name']: step for step in row.report['filters']}
        self.assertEqual(
            [('compute1', 'compute.disabled', 'compute service disabled (maintenance)'),
             ('compute3', 'compute.down', 'compute service down: last heartbeat 600s ago '
              '(service_down_time 60s)')],
            [(r['host'], r['code'], r['reason']) for r in steps['ComputeFilter']['removed']])
        self.assertEqual(
            [('compute2', 'ram.insufficient', 'ram: needs 3072 MB, free 2048 MB '
              '(ram_allocation_ratio 1)')],
            [(r['host'], r['code'], r['reason']) for r in steps['RamFilter']['removed']])
        self.assertEqual((3, 1), (steps['ComputeFilter']['hosts_in'],
                                  steps['ComputeFilter']['hosts_out']))

    def test_no_hosts_at_all(self):
        exc = self.assertRaises(exceptions.NoValidHost,
                                SchedulerManager().select_destinations, self.ctxt,
                                request_spec())
        self.assertIn('0 of 0 hosts: no compute hosts are registered', str(exc))

    def test_all_or_nothing(self):
        node = _register_node('compute1', memory_mb=4096)
        _register_node('compute2', memory_mb=1024)
        spec = request_spec(memory_mb=3000, uuids=['i1', 'i2'])
        exc = self.assertRaises(exceptions.NoValidHost,
                                SchedulerManager().select_destinations, self.ctxt, spec)
        self.assertIn('RamFilter', str(exc))
        # The first instance's claim was given back.
        self.assertEqual([], self._allocations())
        self.assertEqual(0, self._node(node).memory_mb_used)

    def test_ignore_hosts_are_reported(self):
        _register_node('compute1')
        spec = request_spec()
        spec.ignore_hosts = ['compute1']
        exc = self.assertRaises(exceptions.NoValidHost,
                                SchedulerManager().select_destinations, self.ctxt, spec)
        self.assertIn('0 of 1 hosts: 1 removed by RetryFilter', str(exc))

    def test_concurrent_claims_never_overcommit(self):
        # Room for exactly one 1024 MB server per node: two in all, eight asking.
        nodes = [_register_node(f'compute{n}', memory_mb=1536, reserved_host_memory_mb=512)
                 for n in (1, 2)]
        barrier = threading.Barrier(8, timeout=30)
        placed, refused, failed = [], [], []
        # One scheduler each, as if in separate processes.
        schedulers = [SchedulerManager() for _ in range(8)]

        def schedule(n):
            spec = request_spec(memory_mb=1024, uuids=[f'instance-{n}'])
            try:
                barrier.wait()
                placed.extend(schedulers[n].select_destinations(self.ctxt, spec))
            except exceptions.NoValidHost as exc:
                refused.append(str(exc))
            except Exception as exc:  # reported below
                failed.append(repr(exc))

        threads = [threading.Thread(target=schedule, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual([], failed)
        self.assertEqual(2, len(placed), placed)
        self.assertEqual(6, len(refused))
        self.assertEqual(['compute1', 'compute2'], sorted(s.service_host for s in placed))
        for node_id in nodes:
            node = self._node(node_id)
            self.assertEqual(1024, node.memory_mb_used)
        allocations = self._allocations()
        self.assertEqual(sorted(s.instance_uuid for s in placed),
                         sorted(uuid for uuid, _node in allocations))

    def test_concurrent_anti_affinity_claims_never_share_a_host(self):
        # Three roomy nodes, one anti-affinity group, eight members racing from eight
        # schedulers whose host states all say "the group is empty".
        for n in (1, 2, 3):
            _register_node(f'compute{n}', vcpus=64, memory_mb=65536)
        self.flags(group='filter_scheduler', enabled_filters=[
            'ComputeFilter', 'RamFilter', 'ServerGroupAntiAffinityFilter'])
        uuids = [f'member-{n}' for n in range(8)]
        with session.transaction() as s:
            group = models.ServerGroup(uuid=str(uuidlib.uuid4()), project_id='p',
                                       user_id='u', policy='anti-affinity', rules={})
            s.add(group)
            s.flush()
            for uuid in uuids:
                s.add(models.ServerGroupMember(group_id=group.id, instance_uuid=uuid))
            group_uuid = group.uuid
        schedulers = [SchedulerManager() for _ in uuids]
        for scheduler in schedulers:  # load host states before the race
            with session.reader() as s:
                scheduler.host_manager.hosts(s)
        barrier = threading.Barrier(len(uuids), timeout=30)
        placed, refused, failed = [], [], []

        def schedule(n):
            spec = request_spec(memory_mb=512, uuids=[uuids[n]])
            spec.scheduler_hints = {'group': [group_uuid]}
            try:
                barrier.wait()
                placed.extend(schedulers[n].select_destinations(self.ctxt, spec))
            except exceptions.NoValidHost as exc:
                refused.append(str(exc))
            except Exception as exc:  # reported below
                failed.append(repr(exc))

        threads = [threading.Thread(target=schedule, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual([], failed)
        self.assertEqual(['compute1', 'compute2', 'compute3'],
                         sorted(s.service_host for s in placed))
        self.assertEqual(5, len(refused))
        self.assertEqual(3, len(self._allocations()))
