"""Host states: what the filters see of each compute node, kept current in memory.

The HostManager loads every node once, then on each request re-reads only what
changed: nodes and services whose `updated_at` moved (claims, frees and agents'
reports all stamp it; indexed by migration 0002), nodes newer than the last one it
knows, and aggregates when their signature changed. So a request costs a few indexed
queries, not a read of every row of every host. The in-memory copy may lag behind the
database; that is safe because claims are conditional UPDATEs (a stale host only
loses its claim and the next one is tried).
"""
from __future__ import annotations

import copy
import datetime
import ipaddress
import json
import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from oslo_config import cfg

from kumo_common.db import models
from kumo_common.db.models import utcnow

CONF = cfg.CONF

_CHUNK = 500

# Incremental refreshes read plain rows (Core), not ORM objects: they run on every
# request, and building ORM instances cost more than the queries.
_NODES = models.ComputeNode.__table__
_SERVICES = models.Service.__table__
_ALLOCATIONS = models.Allocation.__table__
# ... with statements built (and cache-keyed by SQLAlchemy) once, not per request.
_CHANGED_NODES = sa.select(_NODES).where(sa.or_(
    _NODES.c.updated_at >= sa.bindparam('since'),
    _NODES.c.id > sa.bindparam('max_id', type_=sa.Integer)))
_NODE_ALLOCATIONS = sa.select(_ALLOCATIONS.c.compute_node_id,
                              _ALLOCATIONS.c.instance_uuid).where(
    _ALLOCATIONS.c.compute_node_id.in_(sa.bindparam('ids', expanding=True)))
_SERVICES_BY_ID = sa.select(_SERVICES).where(
    _SERVICES.c.id.in_(sa.bindparam('ids', expanding=True)))
_CHANGED_SERVICES = sa.select(_SERVICES).where(
    _SERVICES.c.updated_at >= sa.bindparam('since'))

# Nova's canonical architecture names for the aliases hosts and images use.
_ARCH_ALIASES = {'amd64': 'x86_64', 'x64': 'x86_64', 'i386': 'i686', 'i486': 'i686',
                 'i586': 'i686', 'x86': 'i686', 'arm64': 'aarch64', 'ppc64el': 'ppc64le'}


def canonical_arch(value: str | None) -> str | None:
    if not value:
        return None
    value = value.lower()
    return _ARCH_ALIASES.get(value, value)


@dataclass(frozen=True)
class AggregateInfo:
    id: int
    uuid: str
    name: str
    metadata: dict


@dataclass(slots=True, eq=False)
class HostState:
    node_id: int
    uuid: str
    host: str
    nodename: str
    host_ip: str | None = None
    cell_name: str | None = None
    node_availability_zone: str | None = None
    hypervisor_type: str = 'fake'
    hypervisor_version: int = 0
    cpu_info: dict = field(default_factory=dict)
    vcpus_total: int = 0
    vcpus_used: int = 0
    memory_mb: int = 0
    memory_mb_used: int = 0
    local_gb: int = 0
    local_gb_used: int = 0
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    reserved_host_cpus: int = 0
    reserved_host_memory_mb: int = 0
    reserved_host_disk_mb: int = 0
    failed_builds: int = 0
    service_id: int | None = None
    service_disabled: bool = False
    service_disabled_reason: str | None = None
    service_forced_down: bool = False
    last_seen_up: datetime.datetime | None = None
    # The conductor's last RPC echo of the agent (0004): when, and why it failed.
    echo_at: datetime.datetime | None = None
    echo_error: str | None = None
    instances: set = field(default_factory=set)
    aggregates: list = field(default_factory=list)
    # key -> set of values over all the host's aggregates (Nova's aggregate metadata).
    aggregate_metadata: dict = field(default_factory=dict)
    availability_zone: str | None = None
    # Derived, kept current by recompute(): what filters compare against.
    usable_vcpus: float = 0.0
    usable_ram_mb: float = 0.0
    usable_disk_gb: float = 0.0
    architecture: str | None = None
    host_ip_int: int | None = None
    host_ip_version: int | None = None

    def recompute(self) -> None:
        self.usable_vcpus = ((self.vcpus_total - self.reserved_host_cpus)
                             * self.cpu_allocation_ratio - self.vcpus_used)
        self.usable_ram_mb = ((self.memory_mb - self.reserved_host_memory_mb)
                              * self.ram_allocation_ratio - self.memory_mb_used)
        self.usable_disk_gb = ((self.local_gb - self.reserved_host_disk_mb / 1024.0)
                               * self.disk_allocation_ratio - self.local_gb_used)

    # Nova's HostState names, for the JsonFilter's $variables and the weighers.
    @property
    def num_instances(self) -> int:
        return len(self.instances)

    @property
    def free_ram_mb(self) -> int:
        return self.memory_mb - self.memory_mb_used

    @property
    def free_disk_mb(self) -> int:
        return (self.local_gb - self.local_gb_used) * 1024

    @property
    def hypervisor_hostname(self) -> str:
        return self.nodename

    def consume(self, vcpus: int, memory_mb: int, disk_gb: int, instance_uuid: str) -> None:
        """Account a claim made during this request, so later instances see it."""
        self.vcpus_used += vcpus
        self.memory_mb_used += memory_mb
        self.local_gb_used += disk_gb
        self.instances.add(instance_uuid)
        self.recompute()

    def copy(self) -> HostState:
        """A copy whose usage and instances can change without touching this one."""
        clone = copy.copy(self)
        clone.instances = set(self.instances)
        return clone


