"""SQLAlchemy models: every table of Kumo's database.

Times are naive UTC. Instances are soft-deleted the Nova way (`deleted` = id once
deleted, 0 while live) so that deleted servers can still be listed and shown.

One module per area (`base` holds what they share); every name is re-exported here,
so callers write `from kumo_common.db import models` and `models.Instance`. Importing
every module here also puts every table on `Base.metadata` (what the migrations are
compared with) and every class in the registry relationships resolve names by.
"""
from kumo_common.db.models.accounts import (
    KeyPair,
    Quota,
    QuotaClass,
    QuotaUsage,
    ServerGroup,
    ServerGroupMember,
)
from kumo_common.db.models.base import Base, DateTime, TimestampMixin, utcnow
from kumo_common.db.models.consoles import ConsoleAuthToken
from kumo_common.db.models.flavors import Flavor, FlavorExtraSpec, FlavorProject
from kumo_common.db.models.hosts import (
    Aggregate,
    AggregateHost,
    AggregateMetadata,
    Allocation,
    ComputeNode,
    Service,
)
from kumo_common.db.models.images import Image, ImageProperty, ImageTag
from kumo_common.db.models.instances import (
    BlockDeviceMapping,
    Instance,
    InstanceAction,
    InstanceActionEvent,
    InstanceFault,
    InstanceInfoCache,
    InstanceMetadata,
    InstanceSystemMetadata,
    Tag,
)
from kumo_common.db.models.network import (
    IPAllocation,
    Network,
    Port,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)
from kumo_common.db.models.scheduling import Migration, RequestSpecRecord, SchedulingReport

__all__ = [
    'Aggregate', 'AggregateHost', 'AggregateMetadata', 'Allocation', 'Base',
    'BlockDeviceMapping', 'ComputeNode', 'ConsoleAuthToken', 'DateTime', 'Flavor',
    'FlavorExtraSpec', 'FlavorProject', 'IPAllocation', 'Image', 'ImageProperty',
    'ImageTag', 'Instance', 'InstanceAction', 'InstanceActionEvent', 'InstanceFault',
    'InstanceInfoCache', 'InstanceMetadata', 'InstanceSystemMetadata', 'KeyPair',
    'Migration', 'Network', 'Port', 'Quota', 'QuotaClass', 'QuotaUsage',
    'RequestSpecRecord', 'SchedulingReport', 'SecurityGroup', 'SecurityGroupRule',
    'ServerGroup', 'ServerGroupMember', 'Service', 'Subnet', 'Tag', 'TimestampMixin',
    'utcnow',
]
