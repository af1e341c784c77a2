"""Where servers are placed and moved: request specs, scheduling reports, migrations."""
from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kumo_common.db.models.base import Base, DateTime, TimestampMixin, utcnow
from kumo_common.db.types import JSONText


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
    # A live migration's copy, in bytes, as the source's hypervisor last reported it
    # while the migration was running (kumo_conductor.live_migrating.progress); null
    # when unknown.
    memory_total: Mapped[int | None] = mapped_column(BigInteger)
    memory_processed: Mapped[int | None] = mapped_column(BigInteger)
    memory_remaining: Mapped[int | None] = mapped_column(BigInteger)
    disk_total: Mapped[int | None] = mapped_column(BigInteger)
    disk_processed: Mapped[int | None] = mapped_column(BigInteger)
    disk_remaining: Mapped[int | None] = mapped_column(BigInteger)
