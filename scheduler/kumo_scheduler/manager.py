"""The scheduler's RPC endpoint: filter, weigh and claim a host for each instance."""
from __future__ import annotations

import random
from collections import defaultdict

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import exceptions, objects
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import session
from kumo_scheduler import filters, host_state, weighers

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class SchedulerManager:
    """Answers kumo_common.rpcapi.scheduler.SchedulerAPI."""

    target = messaging.Target(version='1.0')

    def __init__(self):
        self.filters = filters.load_enabled(CONF.filter_scheduler.enabled_filters)

    def select_destinations(self, ctxt, request_spec: objects.RequestSpec
                            ) -> list[objects.Selection]:
        """Choose and claim a host for every instance of the request (all or none)."""
        spec = request_spec
        with session.reader() as s:
            hosts = host_state.snapshot(s)
        selections: list[objects.Selection] = []
        try:
            for uuid in spec.instance_uuids:
                selections.append(self._place_one(uuid, spec, hosts))
        except exceptions.NoValidHost:
            self._release(selections)
            raise
        return selections

    def _place_one(self, uuid: str, spec: objects.RequestSpec,
                   hosts: list[host_state.HostState]) -> objects.Selection:
        candidates, rejections = self._filter(hosts, spec)
        ranked = weighers.weigh(candidates)
        LOG.info('Instance %s: %d of %d hosts passed the filters; weighed: %s', uuid,
                 len(candidates), len(hosts),
                 ', '.join(f'{h.host}={w:.3f}' for h, w in ranked) or 'none')
        ranked = self._subset_first(ranked)
        flavor = spec.flavor
        for index, (host, _weight) in enumerate(ranked):
            with session.transaction() as s:
                claimed = node_db.claim(s, host.node_id, uuid, flavor.vcpus,
                                        flavor.memory_mb, flavor.disk_gb)
            if not claimed:
                # Someone else took the room since our snapshot: try the next host.
                rejections[host.host] = ('claim', 'resources taken by a concurrent request')
                continue
            host.consume(flavor.vcpus, flavor.memory_mb, flavor.disk_gb, uuid)
            alternates = [h.host for h, _ in ranked[index + 1:CONF.scheduler.max_attempts
                                                     + index]]
            LOG.info('Instance %s placed on %s', uuid, host.host)
            return objects.Selection(instance_uuid=uuid, service_host=host.host,
                                     nodename=host.nodename, compute_node_uuid=host.uuid,
                                     cell_name=host.cell_name, alternate_hosts=alternates)
        raise exceptions.NoValidHost(reason=self._explain(len(hosts), rejections))

    def _filter(self, hosts, spec):
        """Run the enabled filters; return survivors and {host: (filter, reason)}."""
        rejections: dict[str, tuple[str, str]] = {}
        remaining = []
        ignored = set(spec.ignore_hosts)
        for host in hosts:
            if host.host in ignored:
                rejections[host.host] = ('RetryFilter', 'already tried for this build')
                continue
            for flt in self.filters:
                verdict = flt.passes(host, spec)
                if not verdict.passed:
                    rejections[host.host] = (flt.name, verdict.reason)
                    break
            else:
                remaining.append(host)
        return remaining, rejections

    @staticmethod
    def _subset_first(ranked):
        """Move a random pick among the best host_subset_size hosts to the front."""
        size = min(CONF.filter_scheduler.host_subset_size, len(ranked))
        if size <= 1:
            return ranked
        chosen = random.randrange(size)
        return [ranked[chosen]] + ranked[:chosen] + ranked[chosen + 1:]

    @staticmethod
    def _explain(total: int, rejections: dict[str, tuple[str, str]]) -> str:
        """A short, human summary: which filter removed which hosts, and why."""
        if total == 0:
            return 'There are no compute hosts registered.'
        by_filter: dict[str, list[str]] = defaultdict(list)
        for host, (name, reason) in sorted(rejections.items()):
            by_filter[name].append(f'{host}: {reason}')
        parts = [f'{name} removed {len(items)} host(s) ({"; ".join(items)})'
                 for name, items in by_filter.items()]
        return f'{total} host(s) considered. ' + '. '.join(parts) + '.'

    @staticmethod
    def _release(selections: list[objects.Selection]) -> None:
        with session.transaction() as s:
            for selection in selections:
                node_db.free_allocations(s, selection.instance_uuid)
