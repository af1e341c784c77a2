"""Weighers: rank the hosts that passed the filters (higher is better).

Each weigher gives a raw value per host; values are normalised to 0..1 across the
candidates and multiplied by the weigher's configured multiplier, then summed, as in
Nova. `[filter_scheduler] weight_classes` chooses the weighers (Nova's names).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from oslo_config import cfg

from kumo_common import scheduler_hints
from kumo_scheduler.host_state import HostState

CONF = cfg.CONF


class BaseWeigher:
    name = 'BaseWeigher'
    option = ''

    def multiplier(self, request) -> float:
        return getattr(CONF.filter_scheduler, self.option)

    def values(self, hosts: list[HostState], request) -> list[float]:
        raise NotImplementedError


class RAMWeigher(BaseWeigher):
    name = 'RAMWeigher'
    option = 'ram_weight_multiplier'

    def values(self, hosts, request):
        return [h.usable_ram_mb for h in hosts]


class CPUWeigher(BaseWeigher):
    name = 'CPUWeigher'
    option = 'cpu_weight_multiplier'

    def values(self, hosts, request):
        return [h.usable_vcpus for h in hosts]


class DiskWeigher(BaseWeigher):
    name = 'DiskWeigher'
    option = 'disk_weight_multiplier'

    def values(self, hosts, request):
        return [h.usable_disk_gb for h in hosts]


class NumInstancesWeigher(BaseWeigher):
    name = 'NumInstancesWeigher'
    option = 'num_instances_weight_multiplier'

    def values(self, hosts, request):
        return [len(h.instances) for h in hosts]


class BuildFailureWeigher(BaseWeigher):
    """Hosts with recent (consecutive) failed builds rank lower."""
    name = 'BuildFailureWeigher'
    option = 'build_failure_weight_multiplier'

    def values(self, hosts, request):
        return [-h.failed_builds for h in hosts]


class _SoftGroupWeigher(BaseWeigher):
    policy = ''
    sign = 1

    def multiplier(self, request) -> float:
        group = getattr(request, 'group', None)
        if group is None or group.policy != self.policy:
            return 0.0
        return super().multiplier(request)

    def values(self, hosts, request):
        counts = request.group.hosts
        return [self.sign * counts.get(h.host, 0) for h in hosts]


class ServerGroupSoftAffinityWeigher(_SoftGroupWeigher):
    name = 'ServerGroupSoftAffinityWeigher'
    option = 'soft_affinity_weight_multiplier'
    policy = 'soft-affinity'


class ServerGroupSoftAntiAffinityWeigher(_SoftGroupWeigher):
    name = 'ServerGroupSoftAntiAffinityWeigher'
    option = 'soft_anti_affinity_weight_multiplier'
    policy = 'soft-anti-affinity'
    sign = -1


ALL = (RAMWeigher, CPUWeigher, DiskWeigher, NumInstancesWeigher,
       ServerGroupSoftAffinityWeigher, ServerGroupSoftAntiAffinityWeigher,
       BuildFailureWeigher)


def known() -> dict[str, type[BaseWeigher]]:
    return {cls.name: cls for cls in ALL}


def load_enabled(names: list[str]) -> list[BaseWeigher]:
    """The weighers named in weight_classes (Nova's all_weighers alias means all)."""
    table = known()
    return [table[n]() for n in scheduler_hints.weigher_names(names)]


def _normalise(values: list[float]) -> list[float] | None:
    """0..1 across the candidates; None when they are all equal (no information)."""
    lo, hi = min(values), max(values)
    if hi == lo:
        return None
    span = hi - lo
    return [(v - lo) / span for v in values]


@dataclass
class Weighed:
    """The outcome of weighing: the best hosts first, and each weigher's share."""
    ranked: list[tuple[HostState, float]]
    # weigher name -> (multiplier, normalised values indexed like the input hosts)
    parts: dict
    index: dict

    def breakdown(self, host: HostState) -> dict[str, float]:
        i = self.index[id(host)]
        return {name: round(mult * values[i], 6) if values is not None else 0.0
                for name, (mult, values) in self.parts.items()}


def weigh(hosts: list[HostState], request, weighers: list[BaseWeigher],
          keep: int | None = None) -> Weighed:
    """Weigh hosts; `ranked` holds the best `keep` (all if None), best first, ties
    broken by host name."""
    if not hosts:
        return Weighed([], {}, {})
    totals = [0.0] * len(hosts)
    parts = {}
    for weigher in weighers:
        mult = weigher.multiplier(request)
        if not mult:
            continue
        norm = _normalise(weigher.values(hosts, request))
        parts[weigher.name] = (mult, norm)
        if norm is not None:
            totals = [t + mult * v for t, v in zip(totals, norm, strict=True)]
    order = range(len(hosts))

    def key(i):
        return (-totals[i], hosts[i].host, hosts[i].nodename)

    if keep is not None and keep < len(hosts):
        # Only hosts weighing at least the keep-th best total can be among the best
        # `keep` (ties included): order just those, not a key tuple per host.
        threshold = heapq.nlargest(keep, totals)[-1] if keep else float('inf')
        best = sorted((i for i in order if totals[i] >= threshold), key=key)[:keep]
    else:
        best = sorted(order, key=key)
    ranked = [(hosts[i], totals[i]) for i in best]
    return Weighed(ranked, parts, {id(hosts[i]): i for i in best})


def weigh_simple(hosts: list[HostState], request=None) -> list[tuple[HostState, float]]:
    """All hosts ranked with the configured weighers (tests, tools)."""
    return weigh(hosts, request, load_enabled(CONF.filter_scheduler.weight_classes)).ranked
