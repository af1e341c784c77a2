"""Weighers: rank the hosts that passed the filters (higher is better).

Each weigher returns a raw value per host; values are normalised to 0..1 across the
candidates and multiplied by the weigher's configured multiplier, as in Nova.
"""
from __future__ import annotations

from oslo_config import cfg

from kumo_scheduler.host_state import HostState

CONF = cfg.CONF


class RAMWeigher:
    name = 'RAMWeigher'

    def multiplier(self) -> float:
        return CONF.filter_scheduler.ram_weight_multiplier

    def raw(self, host: HostState) -> float:
        return host.free_ram_mb


class CPUWeigher:
    name = 'CPUWeigher'

    def multiplier(self) -> float:
        return CONF.filter_scheduler.cpu_weight_multiplier

    def raw(self, host: HostState) -> float:
        return host.usable_vcpus


class DiskWeigher:
    name = 'DiskWeigher'

    def multiplier(self) -> float:
        return CONF.filter_scheduler.disk_weight_multiplier

    def raw(self, host: HostState) -> float:
        return host.free_disk_mb


WEIGHERS = (RAMWeigher(), CPUWeigher(), DiskWeigher())


def _normalise(values: list[float]) -> list[float]:
    lo, hi = min(values), max(values)
    if hi == lo:
        return [0.0 for _ in values]
    return [(v - lo) / (hi - lo) for v in values]


def weigh(hosts: list[HostState]) -> list[tuple[HostState, float]]:
    """Hosts with their total weight, best first (ties broken by host name)."""
    if not hosts:
        return []
    totals = [0.0] * len(hosts)
    for weigher in WEIGHERS:
        mult = weigher.multiplier()
        if not mult:
            continue
        for i, value in enumerate(_normalise([weigher.raw(h) for h in hosts])):
            totals[i] += mult * value
    ranked = sorted(zip(hosts, totals, strict=True), key=lambda hw: (-hw[1], hw[0].host))
    return ranked
