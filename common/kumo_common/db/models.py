"""SQLAlchemy models: every table of Kumo's database.

Times are naive UTC. Instances are soft-deleted the Nova way (`deleted` = id once
deleted, 0 while live) so that deleted servers can still be listed and shown.
"""
from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import DateTime as _DateTime
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kumo_common.db.types import JSONText

# Portability: MariaDB's plain DATETIME drops the microseconds PostgreSQL and SQLite
# keep (ordering, changes-since would differ by backend), so DATETIME(6) there. And
# fractional columns are Double, not Float: FLOAT is single precision on MariaDB (0.9
# becomes 0.8999999762 in SQL arithmetic), double precision on the other two.
DateTime = _DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    # Every constraint gets a name we choose rather than one each backend invents,
    # so later migrations can drop or alter it the same way on all three backends.
    metadata = MetaData(naming_convention={
        'uq': 'uniq_%(table_name)s0%(column_0_N_name)s',
        'ix': 'ix_%(column_0_label)s',
        'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
        'pk': 'pk_%(table_name)s',
    })


class TimestampMixin:
    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, onupdate=utcnow)


# --- services and hosts ------------------------------------------------------------

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


# --- flavors ------------------------------------------------------------------------

class Flavor(TimestampMixin, Base):
    __tablename__ = 'flavors'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavorid: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    memory_mb: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer, default=0)
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Double, default=1.0)
    vcpu_weight: Mapped[int | None] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)

    extra_specs: Mapped[list[FlavorExtraSpec]] = relationship(
        cascade='all, delete-orphan', lazy='selectin')
    projects: Mapped[list[FlavorProject]] = relationship(cascade='all, delete-orphan')


class FlavorExtraSpec(Base):
    __tablename__ = 'flavor_extra_specs'
    __table_args__ = (UniqueConstraint('flavor_id', 'key',
                                       name='uniq_flavor_extra_specs0flavor0key'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavor_id: Mapped[int] = mapped_column(ForeignKey('flavors.id'))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))


