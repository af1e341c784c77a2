"""The scheduler's RPC endpoint: filter, weigh and claim a host for each instance,
and explain every decision (scheduling reports)."""
from __future__ import annotations

import json
import random

import orjson
import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import exceptions, objects
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import scheduling as sched_db
from kumo_common.db import server_groups as group_db
from kumo_common.db import session
from kumo_scheduler import filters, host_state, weighers
from kumo_scheduler import report as reports
from kumo_scheduler.filters import GroupInfo, Request, reject

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_INSTANCE_HINTS = ('same_host', 'different_host', 'different_cell')


class SchedulerManager:
    """Answers kumo_common.rpcapi.scheduler.SchedulerAPI."""

    target = messaging.Target(version='1.1')

    def __init__(self):
        self.filters = filters.load_enabled(CONF.filter_scheduler.enabled_filters)
        self.weighers = weighers.load_enabled(CONF.filter_scheduler.weight_classes)
        self.host_manager = host_state.HostManager()

    # --- RPC ---------------------------------------------------------------------------
    def select_destinations(self, ctxt, request_spec: objects.RequestSpec
                            ) -> list[objects.Selection]:
        """Choose and claim a host for every instance of the request (all or none)."""
        selections, _done = self._schedule(ctxt, request_spec, dry_run=False)
        return selections

    def dry_run(self, ctxt, request_spec: objects.RequestSpec) -> objects.DryRunResult:
        """What select_destinations would choose, with the reports; claims nothing."""
        try:
            selections, done = self._schedule(ctxt, request_spec, dry_run=True)
        except _DryRunFailed as failed:
            return objects.DryRunResult(selected_hosts=[], reports=failed.reports)
        return objects.DryRunResult(
            selected_hosts=[{'instance_index': i, 'host': s.service_host,
                             'node': s.nodename, 'cell_name': s.cell_name,
                             'alternates': s.alternate_hosts}
                            for i, s in enumerate(selections)],
            reports=[r.to_dict() for r in done])

    # --- the decision ----------------------------------------------------------------
    def _schedule(self, ctxt, spec: objects.RequestSpec, dry_run: bool):
        request_id = getattr(ctxt, 'request_id', None)
        with session.reader() as s:
            hosts = self.host_manager.hosts(s)
            places = sched_db.instance_places(
                s, sorted({v for name in _INSTANCE_HINTS
                           for v in _hint_list(spec, name)}))
            group = _load_group(s, spec)
        if dry_run:
            # Consumption of a dry run must not reach the shared host states.
            hosts = list(hosts)
        selections: list[objects.Selection] = []
        done: list[reports.Report] = []
        last = len(spec.instance_uuids) - 1
        for index, uuid in enumerate(spec.instance_uuids):
            request = Request(spec=spec, instance_uuid=uuid, instance_hosts=places,
                              group=group)
            rep = reports.Report(uuid, request_id, spec, len(hosts))
            done.append(rep)
            # The last claim's transaction also stores every report of the request
            # (all or none: once the last instance is placed, every one is).
            save_with = done if index == last and not dry_run else None
            selection = self._place_one(request, hosts, rep, dry_run, save_with)
            if selection is None:
                self._failed(spec, selections, done, rep, dry_run)
            selections.append(selection)
        LOG.info('Placed %s', ', '.join(f'{s.instance_uuid} on {s.service_host}'
                                        for s in selections))
        return selections, done

    def _place_one(self, request: Request, hosts: list, rep: reports.Report,
                   dry_run: bool, save_with: list[reports.Report] | None = None
                   ) -> objects.Selection | None:
        """Filter, weigh and claim for one instance. `save_with`: reports to store in
        the transaction of the successful claim (one commit for both)."""
        candidates = self._filter(hosts, request, rep)
        keep = max(CONF.filter_scheduler.report_max_weighed_hosts,
                   CONF.filter_scheduler.host_subset_size + CONF.scheduler.max_attempts, 50)
        weighed = weighers.weigh(candidates, request, self.weighers, keep=keep)
        rep.weighed(weighed, self.weighers, request)
        ranked = self._subset_first(weighed.ranked)
        flavor = request.flavor
        group = request.group
        claim_group = None
        if group is not None and group.policy in group_db.HARD_POLICIES:
            claim_group = sched_db.GroupClaim(group.id, group.policy,
                                              group.max_server_per_host)
        for index, (host, _weight) in enumerate(ranked):
            alternates = [h.host for h, _ in ranked[index + 1:index
                                                    + CONF.scheduler.max_attempts]]
            chosen = False
            if not dry_run:
                with session.transaction() as s:
                    failed = sched_db.claim(s, host.node_id, host.host,
                                            request.instance_uuid, flavor.vcpus,
                                            flavor.memory_mb, flavor.disk_gb, claim_group)
                    if not failed and save_with is not None:
                        rep.choose(host, alternates, reports.PLACED)
                        chosen = True
                        self._save_in(s, rep.request_id,
                                      [(r.instance_uuid, r) for r in save_with])
                if failed:
                    # Someone else took the room since our snapshot: try the next host.
                    rep.claim_failed(host, failed)
                    continue
            if dry_run:
                host = _private_copy(hosts, host)
            host.consume(flavor.vcpus, flavor.memory_mb, flavor.disk_gb,
                         request.instance_uuid)
            if group is not None:
                group.add(host.host, request.instance_uuid)
            if not chosen:
                rep.choose(host, alternates,
                           reports.DRY_RUN if dry_run else reports.PLACED)
            return objects.Selection(instance_uuid=request.instance_uuid,
                                     service_host=host.host, nodename=host.nodename,
                                     compute_node_uuid=host.uuid, cell_name=host.cell_name,
                                     alternate_hosts=alternates)
        return None

    def _filter(self, hosts: list, request: Request, rep: reports.Report) -> list:
        """Narrow by the request's own terms, then run the enabled filters in order."""
        spec = request.spec
        candidates = hosts
        if spec.force_hosts or spec.force_nodes:
            candidates = self._narrow(candidates, rep, 'ForcedHost', spec.force_hosts,
                                      spec.force_nodes, 'forced_host')
            # As Nova: a forced host skips every filter (the claim still must fit).
            rep.note = 'forced host: filters skipped'
            return candidates
        dest = spec.requested_destination or {}
        if dest.get('host') or dest.get('node'):
            candidates = self._narrow(candidates, rep, 'RequestedDestination',
                                      [dest['host']] if dest.get('host') else [],
                                      [dest['node']] if dest.get('node') else [],
                                      'requested_destination')
        if spec.ignore_hosts:
            ignored = set(spec.ignore_hosts)
            verdict = reject('retry.already_tried', 'already tried for this build')
            passed = [h for h in candidates if h.host not in ignored]
            rep.step('RetryFilter', len(candidates), len(passed),
                     [(h, verdict) for h in candidates if h.host in ignored], kind='request')
            candidates = passed
        for index, flt in enumerate(self.filters):
            if not candidates:
                rep.not_run([f.name for f in self.filters[index:]])
                break
            passed, removed = flt.split(candidates, request)
            rep.step(flt.name, len(candidates), len(passed), removed)
            candidates = passed
        return candidates

    @staticmethod
    def _narrow(hosts, rep, name, want_hosts, want_nodes, code):
        want_hosts, want_nodes = set(want_hosts), set(want_nodes)
        wanted = ', '.join(sorted(want_hosts | want_nodes))
        verdict = reject(code, f'{name}: not the requested {wanted}')
        passed, removed = [], []
        for h in hosts:
            if (not want_hosts or h.host in want_hosts) and \
                    (not want_nodes or h.nodename in want_nodes):
                passed.append(h)
            else:
                removed.append((h, verdict))
        rep.step(name, len(hosts), len(passed), removed, kind='request')
        return passed

    @staticmethod
    def _subset_first(ranked):
        """Move a random pick among the best host_subset_size hosts to the front."""
        size = min(CONF.filter_scheduler.host_subset_size, len(ranked))
        if size <= 1:
            return ranked
        chosen = random.randrange(size)
        return [ranked[chosen]] + ranked[:chosen] + ranked[chosen + 1:]

    def _failed(self, spec, selections, done, rep, dry_run):
        """No host for one instance: release the request's claims, keep the reports,
        raise NoValidHost with the summary (all or none, as Nova)."""
        summary = rep.summary()
        LOG.warning('No valid host for %s: %s', rep.instance_uuid, summary)
        if dry_run:
            raise _DryRunFailed([r.to_dict() for r in done])
        with session.transaction() as s:
            for selection in selections:
                node_db.free_allocations(s, selection.instance_uuid)
        for other in done[:-1]:
            other.result = reports.RELEASED
            other.note = (f'released: instance {rep.instance_uuid} of the same request '
                          f'found no host')
        # Instances not reached get the failing instance's report.
        pending = [u for u in spec.instance_uuids if u not in {r.instance_uuid for r in done}]
        self._save(rep.request_id, [(r.instance_uuid, r) for r in done]
                   + [(u, rep) for u in pending])
        raise exceptions.NoValidHost(reason=summary)

    @staticmethod
    def _save(request_id, items) -> None:
        """Store (instance_uuid, report) pairs in a transaction of their own."""
        try:
            with session.transaction() as s:
                sched_db.save_reports(s, _report_rows(request_id, items), _encode)
        except Exception:  # a report must never fail a placement
            LOG.exception('Could not store scheduling reports')

    @staticmethod
    def _save_in(s, request_id, items) -> None:
        """Store reports in the caller's (claim's) transaction, within a savepoint: a
        report that cannot be stored is logged and the claim still commits."""
        try:
            rows = _report_rows(request_id, items)
            with s.begin_nested():
                sched_db.save_reports(s, rows, _encode)
        except Exception:  # a report must never fail a placement
            LOG.exception('Could not store scheduling reports')