def _apply_node(state: HostState, node) -> None:
    """Copy a compute_nodes row (an ORM object or a Core row) into a host state."""
    for attr in ('uuid', 'host', 'host_ip', 'cell_name', 'hypervisor_type',
                 'hypervisor_version', 'vcpus_used', 'memory_mb', 'memory_mb_used',
                 'local_gb', 'local_gb_used', 'cpu_allocation_ratio', 'ram_allocation_ratio',
                 'disk_allocation_ratio', 'reserved_host_cpus', 'reserved_host_memory_mb',
                 'reserved_host_disk_mb', 'service_id'):
        setattr(state, attr, getattr(node, attr))
    state.nodename = node.hypervisor_hostname
    state.node_availability_zone = node.availability_zone
    state.vcpus_total = node.vcpus
    state.failed_builds = node.failed_builds or 0
    try:
        info = json.loads(node.cpu_info or '{}')
    except ValueError:
        info = {}
    state.cpu_info = info if isinstance(info, dict) else {}
    state.architecture = canonical_arch(state.cpu_info.get('arch'))
    try:
        address = ipaddress.ip_address(node.host_ip) if node.host_ip else None
    except ValueError:
        address = None
    state.host_ip_int = int(address) if address is not None else None
    state.host_ip_version = address.version if address is not None else None
    state.recompute()