class FlavorProject(Base):
    __tablename__ = 'flavor_projects'
    __table_args__ = (UniqueConstraint('flavor_id', 'project_id',
                                       name='uniq_flavor_projects0flavor0project'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavor_id: Mapped[int] = mapped_column(ForeignKey('flavors.id'))
    project_id: Mapped[str] = mapped_column(String(255))


# --- instances ----------------------------------------------------------------------

class Instance(TimestampMixin, Base):
    __tablename__ = 'instances'
    __table_args__ = (
        Index('instances_project_id_deleted_idx', 'project_id', 'deleted'),
        Index('instances_host_deleted_idx', 'host', 'deleted'),
        Index('instances_reservation_id_idx', 'reservation_id'),
        Index('instances_task_deadline_idx', 'task_deadline'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    display_description: Mapped[str | None] = mapped_column(Text)
    hostname: Mapped[str | None] = mapped_column(String(255))
    reservation_id: Mapped[str | None] = mapped_column(String(255))
    launch_index: Mapped[int | None] = mapped_column(Integer)

    image_ref: Mapped[str | None] = mapped_column(String(255))
    kernel_id: Mapped[str | None] = mapped_column(String(255))
    ramdisk_id: Mapped[str | None] = mapped_column(String(255))
    # The flavor as it was at boot (survives deletion of the flavor; 2.47 view).
    instance_type_id: Mapped[int | None] = mapped_column(Integer)
    flavor: Mapped[dict | None] = mapped_column(JSONText)
    vcpus: Mapped[int] = mapped_column(Integer, default=0)
    memory_mb: Mapped[int] = mapped_column(Integer, default=0)
    root_gb: Mapped[int] = mapped_column(Integer, default=0)
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)

    key_name: Mapped[str | None] = mapped_column(String(255))
    key_data: Mapped[str | None] = mapped_column(Text)
    user_data: Mapped[str | None] = mapped_column(Text)
    admin_password: Mapped[str | None] = mapped_column(String(255))
    config_drive: Mapped[str | None] = mapped_column(String(255))
    auto_disk_config: Mapped[bool] = mapped_column(Boolean, default=False)
    access_ip_v4: Mapped[str | None] = mapped_column(String(39))
    access_ip_v6: Mapped[str | None] = mapped_column(String(39))
    root_device_name: Mapped[str | None] = mapped_column(String(255))
    os_type: Mapped[str | None] = mapped_column(String(255))
    architecture: Mapped[str | None] = mapped_column(String(255))
    trusted_certs: Mapped[list | None] = mapped_column(JSONText)

    vm_state: Mapped[str | None] = mapped_column(String(255))
    task_state: Mapped[str | None] = mapped_column(String(255))
    power_state: Mapped[int | None] = mapped_column(Integer)
    progress: Mapped[int | None] = mapped_column(Integer)
    # When the current task_state must be over (the conductor's reaper acts on rows
    # whose deadline has passed), and which pass drives it: the scheduling lease of
    # kumo_common.db.recovery (a token; NULL while no pass owns the instance).
    task_deadline: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    task_request_id: Mapped[str | None] = mapped_column(String(255))

    host: Mapped[str | None] = mapped_column(String(255))
    node: Mapped[str | None] = mapped_column(String(255))
    compute_node_uuid: Mapped[str | None] = mapped_column(String(36))
    cell_name: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    pinned_availability_zone: Mapped[str | None] = mapped_column(String(255))

    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(String(255))
    locked_reason: Mapped[str | None] = mapped_column(String(255))

    scheduled_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    launched_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    terminated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    deleted: Mapped[int] = mapped_column(Integer, default=0)

    metadata_items: Mapped[list[InstanceMetadata]] = relationship(
        cascade='all, delete-orphan', lazy='selectin')
    system_metadata: Mapped[list[InstanceSystemMetadata]] = relationship(
        cascade='all, delete-orphan', lazy='selectin')
    tags: Mapped[list[Tag]] = relationship(cascade='all, delete-orphan', lazy='selectin')


# A project's servers in the list's default order (created_at desc, the uuid
# tie-breaker, then id desc as every list's last key): a page is read from it in
# order (migration 0008).
Index('instances_project_id_created_at_idx', Instance.project_id, Instance.deleted,
      Instance.created_at.desc(), Instance.uuid, Instance.id.desc())


class InstanceMetadata(Base):
    __tablename__ = 'instance_metadata'
    __table_args__ = (UniqueConstraint('instance_uuid', 'key',
                                       name='uniq_instance_metadata0instance0key'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(ForeignKey('instances.uuid'))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))


class InstanceSystemMetadata(Base):
    __tablename__ = 'instance_system_metadata'
    __table_args__ = (UniqueConstraint('instance_uuid', 'key',
                                       name='uniq_instance_system_metadata0instance0key'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(ForeignKey('instances.uuid'))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text)


class InstanceInfoCache(TimestampMixin, Base):
    """A server's ports as the conductor last gave or changed them (Nova's
    instance_info_caches): what the server views' `addresses`, the ip/ip6 list filters
    and the rebuild/rescue payloads read, whichever network service holds the ports
    (kumo_common.db.network_cache)."""
    __tablename__ = 'instance_info_caches'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(ForeignKey('instances.uuid'), unique=True)
    # JSON list of PortSpec primitives, in the order the views show them.
    network_info: Mapped[str | None] = mapped_column(Text)


class Tag(Base):
    __tablename__ = 'tags'

    resource_id: Mapped[str] = mapped_column(ForeignKey('instances.uuid'), primary_key=True)
    tag: Mapped[str] = mapped_column(String(80), primary_key=True)


class InstanceFault(Base):
    __tablename__ = 'instance_faults'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    code: Mapped[int] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, default=utcnow)


class InstanceAction(TimestampMixin, Base):
    __tablename__ = 'instance_actions'
    __table_args__ = (Index('instance_actions_instance_uuid_idx', 'instance_uuid'),
                      Index('instance_actions_request_id_idx', 'request_id'))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(255))
    instance_uuid: Mapped[str] = mapped_column(String(36))
    request_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255))
    start_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    finish_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    message: Mapped[str | None] = mapped_column(String(255))

    events: Mapped[list[InstanceActionEvent]] = relationship(cascade='all, delete-orphan')


