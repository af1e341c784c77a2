"""Host filters: each removes hosts that cannot take the request, saying why.

A filter is a class with `passes(host, request) -> Verdict`; a Verdict that rejects
carries a machine-readable `code` and a human sentence with the numbers. Filters
that are hot over large clouds also override `filter_all(hosts, request)` to judge
every host in one pass (same verdicts, fewer Python calls). Operators name filters
in `[filter_scheduler] enabled_filters`; FILTERS is the explicit table of what exists.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kumo_common import objects, scheduler_hints
from kumo_scheduler.host_state import HostState


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    reason: str = ''
    code: str = ''


PASS = Verdict(True)


def reject(code: str, reason: str) -> Verdict:
    return Verdict(False, reason, code)


@dataclass
class GroupInfo:
    """A server group as the filters and weighers of one request see it."""
    uuid: str
    policy: str
    rules: dict = field(default_factory=dict)
    members: set = field(default_factory=set)
    # host -> number of the group's members placed (claimed) there.
    hosts: dict = field(default_factory=dict)
    id: int = 0

    @property
    def max_server_per_host(self) -> int:
        try:
            return int(self.rules.get('max_server_per_host', 1))
        except (TypeError, ValueError):
            return 1

    def add(self, host: str, instance_uuid: str) -> None:
        self.members.add(instance_uuid)
        self.hosts[host] = self.hosts.get(host, 0) + 1


@dataclass
class Request:
    """One instance's placement request as filters see it: the spec plus what the
    manager looked up once for the whole request (instances' hosts, the group)."""
    spec: objects.RequestSpec
    instance_uuid: str | None = None
    # uuid -> (host, cell_name) of instances named by same_host/different_host/
    # different_cell hints.
    instance_hosts: dict = field(default_factory=dict)
    group: GroupInfo | None = None

    @property
    def flavor(self) -> objects.FlavorSpec:
        return self.spec.flavor

    def hint_list(self, name: str) -> list:
        value = (self.spec.scheduler_hints or {}).get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def hint(self, name: str, default=None):
        """The hint's single value (Nova's get_scheduler_hint: first of a list)."""
        values = self.hint_list(name)
        return values[0] if values else default


Rejection = tuple[HostState, Verdict]


class BaseFilter:
    name = 'BaseFilter'
    # Scheduler hints this filter consumes (advertised by /scheduler/capabilities;
    # a create using one while the filter is disabled is refused).
    hints: tuple[str, ...] = ()

    def passes(self, host: HostState, request: Request) -> Verdict:
        raise NotImplementedError

    def filter_all(self, hosts: list[HostState], request: Request
                   ) -> tuple[list[HostState], list[Rejection]]:
        """Judge every host; return (passed, [(host, verdict) for each removed])."""
        passed, removed = [], []
        for host in hosts:
            verdict = self.passes(host, request)
            if verdict.passed:
                passed.append(host)
            else:
                removed.append((host, verdict))
        return passed, removed

    def settings(self) -> dict:
        """The configuration options that shape this filter (for capabilities)."""
        return {}


def _table() -> dict[str, type[BaseFilter]]:
    from kumo_scheduler.filters import (
        affinity,
        aggregate_extra_specs,
        availability_zone,
        cells,
        compute,
        image_props,
        json_filter,
        num_instances,
        resources,
    )
    classes = (compute.ComputeFilter, resources.RamFilter, resources.CoreFilter,
               resources.DiskFilter, availability_zone.AvailabilityZoneFilter,
               image_props.ImagePropertiesFilter,
               aggregate_extra_specs.AggregateInstanceExtraSpecsFilter,
               num_instances.NumInstancesFilter, affinity.SameHostFilter,
               affinity.DifferentHostFilter, affinity.SimpleCIDRAffinityFilter,
               affinity.ServerGroupAffinityFilter, affinity.ServerGroupAntiAffinityFilter,
               json_filter.JsonFilter, cells.TargetCellFilter, cells.DifferentCellFilter)
    return {cls.name: cls for cls in classes}


def known() -> dict[str, type[BaseFilter]]:
    return _table()


def load_enabled(names: list[str]) -> list[BaseFilter]:
    """Instantiate the named filters in order; an unknown name is a config error.

    Nova module paths (nova.scheduler.filters.x.RamFilter) are accepted: only the
    class name counts.
    """
    table = _table()
    names = scheduler_hints.short_names(names)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError('Unknown scheduler filter(s) in [filter_scheduler] '
                         f'enabled_filters: {", ".join(unknown)}; known: '
                         f'{", ".join(sorted(table))}')
    return [table[n]() for n in dict.fromkeys(names)]


# Which filter a hint needs (shared with the API, which refuses a hint whose filter
# is disabled).
HINT_FILTERS = scheduler_hints.HINT_FILTERS
