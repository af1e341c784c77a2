"""What users and projects own besides servers: keypairs, server groups, quotas."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kumo_common.db.models.base import Base, TimestampMixin
from kumo_common.db.types import JSONText


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