class InstanceActionEvent(TimestampMixin, Base):
    __tablename__ = 'instance_actions_events'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey('instance_actions.id'), index=True)
    event: Mapped[str] = mapped_column(String(255))
    result: Mapped[str | None] = mapped_column(String(255))
    traceback: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    finish_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    host: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)


class BlockDeviceMapping(TimestampMixin, Base):
    __tablename__ = 'block_device_mappings'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(ForeignKey('instances.uuid'), index=True)
    source_type: Mapped[str] = mapped_column(String(255))
    destination_type: Mapped[str] = mapped_column(String(255))
    device_name: Mapped[str | None] = mapped_column(String(255))
    boot_index: Mapped[int | None] = mapped_column(Integer)
    volume_size: Mapped[int | None] = mapped_column(Integer)
    guest_format: Mapped[str | None] = mapped_column(String(255))
    device_type: Mapped[str | None] = mapped_column(String(255))
    disk_bus: Mapped[str | None] = mapped_column(String(255))
    image_id: Mapped[str | None] = mapped_column(String(36))
    volume_id: Mapped[str | None] = mapped_column(String(36))
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    volume_type: Mapped[str | None] = mapped_column(String(255))
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    no_device: Mapped[bool] = mapped_column(Boolean, default=False)
    tag: Mapped[str | None] = mapped_column(String(255))


class RequestSpecRecord(TimestampMixin, Base):
    """The request a server was scheduled with (hints included), for reschedules and
    the 2.100 `scheduler_hints` view."""
    __tablename__ = 'request_specs'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    spec: Mapped[dict] = mapped_column(JSONText)
    scheduler_hints: Mapped[dict | None] = mapped_column(JSONText)


class SchedulingReport(Base):
    """Why the scheduler placed (or could not place) an instance, per attempt."""
    __tablename__ = 'scheduling_reports'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    request_id: Mapped[str | None] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(String(1024))
    report: Mapped[dict] = mapped_column(JSONText)
    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, default=utcnow)


class Migration(TimestampMixin, Base):
    """A move of a server between flavors or hosts (resize), Nova's `migrations`.

    It is also the owner of the claim the move keeps on the source while it is in
    flight: when a resize starts, the server's claim on its node is handed to the
    migration (allocations.instance_uuid = the migration's uuid), so that the new
    flavor's claim, the server's own, can coexist with it, even on the same node.
    Confirming frees the migration's claim; reverting frees the server's new one and
    hands the migration's back (kumo_common.db.server_migrations).
    """
    __tablename__ = 'migrations'
    __table_args__ = (Index('migrations_instance_uuid_status_idx', 'instance_uuid',
                            'status'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(String(36))
    migration_type: Mapped[str] = mapped_column(String(32), default='resize')
    # Nova's statuses: pre-migrating, migrating, post-migrating, finished, confirming,
    # confirmed, reverting, reverted, error.
    status: Mapped[str] = mapped_column(String(255))
    source_compute: Mapped[str | None] = mapped_column(String(255))
    source_node: Mapped[str | None] = mapped_column(String(255))
    source_node_uuid: Mapped[str | None] = mapped_column(String(36))
    dest_compute: Mapped[str | None] = mapped_column(String(255))
    dest_node: Mapped[str | None] = mapped_column(String(255))
    dest_node_uuid: Mapped[str | None] = mapped_column(String(36))
    dest_host: Mapped[str | None] = mapped_column(String(255))
    # A cold migration's `host` (2.56): the scheduler is asked for that host only.
    requested_host: Mapped[str | None] = mapped_column(String(255))
    old_instance_type_id: Mapped[int | None] = mapped_column(Integer)
    new_instance_type_id: Mapped[int | None] = mapped_column(Integer)
    # The flavors as the server carries them (models.Instance.flavor snapshots).
    old_flavor: Mapped[dict | None] = mapped_column(JSONText)
    new_flavor: Mapped[dict | None] = mapped_column(JSONText)
    # Where the server was before (ACTIVE or STOPPED): a revert or rollback returns it.
    old_vm_state: Mapped[str | None] = mapped_column(String(255))
    # Where the source agent put the server's files aside (the destination copies them
    # from there; confirm deletes them, revert puts them back).
    source_path: Mapped[str | None] = mapped_column(Text)
    # The agent step in flight: its ledger id, so the reaper can ask what became of it.
    step_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)


# --- keypairs, groups, quotas --------------------------------------------------------

class KeyPair(TimestampMixin, Base):
    __tablename__ = 'keypairs'
    __table_args__ = (UniqueConstraint('user_id', 'name', name='uniq_keypairs0user0name'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str | None] = mapped_column(String(255))
    public_key: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16), default='ssh')


