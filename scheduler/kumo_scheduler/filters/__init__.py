"""Host filters: each removes hosts that cannot take the request, saying why.

A filter is a class with `passes(host, request) -> Verdict`; a Verdict that rejects
carries a machine-readable `code` and a human sentence with the numbers. Filters
that are hot over large clouds also override `split(hosts, request)` to judge every
host in one pass and return the removed hosts as a `Removed`: the same verdicts, but
each removed host's sentence is only written when asked for (a report lists the
first few; writing 100,000 sentences, and the garbage collector's passes over
100,000 (host, verdict) pairs, would cost more than the filtering itself).
`filter_all(hosts, request)` gives every removed host with its verdict, as before.
Operators name filters in `[filter_scheduler] enabled_filters`; FILTERS is the
explicit table of what exists.
"""
from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
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


class Removed:
    """The hosts one step removed, in host order, each with its verdict on demand.

    `verdict` is one Verdict for all of them, or a function host -> Verdict; `code`,
    when every removed host gets the same one, lets counting by code skip the
    verdicts altogether. `Removed.where` describes them instead of listing them (the
    hosts of `source` that `test` removes, `count` of them): a report needs only the
    first few, so a filter that keeps 1 host of 100,000 makes one pass, not two.
    """
    __slots__ = ('_hosts', '_source', '_test', '_count', '_verdict', '_code')

    def __init__(self, hosts: list[HostState] | None,
                 verdict: Verdict | Callable[[HostState], Verdict],
                 code: str | None = None):
        self._hosts = hosts
        self._source: list[HostState] | None = None
        self._test: Callable[[HostState], bool] | None = None
        self._count: int | None = None
        self._verdict = verdict
        if code is None and isinstance(verdict, Verdict):
            code = verdict.code
        self._code = code

    @classmethod
    def where(cls, source: list[HostState], test: Callable[[HostState], bool],
              count: int, verdict: Verdict | Callable[[HostState], Verdict],
              code: str | None = None) -> Removed:
        removed = cls(None, verdict, code)
        removed._source, removed._test, removed._count = source, test, count
        return removed

    @classmethod
    def of_pairs(cls, pairs: list[Rejection]) -> Removed:
        verdicts = {id(h): v for h, v in pairs}
        return cls([h for h, _v in pairs], lambda h: verdicts[id(h)])

    @property
    def hosts(self) -> list[HostState]:
        if self._hosts is None:
            self._hosts = [h for h in self._source if self._test(h)]
        return self._hosts

    def __len__(self) -> int:
        return self._count if self._hosts is None else len(self._hosts)

    def verdict(self, host: HostState) -> Verdict:
        verdict = self._verdict
        return verdict if isinstance(verdict, Verdict) else verdict(host)

    def by_code(self) -> dict[str, int]:
        if not len(self):
            return {}
        if self._code is not None:
            return {self._code: len(self)}
        return dict(Counter(self.verdict(h).code for h in self.hosts))

    def listed(self, limit: int) -> list[Rejection]:
        if self._hosts is None:
            first = list(itertools.islice(filter(self._test, self._source), limit))
        else:
            first = self._hosts[:limit]
        return [(h, self.verdict(h)) for h in first]

    def pairs(self) -> list[Rejection]:
        return [(h, self.verdict(h)) for h in self.hosts]

    def entries(self, limit: int) -> list[dict]:
        """The first `limit` as a report lists them (host, node, code, reason)."""
        verdict = self._verdict
        if not isinstance(verdict, Verdict):
            return [{'host': h.host, 'node': h.nodename, 'code': v.code, 'reason': v.reason}
                    for h, v in self.listed(limit)]
        if self._hosts is None:
            first = itertools.islice(filter(self._test, self._source), limit)
        else:
            first = self._hosts[:limit]
        code, reason = verdict.code, verdict.reason
        return [{'host': h.host, 'node': h.nodename, 'code': code, 'reason': reason}
                for h in first]


NOTHING_REMOVED = Removed([], PASS)


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

    def split(self, hosts: list[HostState], request: Request
              ) -> tuple[list[HostState], Removed]:
        """Judge every host; return (passed, Removed). Filters that are hot over large
        clouds override this (and then filter_all follows from it)."""
        passed, removed = self.filter_all(hosts, request)
        return passed, (Removed.of_pairs(removed) if removed else NOTHING_REMOVED)

    def settings(self) -> dict:
        """The configuration options that shape this filter (for capabilities)."""
        return {}


class SplitFilter(BaseFilter):
    """A filter whose one-pass judgement is `split`; filter_all is derived from it."""

    def split(self, hosts, request):
        raise NotImplementedError

    def filter_all(self, hosts, request):
        passed, removed = self.split(hosts, request)
        return passed, removed.pairs()


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
