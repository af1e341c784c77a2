"""Every filter's one-pass judgement (`split`, with its lazily written reasons) gives
exactly what judging each host with `passes` gives: the same hosts kept, in order,
and for every removed host the same code and sentence; and a scheduling report step
lists and counts them as it did from (host, verdict) pairs."""
from __future__ import annotations

import datetime
from collections import Counter

from kumo_common.db import models
from kumo_scheduler import filters, report
from kumo_scheduler.filters import GroupInfo
from tests.unit.scheduler.test_filters import _ConfTestCase, host_state
from tests.unit.scheduler.test_hint_filters import req, with_aggregates

A, B = '11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222'


def varied_hosts() -> list:
    """Hosts unlike each other in everything some filter reads."""
    now = models.utcnow()
    hosts = [
        host_state('h00'),
        host_state('h01', service_disabled=True, service_disabled_reason='maintenance'),
        host_state('h02', service_forced_down=True),
        host_state('h03', seconds_since_heartbeat=None),
        host_state('h04', seconds_since_heartbeat=600),
        host_state('h05', echo_error='timed out', echo_at=now - datetime.timedelta(seconds=5)),
        host_state('h06', memory_mb_used=7900),
        host_state('h07', vcpus_used=8),
        host_state('h08', local_gb_used=99),
        host_state('h09', architecture='aarch64'),
        host_state('h10', hypervisor_type='qemu', hypervisor_version=2001000),
        host_state('h11', host_ip='10.0.0.7', host_ip_int=0x0A000007, host_ip_version=4),
        host_state('h12', host_ip='fd00::9', host_ip_int=0xFD00 << 112 | 9,
                   host_ip_version=6),
        host_state('h13', cell_name='cell2'),
        host_state('h14', instances={f'i{n}' for n in range(60)}),
        host_state('h15', architecture='x86_64', hypervisor_type='kvm'),
        with_aggregates(host_state('h16'), {'availability_zone': 'az1', 'ssd': 'true'}),
        with_aggregates(host_state('h17'), {'availability_zone': 'az1'},
                        {'availability_zone': 'az2', 'ssd': 'false'}),
    ]
    for n in range(18, 40):  # plain ones, so the removed lists are long
        hosts.append(host_state(f'h{n:02d}', cell_name=f'cell{n % 3}',
                                memory_mb_used=(n * 700) % 8192))
    return hosts


def requests() -> list:
    places = {A: ('h00', 'cell1'), B: ('h13', 'cell2')}
    anti = GroupInfo(uuid='g', policy='anti-affinity', hosts={'h00': 1, 'h20': 2})
    anti2 = GroupInfo(uuid='g2', policy='anti-affinity', rules={'max_server_per_host': 2},
                      hosts={'h00': 1, 'h20': 2})
    affinity = GroupInfo(uuid='g3', policy='affinity', hosts={'h21': 1})
    big = req()
    big.spec.flavor.memory_mb, big.spec.flavor.vcpus, big.spec.flavor.root_gb = 3000, 4, 60
    return [
        req(), big,
        req({'same_host': [A, B]}, places), req({'same_host': A}, places),
        req({'different_host': [A, B]}, places),
        req({'build_near_host_ip': '10.0.0.1', 'cidr': '/24'}),
        req({'build_near_host_ip': '127.0.1.1', 'cidr': '/32'}),
        req({'build_near_host_ip': 'fd00::1', 'cidr': '/64'}),
        req(group=anti), req(group=anti2), req(group=affinity),
        req({'target_cell': 'cell2'}), req({'different_cell': [A, 'cell0']}, places),
        req(az='az1'), req(az='az2'), req(az='nova'),
        req(image_props_={'hw_architecture': 'amd64'}),
        req(image_props_={'hypervisor_type': 'kvm', 'architecture': 'x86_64'}),
        req(image_props_={'hw_vm_mode': 'xen'}),
        req(image_props_={'architecture': 'x86_64',
                          'img_hv_requested_version': '>=2.0'}),
        req(extra_specs={'ssd': 'true'}),
        req({'query': '[">=", "$free_ram_mb", 4096]'}),
    ]


class TestSplitIsPasses(_ConfTestCase):

    def setUp(self):
        super().setUp()
        self.flags(service_down_time=60)
        self.flags(group='filter_scheduler', max_instances_per_host=50)

    def test_every_filter_every_request(self):
        hosts = varied_hosts()
        checked = Counter()
        for name, cls in sorted(filters.known().items()):
            flt = cls()
            for request in requests():
                expected = [(h, flt.passes(h, request)) for h in hosts]
                kept = [h for h, v in expected if v.passed]
                refused = [(h, v) for h, v in expected if not v.passed]
                where = f'{name}, hints {request.spec.scheduler_hints}'
                passed, removed = flt.split(hosts, request)
                self.assertEqual(kept, list(passed), where)
                self.assertEqual(len(refused), len(removed), where)
                self.assertEqual(dict(Counter(v.code for _h, v in refused)),
                                 removed.by_code(), where)
                for limit in (0, 1, 3, len(hosts)):
                    self.assertEqual(refused[:limit], removed.listed(limit), where)
                self.assertEqual(refused, removed.pairs(), where)
                self.assertEqual((kept, refused), tuple(map(list, flt.filter_all(
                    hosts, request))), where)
                checked[name] += len(refused)
        # Each filter removed something for some request (the cases are not idle).
        self.assertEqual(set(filters.known()), {n for n, c in checked.items() if c}, checked)

    def test_report_step_same_from_removed_and_from_pairs(self):
        self.flags(group='filter_scheduler', report_max_removed_hosts=3)
        hosts = varied_hosts()
        request = req({'same_host': A}, {A: ('h00', 'cell1')})
        flt = filters.known()['SameHostFilter']()
        passed, removed = flt.split(hosts, request)
        lazy = report.Report('i', None, request.spec, len(hosts))
        lazy.step(flt.name, len(hosts), len(passed), removed)
        eager = report.Report('i', None, request.spec, len(hosts))
        eager.step(flt.name, len(hosts), len(passed), flt.filter_all(hosts, request)[1])
        self.assertEqual(eager.steps, lazy.steps)
        step = lazy.steps[0]
        self.assertEqual((len(hosts) - 1, 3, len(hosts) - 4),
                         (step['removed_count'], len(step['removed']),
                          step['removed_not_listed']))
        self.assertEqual({'same_host.not_colocated': len(hosts) - 1},
                         step['removed_by_code'])