class ServerGroup(TimestampMixin, Base):
    __tablename__ = 'server_groups'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    policy: Mapped[str] = mapped_column(String(255))
    rules: Mapped[dict | None] = mapped_column(JSONText)

    members: Mapped[list[ServerGroupMember]] = relationship(cascade='all, delete-orphan')


class ServerGroupMember(Base):
    __tablename__ = 'server_group_members'
    __table_args__ = (UniqueConstraint('group_id', 'instance_uuid',
                                       name='uniq_server_group_members0group0instance'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey('server_groups.id'))
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)


class Quota(TimestampMixin, Base):
    """A quota limit overriding the [quota] default for a project (or a user in it)."""
    __tablename__ = 'quotas'
    __table_args__ = (UniqueConstraint('project_id', 'user_id', 'resource',
                                       name='uniq_quotas0project0user0resource'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    # '' for a project-wide limit, so the unique constraint holds on every backend.
    user_id: Mapped[str] = mapped_column(String(255), default='')
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaClass(TimestampMixin, Base):
    """A limit of a quota class (os-quota-class-sets). Only the class named 'default'
    is used: its limits replace the [quota] options for every project and user
    without a limit of their own."""
    __tablename__ = 'quota_classes'
    __table_args__ = (UniqueConstraint('class_name', 'resource',
                                       name='uniq_quota_classes0class_name0resource'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_name: Mapped[str] = mapped_column(String(255))
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaUsage(TimestampMixin, Base):
    """Running usage per project, user and resource: the ledger admission checks
    and updates in the same transaction that creates the resource."""
    __tablename__ = 'quota_usages'
    __table_args__ = (UniqueConstraint('project_id', 'user_id', 'resource',
                                       name='uniq_quota_usages0project0user0resource'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255), default='')
    resource: Mapped[str] = mapped_column(String(255))
    in_use: Mapped[int] = mapped_column(Integer, default=0)


# --- images (local catalog) -----------------------------------------------------------

class Image(TimestampMixin, Base):
    __tablename__ = 'images'

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(30), default='queued')
    visibility: Mapped[str] = mapped_column(String(30), default='public')
    owner: Mapped[str | None] = mapped_column(String(255))
    checksum: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    disk_format: Mapped[str | None] = mapped_column(String(30))
    container_format: Mapped[str | None] = mapped_column(String(30))
    min_ram: Mapped[int] = mapped_column(Integer, default=0)
    min_disk: Mapped[int] = mapped_column(Integer, default=0)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the bits are (a local path or URL); None for a catalog entry without data.
    location: Mapped[str | None] = mapped_column(Text)
    # Glance v2's multihash and hidden flag, and the size inside the disk format (0003).
    os_hash_algo: Mapped[str | None] = mapped_column(String(64))
    os_hash_value: Mapped[str | None] = mapped_column(String(128))
    virtual_size: Mapped[int | None] = mapped_column(BigInteger)
    os_hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    properties: Mapped[list[ImageProperty]] = relationship(
        cascade='all, delete-orphan', lazy='selectin')
    tags: Mapped[list[ImageTag]] = relationship(cascade='all, delete-orphan',
                                                lazy='selectin')


class ImageProperty(Base):
    __tablename__ = 'image_properties'
    __table_args__ = (UniqueConstraint('image_id', 'name',
                                       name='uniq_image_properties0image0name'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey('images.id'))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text)


class ImageTag(Base):
    """A Glance image tag (0003)."""
    __tablename__ = 'image_tags'

    image_id: Mapped[str] = mapped_column(ForeignKey('images.id'), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)


# --- networks --------------------------------------------------------------------------

class Network(TimestampMixin, Base):
    __tablename__ = 'networks'

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    mtu: Mapped[int] = mapped_column(Integer, default=1500)
    status: Mapped[str] = mapped_column(String(16), default='ACTIVE')
    # Neutron attributes served by the network service (0003).
    description: Mapped[str] = mapped_column(String(255), default='')
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    router_external: Mapped[bool] = mapped_column(Boolean, default=False)

    subnets: Mapped[list[Subnet]] = relationship(cascade='all, delete-orphan',
                                                 lazy='selectin')


class Subnet(TimestampMixin, Base):
    __tablename__ = 'subnets'

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(ForeignKey('networks.id'), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    cidr: Mapped[str] = mapped_column(String(64))
    ip_version: Mapped[int] = mapped_column(Integer, default=4)
    gateway_ip: Mapped[str | None] = mapped_column(String(64))
    allocation_pools: Mapped[list | None] = mapped_column(JSONText)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(255), default='')
    dns_nameservers: Mapped[list | None] = mapped_column(JSONText)
    host_routes: Mapped[list | None] = mapped_column(JSONText)


class Port(TimestampMixin, Base):
    __tablename__ = 'ports'

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(ForeignKey('networks.id'), index=True)
    project_id: Mapped[str | None] = mapped_column(String(255))
    device_id: Mapped[str | None] = mapped_column(String(255), index=True)
    device_owner: Mapped[str | None] = mapped_column(String(255))
    mac_address: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default='DOWN')
    name: Mapped[str] = mapped_column(String(255), default='')
    description: Mapped[str] = mapped_column(String(255), default='')
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    binding_host_id: Mapped[str | None] = mapped_column(String(255))
    # A port made through the network API outlives the server it is given to:
    # deleting the server only unbinds it (Nova's preserve_on_delete). Ports the
    # conductor allocates for a server die with it.
    preserve_on_delete: Mapped[bool] = mapped_column(Boolean, default=False)
    # The ids of its security groups; None: its project's "default" group, which
    # Neutron gives every new port (and every port had before the column).
    security_groups: Mapped[list | None] = mapped_column(JSONText)

    fixed_ips: Mapped[list[IPAllocation]] = relationship(cascade='all, delete-orphan',
                                                         lazy='selectin')


class SecurityGroup(TimestampMixin, Base):
    """A security group of the local network service (Neutron's); each project's
    "default" has an id derived from the project's (kumo_common.db.security_groups)."""
    __tablename__ = 'security_groups'

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default='')
    description: Mapped[str] = mapped_column(String(255), default='')

    rules: Mapped[list[SecurityGroupRule]] = relationship(
        cascade='all, delete-orphan', lazy='selectin',
        foreign_keys='SecurityGroupRule.security_group_id')


class SecurityGroupRule(TimestampMixin, Base):
    __tablename__ = 'security_group_rules'

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(ForeignKey('security_groups.id'),
                                                   index=True)
    project_id: Mapped[str] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(8))
    protocol: Mapped[str | None] = mapped_column(String(40))
    port_range_min: Mapped[int | None] = mapped_column(Integer)
    port_range_max: Mapped[int | None] = mapped_column(Integer)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    # Not a foreign key: Neutron refuses to delete a group other groups' rules name,
    # which Kumo checks itself with its own message.
    remote_group_id: Mapped[str | None] = mapped_column(String(36))
    description: Mapped[str] = mapped_column(String(255), default='')


class IPAllocation(Base):
    """One fixed IP of a port; the primary key makes double allocation impossible."""
    __tablename__ = 'ip_allocations'

    subnet_id: Mapped[str] = mapped_column(ForeignKey('subnets.id'), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(ForeignKey('ports.id'), index=True)


class ConsoleAuthToken(TimestampMixin, Base):
    """A remote console's token (Nova's console_auth_tokens): only its SHA-256 is
    kept; kumo-consoleproxy finds the guest's host:port by it until `expires_at`.
    Deleted with the server (kumo_common.db.console_tokens)."""
    __tablename__ = 'console_auth_tokens'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(255), unique=True)
    console_type: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    internal_access_path: Mapped[str | None] = mapped_column(String(255))
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    access_url_base: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime, index=True)
