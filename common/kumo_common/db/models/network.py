"""The local network service's tables (Neutron's): networks, subnets, ports, security groups."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kumo_common.db.models.base import Base, TimestampMixin
from kumo_common.db.types import JSONText


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
