"""Compute nodes as the os-hypervisors API shows them: usage the way Nova reports it,
the servers on each host, and totals over the enabled hosts."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models


class MarkerNotFound(exceptions.Invalid):
    message = 'marker [%(marker)s] not found'


@dataclass
class Usage:
    """A node's figures as Nova's resource tracker reports them: the host's own
    reservations count as used, and the workload is the servers with a task."""
    vcpus: int
    vcpus_used: int
    memory_mb: int
    memory_mb_used: int
    local_gb: int
    local_gb_used: int
    free_ram_mb: int
    free_disk_gb: int
    disk_available_least: int
    running_vms: int
    current_workload: int


def _live_nodes():
    return (sa.select(models.ComputeNode, models.Service)
            .join(models.Service, models.ComputeNode.service_id == models.Service.id)
            .where(models.ComputeNode.deleted.is_(False))
            .order_by(models.ComputeNode.id))


def list_nodes(session: orm.Session, limit: int | None = None, marker: str | None = None,
               marker_is_uuid: bool = False
               ) -> list[tuple[models.ComputeNode, models.Service]]:
    """(node, service) pairs in id order, after the marker (a node id, or uuid from
    2.53) and at most `limit` of them."""
    query = _live_nodes()
    if marker is not None:
        column = models.ComputeNode.uuid if marker_is_uuid else models.ComputeNode.id
        # ASCII digits that fit an INTEGER: int() refuses '¹', SQLite huge numbers.
        if not marker_is_uuid and not (str(marker).isascii() and str(marker).isdigit()
                                       and int(marker) < 2 ** 31):
            raise MarkerNotFound(marker=marker)
        marker_id = session.scalar(sa.select(models.ComputeNode.id).where(
            column == (marker if marker_is_uuid else int(marker)),
            models.ComputeNode.deleted.is_(False)))
        if marker_id is None:
            raise MarkerNotFound(marker=marker)
        query = query.where(models.ComputeNode.id > marker_id)
    if limit is not None:
        query = query.limit(limit)
    return [tuple(row) for row in session.execute(query)]


def search_nodes(session: orm.Session, pattern: str
                 ) -> list[tuple[models.ComputeNode, models.Service]]:
    """Nodes whose hypervisor_hostname contains `pattern` (a plain substring)."""
    query = _live_nodes().where(
        models.ComputeNode.hypervisor_hostname.contains(pattern, autoescape=True))
    return [tuple(row) for row in session.execute(query)]


def get_node(session: orm.Session, node_id: str, by_uuid: bool
             ) -> tuple[models.ComputeNode, models.Service] | None:
    query = _live_nodes()
    if by_uuid:
        query = query.where(models.ComputeNode.uuid == node_id)
    else:
        query = query.where(models.ComputeNode.id == int(node_id))
    row = session.execute(query).first()
    return tuple(row) if row is not None else None


def servers_by_host(session: orm.Session, hosts: set[str]) -> dict[str, list[models.Instance]]:
    """The live servers on each host, oldest first."""
    if not hosts:
        return {}
    result: dict[str, list[models.Instance]] = {h: [] for h in hosts}
    for instance in session.scalars(
            sa.select(models.Instance)
            .where(models.Instance.host.in_(hosts), models.Instance.deleted == 0)
            .order_by(models.Instance.created_at, models.Instance.id)):
        result[instance.host].append(instance)
    return result


def usage(session: orm.Session, nodes: list[models.ComputeNode]) -> dict[int, Usage]:
    """Usage of each node by id, in two queries whatever the number of nodes."""
    if not nodes:
        return {}
    ids = [n.id for n in nodes]
    claimed = dict(session.execute(
        sa.select(models.Allocation.compute_node_id, sa.func.count(models.Allocation.id))
        .where(models.Allocation.compute_node_id.in_(ids))
        .group_by(models.Allocation.compute_node_id)).all())
    busy = dict(session.execute(
        sa.select(models.Instance.host, sa.func.count(models.Instance.id))
        .where(models.Instance.host.in_({n.host for n in nodes}),
               models.Instance.deleted == 0, models.Instance.task_state.is_not(None))
        .group_by(models.Instance.host)).all())
    result = {}
    for node in nodes:
        memory_used = node.memory_mb_used + node.reserved_host_memory_mb
        disk_used = node.local_gb_used + node.reserved_host_disk_mb // 1024
        result[node.id] = Usage(
            vcpus=node.vcpus, vcpus_used=node.vcpus_used, memory_mb=node.memory_mb,
            memory_mb_used=memory_used, local_gb=node.local_gb, local_gb_used=disk_used,
            free_ram_mb=node.memory_mb - memory_used, free_disk_gb=node.local_gb - disk_used,
            disk_available_least=node.local_gb - disk_used,
            running_vms=claimed.get(node.id, 0), current_workload=busy.get(node.host, 0))
    return result


STATISTICS_FIELDS = ('vcpus', 'memory_mb', 'local_gb', 'vcpus_used', 'memory_mb_used',
                     'local_gb_used', 'free_ram_mb', 'free_disk_gb', 'current_workload',
                     'running_vms', 'disk_available_least')


def statistics(session: orm.Session) -> dict[str, int]:
    """Totals over the nodes of enabled compute services (Nova counts no others)."""
    nodes = [node for node, service in session.execute(_live_nodes())
             if not service.disabled]
    figures = usage(session, nodes)
    totals = {'count': len(nodes)}
    for name in STATISTICS_FIELDS:
        totals[name] = sum(getattr(figures[n.id], name) for n in nodes)
    return totals
