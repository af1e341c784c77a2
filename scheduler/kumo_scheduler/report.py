"""Scheduling reports: why a request was placed where it was, or nowhere.

For each step in order (the request's narrowing steps, then every enabled filter)
the report has the number of hosts in and out, and for each removed host a reason
code and a sentence with the numbers; then the weights of the best survivors, the
claims tried and the choice. `summary()` is the one line the scheduler's NoValidHost
carries ("0 of 12 hosts: 7 removed by RamFilter, 5 by ..."); the server's fault
message is Nova's own (kumo_conductor.build_faults), the summary stays in the report.
"""
from __future__ import annotations

from collections import Counter

from oslo_config import cfg

from kumo_common.db.models import utcnow

CONF = cfg.CONF

PLACED = 'placed'
NO_VALID_HOST = 'no_valid_host'
RELEASED = 'released'
DRY_RUN = 'dry_run'


class Report:
    def __init__(self, instance_uuid: str, request_id: str | None, spec, total: int):
        self.instance_uuid = instance_uuid
        self.request_id = request_id
        self.total = total
        self.steps: list[dict] = []
        self.weights: list[dict] = []
        self.weighers: list[dict] = []
        self.claims: list[dict] = []
        self.selected: dict | None = None
        self.alternates: list[str] = []
        self.result = NO_VALID_HOST
        self.note: str | None = None
        self.created_at = utcnow().isoformat()
        flavor = spec.flavor
        self.request = {
            'flavor': {'name': flavor.name, 'vcpus': flavor.vcpus,
                       'memory_mb': flavor.memory_mb, 'disk_gb': flavor.disk_gb,
                       'extra_specs': dict(flavor.extra_specs or {})},
            'image': ({'id': spec.image.id, 'properties': dict(spec.image.properties or {})}
                      if spec.image is not None else None),
            'availability_zone': spec.availability_zone,
            'scheduler_hints': dict(spec.scheduler_hints or {}),
            'force_hosts': list(spec.force_hosts or []),
            'force_nodes': list(spec.force_nodes or []),
            'requested_destination': spec.requested_destination,
            'ignore_hosts': list(spec.ignore_hosts or []),
        }

    def step(self, name: str, hosts_in: int, passed: int, removed,
             kind: str = 'filter') -> None:
        """`removed`: a filters.Removed, or a list of (host, verdict)."""
        limit = CONF.filter_scheduler.report_max_removed_hosts
        if isinstance(removed, list):
            listed = [{'host': h.host, 'node': h.nodename, 'code': v.code,
                       'reason': v.reason} for h, v in removed[:limit]]
            by_code = dict(Counter(v.code for _h, v in removed))
        else:
            listed = removed.entries(limit)
            by_code = removed.by_code()
        self.steps.append({
            'name': name, 'kind': kind, 'hosts_in': hosts_in, 'hosts_out': passed,
            'removed_count': len(removed),
            'removed_by_code': by_code,
            'removed': listed,
            'removed_not_listed': max(len(removed) - len(listed), 0),
        })

    def not_run(self, names: list[str]) -> None:
        for name in names:
            self.steps.append({'name': name, 'kind': 'filter', 'hosts_in': 0,
                               'hosts_out': 0, 'removed_count': 0, 'removed_by_code': {},
                               'removed': [], 'removed_not_listed': 0,
                               'skipped': 'no hosts left'})

    def weighed(self, weighed, weighers: list, request) -> None:
        self.weighers = [{'name': w.name, 'multiplier': w.multiplier(request)}
                         for w in weighers]
        limit = CONF.filter_scheduler.report_max_weighed_hosts
        self.weights = [{'host': h.host, 'node': h.nodename, 'weight': round(weight, 6),
                         'by_weigher': weighed.breakdown(h)}
                        for h, weight in weighed.ranked[:limit]]

    def claim_failed(self, host, why: str) -> None:
        sentence = {'resources': 'claim lost: another request took the room first',
                    'group': 'claim lost: a concurrent member of the group took the '
                             'place first'}.get(why, why)
        self.claims.append({'host': host.host, 'node': host.nodename, 'result': why,
                            'reason': sentence})

    def choose(self, host, alternates: list[str], result: str = PLACED) -> None:
        self.selected = {'host': host.host, 'node': host.nodename,
                         'compute_node_uuid': host.uuid, 'cell_name': host.cell_name}
        self.alternates = alternates
        self.result = result
        if result == PLACED:
            self.claims.append({'host': host.host, 'node': host.nodename,
                                'result': 'claimed', 'reason': 'resources claimed'})

    def survivors(self) -> int:
        for step in reversed(self.steps):
            if 'skipped' not in step:
                return step['hosts_out']
        return self.total

    def summary(self) -> str:
        if self.selected is not None and self.result != NO_VALID_HOST:
            text = (f'{self.survivors()} of {self.total} hosts passed the filters; '
                    f'chose {self.selected["host"]}')
            return text + (f' ({self.note})' if self.note else '')
        if self.total == 0:
            return '0 of 0 hosts: no compute hosts are registered'
        parts = []
        for step in self.steps:
            if step['removed_count']:
                parts.append((step['removed_count'], step['name']))
        lost = len([c for c in self.claims if c['result'] != 'claimed'])
        text = f'0 of {self.total} hosts: '
        if parts:
            first, *rest = parts
            text += f'{first[0]} removed by {first[1]}'
            text += ''.join(f', {n} by {name}' for n, name in rest)
        if lost:
            text += (', ' if parts else '') + f'{lost} lost to concurrent claims'
        if self.note:
            text += f' ({self.note})'
        return text

    def to_dict(self) -> dict:
        return {
            'instance_uuid': self.instance_uuid,
            'request_id': self.request_id,
            'created_at': self.created_at,
            'result': self.result,
            'summary': self.summary(),
            'hosts_total': self.total,
            'request': self.request,
            'filters': self.steps,
            'weighers': self.weighers,
            'weights': self.weights,
            'claims': self.claims,
            'selected': self.selected,
            'alternates': self.alternates,
        }