def _apply_service(state: HostState, service) -> None:
    """Copy a services row (ORM object, Core row or None) into a host state."""
    if service is None:
        state.service_disabled, state.service_forced_down = False, False
        state.service_disabled_reason, state.last_seen_up = None, None
        state.echo_at, state.echo_error = None, None
        return
    state.service_disabled = bool(service.disabled)
    state.service_disabled_reason = service.disabled_reason
    state.service_forced_down = bool(service.forced_down)
    state.last_seen_up = service.last_seen_up
    state.echo_at, state.echo_error = service.echo_at, service.echo_error


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class HostManager:
    """The scheduler process's host states, refreshed incrementally from the DB."""

    def __init__(self):
        self._lock = threading.Lock()
        self._states: dict[int, HostState] = {}
        self._ordered: list[HostState] = []
        self._since: datetime.datetime | None = None
        self._max_node_id = 0
        self._full_at = 0.0
        self._agg_signature = None
        self._by_host_aggregates: dict[str, list[AggregateInfo]] = {}

    def hosts(self, session) -> list[HostState]:
        """The live (not deleted) host states, by host name, brought up to date."""
        with self._lock:
            interval = CONF.filter_scheduler.host_state_full_reload_interval
            if self._since is None or (interval and time.monotonic() - self._full_at
                                       > interval):
                self._full_load(session)
            else:
                self._incremental(session)
            return list(self._ordered)

    def invalidate(self) -> None:
        with self._lock:
            self._since = None

    # --- loading -------------------------------------------------------------------
    def _full_load(self, session) -> None:
        start = utcnow()
        states: dict[int, HostState] = {}
        for node, service in session.execute(
                sa.select(models.ComputeNode, models.Service)
                .outerjoin(models.Service, models.ComputeNode.service_id == models.Service.id)
                .where(models.ComputeNode.deleted.is_(False))):
            state = HostState(node_id=node.id, uuid=node.uuid, host=node.host,
                              nodename=node.hypervisor_hostname)
            _apply_node(state, node)
            _apply_service(state, service)
            states[node.id] = state
        for node_id, uuid in session.execute(
                sa.select(models.Allocation.compute_node_id, models.Allocation.instance_uuid)):
            if node_id in states:
                states[node_id].instances.add(uuid)
        self._states = states
        self._max_node_id = session.scalar(sa.select(sa.func.max(models.ComputeNode.id))) or 0
        self._load_aggregates(session, force=True)
        self._reorder()
        self._since = start
        self._full_at = time.monotonic()

    def _incremental(self, session) -> None:
        start = utcnow()
        since = self._since - datetime.timedelta(
            seconds=CONF.filter_scheduler.host_state_refresh_margin)
        changed = session.execute(_CHANGED_NODES, {'since': since,
                                                   'max_id': self._max_node_id}).all()
        reorder = False
        touched: list[int] = []
        for node in changed:
            self._max_node_id = max(self._max_node_id, node.id)
            state = self._states.get(node.id)
            if node.deleted:
                if state is not None:
                    del self._states[node.id]
                    reorder = True
                continue
            if state is None:
                state = HostState(node_id=node.id, uuid=node.uuid, host=node.host,
                                  nodename=node.hypervisor_hostname)
                self._states[node.id] = state
                reorder = True
            elif state.host != node.host:
                reorder = True
            _apply_node(state, node)
            touched.append(node.id)
        if touched:
            for ids in _chunks(touched):
                fresh: dict[int, set] = {i: set() for i in ids}
                for node_id, uuid in session.execute(_NODE_ALLOCATIONS, {'ids': ids}):
                    fresh[node_id].add(uuid)
                for node_id, uuids in fresh.items():
                    self._states[node_id].instances = uuids
            service_ids = {self._states[i].service_id for i in touched
                           if self._states[i].service_id is not None}
            services = {row.id: row for row in session.execute(
                _SERVICES_BY_ID, {'ids': sorted(service_ids)})} if service_ids else {}
            for node_id in touched:
                state = self._states[node_id]
                _apply_service(state, services.get(state.service_id))
        by_service: dict[int, list[HostState]] | None = None
        for service in session.execute(_CHANGED_SERVICES, {'since': since}):
            if by_service is None:
                by_service = {}
                for state in self._states.values():
                    by_service.setdefault(state.service_id, []).append(state)
            for state in by_service.get(service.id, ()):
                _apply_service(state, service)
        if self._load_aggregates(session) or reorder:
            self._reorder()
        self._since = start

    def _load_aggregates(self, session, force: bool = False) -> bool:
        """(Re)assign aggregates to hosts if they changed; True if they were reloaded."""
        ah, am, ag = models.AggregateHost, models.AggregateMetadata, models.Aggregate
        signature = self._signature(session)
        if not force and signature == self._agg_signature:
            return False
        self._agg_signature = signature
        metadata: dict[int, dict] = {}
        for agg_id, key, value in session.execute(sa.select(am.aggregate_id, am.key, am.value)):
            metadata.setdefault(agg_id, {})[key] = value
        infos = {a.id: AggregateInfo(a.id, a.uuid, a.name, metadata.get(a.id, {}))
                 for a in session.scalars(sa.select(ag))}
        by_host: dict[str, list[AggregateInfo]] = {}
        for host, agg_id in session.execute(sa.select(ah.host, ah.aggregate_id)):
            if agg_id in infos:
                by_host.setdefault(host, []).append(infos[agg_id])
        for state in self._states.values():
            self._assign_aggregates(state, by_host.get(state.host, []))
        self._by_host_aggregates = by_host
        return True

    @staticmethod
    def _signature(session) -> tuple:
        return tuple(session.execute(_AGGREGATES_SIGNATURE).one())

    @staticmethod
    def _assign_aggregates(state: HostState, aggregates: list[AggregateInfo]) -> None:
        state.aggregates = aggregates
        merged: dict[str, set] = {}
        for agg in aggregates:
            for key, value in agg.metadata.items():
                merged.setdefault(key, set()).add(value)
        state.aggregate_metadata = merged
        zones = merged.get('availability_zone')
        state.availability_zone = (sorted(zones)[0] if zones else
                                   state.node_availability_zone
                                   or CONF.default_availability_zone)

    def _reorder(self) -> None:
        aggs = self._by_host_aggregates
        for state in self._states.values():
            if state.availability_zone is None or state.aggregates != aggs.get(state.host, []):
                self._assign_aggregates(state, aggs.get(state.host, []))
        self._ordered = sorted(self._states.values(), key=lambda h: (h.host, h.nodename))


def _aggregates_signature() -> sa.Select:
    """What changes whenever aggregates, their hosts or their metadata change."""
    ah, am, ag = models.AggregateHost, models.AggregateMetadata, models.Aggregate
    return sa.select(
        sa.select(sa.func.count(ah.id)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.sum(ah.id), 0)).scalar_subquery(),
        sa.select(sa.func.count(am.id)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.sum(am.id), 0)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(am.value)), 0))
        .scalar_subquery(),
        sa.select(sa.func.count(ag.id)).scalar_subquery(),
        sa.select(sa.func.max(ag.updated_at)).scalar_subquery(),
    )


_AGGREGATES_SIGNATURE = _aggregates_signature()


def zones_of(state: HostState) -> set[str]:
    """Every AZ a host is in (normally one)."""
    zones = state.aggregate_metadata.get('availability_zone')
    return set(zones) if zones else {state.availability_zone}
