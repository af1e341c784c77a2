"""Where servers run: services, compute nodes, the allocations on them, aggregates."""
from __future__ import annotations

import datetime

from sqlalchemy import (
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kumo_common.db.models.base import Base, DateTime, TimestampMixin, utcnow


class Service(TimestampMixin, Base):
    __tablename__ = 'services'
    __table_args__ = (UniqueConstraint('host', 'binary', name='uniq_services0host0binary'),
                      Index('ix_services_updated_at', 'updated_at'))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    forced_down: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_up: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The conductor's RPC echo of a compute agent (0004): when it was last sent, and
    # why it failed (None: answered). Not the operator's disabled_reason.
    echo_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    echo_error: Mapped[str | None] = mapped_column(String(255))


class ComputeNode(TimestampMixin, Base):
    __tablename__ = 'compute_nodes'
    # The scheduler re-reads only nodes changed since its last look (0002).
    __table_args__ = (Index('ix_compute_nodes_updated_at', 'updated_at'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey('services.id'), index=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    hypervisor_hostname: Mapped[str] = mapped_column(String(255))
    host_ip: Mapped[str | None] = mapped_column(String(39))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    cell_name: Mapped[str | None] = mapped_column(String(255))
    hypervisor_type: Mapped[str] = mapped_column(String(255), default='fake')
    hypervisor_version: Mapped[int] = mapped_column(Integer, default=0)
    cpu_info: Mapped[str] = mapped_column(Text, default='{}')
    vcpus: Mapped[int] = mapped_column(Integer, default=0)
    memory_mb: Mapped[int] = mapped_column(Integer, default=0)
    local_gb: Mapped[int] = mapped_column(Integer, default=0)
    # Usage is the sum of the allocations on the node, kept in step by claims.
    vcpus_used: Mapped[int] = mapped_column(Integer, default=0)
    memory_mb_used: Mapped[int] = mapped_column(Integer, default=0)
    local_gb_used: Mapped[int] = mapped_column(Integer, default=0)
    running_vms: Mapped[int] = mapped_column(Integer, default=0)
    cpu_allocation_ratio: Mapped[float] = mapped_column(Double, default=4.0)
    ram_allocation_ratio: Mapped[float] = mapped_column(Double, default=1.0)
    disk_allocation_ratio: Mapped[float] = mapped_column(Double, default=1.0)
    reserved_host_memory_mb: Mapped[int] = mapped_column(Integer, default=0)
    reserved_host_disk_mb: Mapped[int] = mapped_column(Integer, default=0)
    reserved_host_cpus: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Consecutive failed builds (a success resets it): the BuildFailureWeigher's input.
    failed_builds: Mapped[int] = mapped_column(Integer, default=0, server_default='0')

    service: Mapped[Service | None] = relationship(lazy='joined')


class Allocation(Base):
    """What one instance claims on one compute node."""
    __tablename__ = 'allocations'
    __table_args__ = (UniqueConstraint('instance_uuid', 'compute_node_id',
                                       name='uniq_allocations0instance0node'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    compute_node_id: Mapped[int] = mapped_column(ForeignKey('compute_nodes.id'), index=True)
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    disk_gb: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, default=utcnow)


class Aggregate(TimestampMixin, Base):
    __tablename__ = 'aggregates'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)

    hosts: Mapped[list[AggregateHost]] = relationship(cascade='all, delete-orphan')
    metadata_items: Mapped[list[AggregateMetadata]] = relationship(
        cascade='all, delete-orphan')


class AggregateHost(Base):
    __tablename__ = 'aggregate_hosts'
    __table_args__ = (UniqueConstraint('aggregate_id', 'host',
                                       name='uniq_aggregate_hosts0aggregate0host'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregate_id: Mapped[int] = mapped_column(ForeignKey('aggregates.id'))
    host: Mapped[str] = mapped_column(String(255), index=True)


class AggregateMetadata(Base):
    __tablename__ = 'aggregate_metadata'
    __table_args__ = (UniqueConstraint('aggregate_id', 'key',
                                       name='uniq_aggregate_metadata0aggregate0key'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregate_id: Mapped[int] = mapped_column(ForeignKey('aggregates.id'))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
