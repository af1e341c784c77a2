"""TargetCellFilter and DifferentCellFilter: place in the named cell, or away from
cells. A cell is the `[DEFAULT] cell_name` label its compute nodes report.

`different_cell` values that are the uuids of existing instances stand for those
instances' cells (the issue's "away from the cells of the named instances"); any
other value is taken as a cell name (cells v1's meaning of the hint).
"""
from kumo_scheduler.filters import NOTHING_REMOVED, PASS, Removed, SplitFilter, Verdict, reject


class TargetCellFilter(SplitFilter):
    name = 'TargetCellFilter'
    hints = ('target_cell',)

    def passes(self, host, request) -> Verdict:
        target = request.hint('target_cell')
        if not target or host.cell_name == target:
            return PASS
        return reject('cell.not_target', f'target_cell: host is in cell '
                      f'{host.cell_name!r}, not {target!r}')

    def split(self, hosts, request):
        target = request.hint('target_cell')
        if not target:
            return hosts, NOTHING_REMOVED
        passed = [h for h in hosts if h.cell_name == target]
        if len(passed) == len(hosts):
            return passed, NOTHING_REMOVED
        return passed, Removed.where(hosts, lambda h: h.cell_name != target,
                                     len(hosts) - len(passed),
                                     lambda h: self.passes(h, request), 'cell.not_target')


def excluded_cells(request) -> dict[str, str]:
    """cell -> why it is excluded (which instance is there, or named as a cell)."""
    cells: dict[str, str] = {}
    for value in request.hint_list('different_cell'):
        place = request.instance_hosts.get(value)
        if place is not None:
            if place[1]:
                cells.setdefault(place[1], f'instance {value} is there')
        else:
            cells.setdefault(value, 'named in the hint')
    return cells


class DifferentCellFilter(SplitFilter):
    name = 'DifferentCellFilter'
    hints = ('different_cell',)

    def passes(self, host, request) -> Verdict:
        why = excluded_cells(request).get(host.cell_name)
        if why is None:
            return PASS
        return reject('cell.excluded', f'different_cell: host is in cell '
                      f'{host.cell_name!r} ({why})')

    def split(self, hosts, request):
        if not request.hint_list('different_cell'):
            return hosts, NOTHING_REMOVED
        excluded = excluded_cells(request)
        passed = [h for h in hosts if h.cell_name not in excluded]
        if len(passed) == len(hosts):
            return passed, NOTHING_REMOVED
        return passed, Removed.where(hosts, lambda h: h.cell_name in excluded,
                                     len(hosts) - len(passed),
                                     lambda h: self.passes(h, request), 'cell.excluded')
