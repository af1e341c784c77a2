"""Host states: a read-only snapshot of each compute node, as filters see it."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import sqlalchemy as sa

from kumo_common.db import models
from kumo_common.db.models import utcnow


@dataclass
class HostState:
    node_id: int
    uuid: str
    host: str
    nodename: str
    host_ip: str | None
    cell_name: str | None
    availability_zone: str | None
    hypervisor_type: str
    hypervisor_version: int
    vcpus_total: int
    vcpus_used: int
    memory_mb: int
    memory_mb_used: int
    local_gb: int
    local_gb_used: int
    cpu_allocation_ratio: float
    ram_allocation_ratio: float
    disk_allocation_ratio: float
    reserved_host_cpus: int
    reserved_host_memory_mb: int
    reserved_host_disk_mb: int
    num_instances: int
    service_disabled: bool
    service_disabled_reason: str | None
    service_forced_down: bool
    # Seconds since the last heartbeat; None if the service never reported.
    seconds_since_heartbeat: float | None
    instances: set[str] = field(default_factory=set)

    @property
    def usable_vcpus(self) -> float:
        return (self.vcpus_total - self.reserved_host_cpus) * self.cpu_allocation_ratio \
            - self.vcpus_used

    @property
    def usable_ram_mb(self) -> float:
        return (self.memory_mb - self.reserved_host_memory_mb) * self.ram_allocation_ratio \
            - self.memory_mb_used

    @property
    def usable_disk_gb(self) -> float:
        return (self.local_gb - self.reserved_host_disk_mb / 1024.0) \
            * self.disk_allocation_ratio - self.local_gb_used

    @property
    def free_ram_mb(self) -> int:
        return self.memory_mb - self.memory_mb_used

    @property
    def free_disk_mb(self) -> int:
        return (self.local_gb - self.local_gb_used) * 1024

    def consume(self, vcpus: int, memory_mb: int, disk_gb: int, instance_uuid: str) -> None:
        """Account a claim made during this request, so later instances see it."""
        self.vcpus_used += vcpus
        self.memory_mb_used += memory_mb
        self.local_gb_used += disk_gb
        self.num_instances += 1
        self.instances.add(instance_uuid)


def snapshot(session) -> list[HostState]:
    """Every registered compute node with its service and instances, in two queries."""
    now = utcnow()
    rows = session.execute(
        sa.select(models.ComputeNode, models.Service)
        .join(models.Service, models.ComputeNode.service_id == models.Service.id)
        .where(models.ComputeNode.deleted.is_(False))
        .order_by(models.ComputeNode.host)).all()
    instances: dict[str, set[str]] = {}
    for host, uuid in session.execute(
            sa.select(models.Instance.host, models.Instance.uuid)
            .where(models.Instance.deleted == 0, models.Instance.host.is_not(None))):
        instances.setdefault(host, set()).add(uuid)
    states = []
    for node, service in rows:
        last = service.last_seen_up
        age = (now - last).total_seconds() if isinstance(last, datetime.datetime) else None
        on_host = instances.get(node.host, set())
        states.append(HostState(
            node_id=node.id, uuid=node.uuid, host=node.host,
            nodename=node.hypervisor_hostname, host_ip=node.host_ip,
            cell_name=node.cell_name, availability_zone=node.availability_zone,
            hypervisor_type=node.hypervisor_type,
            hypervisor_version=node.hypervisor_version,
            vcpus_total=node.vcpus, vcpus_used=node.vcpus_used,
            memory_mb=node.memory_mb, memory_mb_used=node.memory_mb_used,
            local_gb=node.local_gb, local_gb_used=node.local_gb_used,
            cpu_allocation_ratio=node.cpu_allocation_ratio,
            ram_allocation_ratio=node.ram_allocation_ratio,
            disk_allocation_ratio=node.disk_allocation_ratio,
            reserved_host_cpus=node.reserved_host_cpus,
            reserved_host_memory_mb=node.reserved_host_memory_mb,
            reserved_host_disk_mb=node.reserved_host_disk_mb,
            num_instances=len(on_host), service_disabled=service.disabled,
            service_disabled_reason=service.disabled_reason,
            service_forced_down=service.forced_down, seconds_since_heartbeat=age,
            instances=set(on_host)))
    return states
