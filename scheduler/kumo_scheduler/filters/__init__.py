"""Host filters: each removes hosts that cannot take the request, saying why.

A filter is a class with `passes(host, spec) -> Verdict`. Operators name them in
`[filter_scheduler] enabled_filters`; FILTERS is the explicit table of what exists.
"""
from __future__ import annotations

from dataclasses import dataclass

from kumo_common import objects
from kumo_scheduler.host_state import HostState


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str = ''


PASS = Verdict(True)


def reject(reason: str) -> Verdict:
    return Verdict(False, reason)


class BaseFilter:
    name = 'BaseFilter'

    def passes(self, host: HostState, spec: objects.RequestSpec) -> Verdict:
        raise NotImplementedError


def _table():
    from kumo_scheduler.filters import compute, resources
    classes = (compute.ComputeFilter, resources.RamFilter, resources.CoreFilter,
               resources.DiskFilter)
    return {cls.name: cls for cls in classes}


def load_enabled(names: list[str]) -> list[BaseFilter]:
    """Instantiate the named filters in order; an unknown name is a config error."""
    table = _table()
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError('Unknown scheduler filter(s) in [filter_scheduler] '
                         f'enabled_filters: {", ".join(unknown)}; known: '
                         f'{", ".join(sorted(table))}')
    return [table[n]() for n in names]
