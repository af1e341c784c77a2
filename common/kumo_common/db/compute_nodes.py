"""Services, compute nodes and the resource claims made on them."""
from __future__ import annotations

import datetime
import uuid as uuidlib

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions, objects
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import models
from kumo_common.db.models import utcnow

COMPUTE_BINARY = 'kumo-compute'


def record_service_up(session: orm.Session, host: str, binary: str, topic: str | None = None
                      ) -> models.Service:
    """Create the service row if new, and stamp its heartbeat."""
    service = session.scalars(sa.select(models.Service).where(
        models.Service.host == host, models.Service.binary == binary)).first()
    if service is None:
        service = models.Service(uuid=str(uuidlib.uuid4()), host=host, binary=binary,
                                 topic=topic, report_count=0)
        session.add(service)
    service.last_seen_up = utcnow()
    service.report_count = (service.report_count or 0) + 1
    session.flush()
    return service


def upsert_node(session: orm.Session, report: objects.NodeReport,
                availability_zone: str | None = None) -> models.ComputeNode:
    """Register or refresh a compute agent's service and node from its report.

    Usage columns are left alone: they are the sum of claims, kept by claim/free.
    The node's availability_zone comes from the host's aggregates (db/aggregates.py,
    the source of truth); `availability_zone` is ignored and kept only for callers.
    """
    service = record_service_up(session, report.host, COMPUTE_BINARY, 'compute')
    node = session.scalars(sa.select(models.ComputeNode).where(
        models.ComputeNode.uuid == report.node_uuid)).first()
    if node is None:
        node = models.ComputeNode(uuid=report.node_uuid, vcpus_used=0, memory_mb_used=0,
                                  local_gb_used=0)
        session.add(node)
    node.service_id = service.id
    node.host = report.host
    node.hypervisor_hostname = report.hypervisor_hostname
    node.hypervisor_type = report.hypervisor_type
    node.hypervisor_version = report.hypervisor_version
    node.host_ip = report.host_ip
    node.cell_name = report.cell_name
    node.availability_zone = aggregate_db.zone_of_host(session, report.host)
    node.cpu_info = report.cpu_info
    node.vcpus = report.vcpus
    node.memory_mb = report.memory_mb
    node.local_gb = report.local_gb
    node.running_vms = len(report.running_instances)
    node.deleted = False
    for key in ('cpu_allocation_ratio', 'ram_allocation_ratio', 'disk_allocation_ratio',
                'reserved_host_cpus', 'reserved_host_memory_mb', 'reserved_host_disk_mb'):
        setattr(node, key, getattr(report, key))
    session.flush()
    return node


def list_up_nodes(session: orm.Session, service_down_time: int) -> list[models.ComputeNode]:
    """Compute nodes whose service is enabled, not forced down and heartbeating."""
    cutoff = utcnow() - datetime.timedelta(seconds=service_down_time)
    return list(session.scalars(
        sa.select(models.ComputeNode)
        .join(models.Service, models.ComputeNode.service_id == models.Service.id)
        .where(models.ComputeNode.deleted.is_(False),
               models.Service.last_seen_up >= cutoff)
        .options(orm.contains_eager(models.ComputeNode.service))))


def _claim_statements():
    """The claim's UPDATE and INSERT, built once: building and keying them again on
    every claim cost more than running them."""
    cn = models.ComputeNode.__table__.c
    vcpus = sa.bindparam('claim_vcpus', type_=sa.Integer)
    memory_mb = sa.bindparam('claim_memory_mb', type_=sa.Integer)
    disk_gb = sa.bindparam('claim_disk_gb', type_=sa.Integer)
    update = (sa.update(models.ComputeNode.__table__)
              .where(cn.id == sa.bindparam('claim_node_id', type_=sa.Integer),
                     cn.vcpus_used + vcpus
                     <= (cn.vcpus - cn.reserved_host_cpus) * cn.cpu_allocation_ratio,
                     cn.memory_mb_used + memory_mb
                     <= (cn.memory_mb - cn.reserved_host_memory_mb)
                     * cn.ram_allocation_ratio,
                     cn.local_gb_used + disk_gb
                     <= (cn.local_gb - cn.reserved_host_disk_mb / 1024.0)
                     * cn.disk_allocation_ratio)
              .values(vcpus_used=cn.vcpus_used + vcpus,
                      memory_mb_used=cn.memory_mb_used + memory_mb,
                      local_gb_used=cn.local_gb_used + disk_gb))
    insert = sa.insert(models.Allocation.__table__)
    return update, insert


_CLAIM_UPDATE, _ALLOCATION_INSERT = _claim_statements()


def claim(session: orm.Session, node_id: int, instance_uuid: str, vcpus: int,
          memory_mb: int, disk_gb: int) -> bool:
    """Atomically claim resources on a node for an instance.

    One conditional UPDATE: it only matches while the node still has room, so two
    schedulers (or threads) racing for the last slot cannot both win.
    """
    result = session.execute(_CLAIM_UPDATE, {
        'claim_node_id': node_id, 'claim_vcpus': vcpus, 'claim_memory_mb': memory_mb,
        'claim_disk_gb': disk_gb})
    if result.rowcount != 1:
        return False
    # Core statements, not an ORM add + flush: the claim is the scheduler's hot path.
    session.execute(_ALLOCATION_INSERT, {
        'instance_uuid': instance_uuid, 'compute_node_id': node_id, 'vcpus': vcpus,
        'memory_mb': memory_mb, 'disk_gb': disk_gb})
    return True


def free_allocations(session: orm.Session, instance_uuid: str) -> None:
    """Give back everything an instance claimed, on every node."""
    allocations = session.scalars(sa.select(models.Allocation).where(
        models.Allocation.instance_uuid == instance_uuid)).all()
    cn = models.ComputeNode
    for alloc in allocations:
        session.execute(
            sa.update(cn).where(cn.id == alloc.compute_node_id)
            .values(vcpus_used=cn.vcpus_used - alloc.vcpus,
                    memory_mb_used=cn.memory_mb_used - alloc.memory_mb,
                    local_gb_used=cn.local_gb_used - alloc.disk_gb)
            .execution_options(synchronize_session=False))
        session.delete(alloc)


def get_node(session: orm.Session, node_uuid: str) -> models.ComputeNode:
    node = session.scalars(sa.select(models.ComputeNode).where(
        models.ComputeNode.uuid == node_uuid)).first()
    if node is None:
        raise exceptions.ComputeHostNotFound(host=node_uuid)
    return node


def services_by_host(session: orm.Session, hosts: set[str], binary: str = COMPUTE_BINARY
                     ) -> dict[str, models.Service]:
    if not hosts:
        return {}
    rows = session.scalars(sa.select(models.Service).where(
        models.Service.host.in_(hosts), models.Service.binary == binary))
    return {row.host: row for row in rows}
