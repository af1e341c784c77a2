"""Servers and what hangs off them: metadata, info caches, tags, faults, actions, block devices."""
from __future__ import annotations

import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kumo_common.db.models.base import Base, DateTime, TimestampMixin, utcnow
from kumo_common.db.types import JSONText


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