class _DryRunFailed(Exception):
    def __init__(self, done):
        super().__init__('dry run found no host')
        self.reports = done


def _encode(report: dict) -> str:
    """A report as JSON text: orjson, ten times faster than json on a report that
    lists 1,000 removed hosts per filter (report_max_removed_hosts' default)."""
    try:
        return orjson.dumps(report, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # what orjson refuses (e.g. a non-str key) json may still take
        return json.dumps(report, sort_keys=True)


def _report_rows(request_id, items) -> list[tuple]:
    rows = []
    for uuid, rep in items:
        body = rep.to_dict()
        body['instance_uuid'] = uuid
        rows.append((uuid, request_id, rep.result, body['summary'], body))
    return rows


def _hint_list(spec, name: str) -> list:
    value = (spec.scheduler_hints or {}).get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _load_group(s, spec) -> GroupInfo | None:
    values = _hint_list(spec, 'group')
    if not values:
        return None
    group = sched_db.group_by_uuid(s, values[0])
    if group is None:
        LOG.warning('Server group %s of the request no longer exists', values[0])
        return None
    scheduling = set(spec.instance_uuids)
    hosts: dict[str, int] = {}
    members: set[str] = set()
    for uuid, host in sched_db.group_member_hosts(s, group.id):
        members.add(uuid)
        if host is not None and uuid not in scheduling:
            hosts[host] = hosts.get(host, 0) + 1
    return GroupInfo(uuid=group.uuid, policy=group.policy, rules=dict(group.rules or {}),
                     members=members, hosts=hosts, id=group.id)


def _private_copy(hosts: list, host):
    """Replace `host` in this request's list by a copy (dry runs consume copies)."""
    for i, h in enumerate(hosts):
        if h is host:
            clone = host.copy()
            hosts[i] = clone
            return clone
    return host
