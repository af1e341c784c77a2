"""Host aggregates and the availability zones they define.

Aggregates are the source of truth for zones: a compute host is in the zone named by
the `availability_zone` metadata of its aggregates, or in [DEFAULT]
default_availability_zone when none names one. compute_nodes.availability_zone is a
copy that the server-create check and the scheduler read; every change made here
(metadata, hosts) rewrites that copy for the hosts it affects in the same transaction,
and node registration computes it with `zone_of_host`, so the two never disagree.

The rules are Nova's (nova/compute/api.py AggregateAPI): a host cannot be in two
zones; a zone name cannot be empty; a zone cannot change under hosts with servers.
"""
from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from kumo_common import exceptions

# compute_nodes imports this module too (node registration asks for the zone); only
# attributes are used at call time, so the cycle is harmless.
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import models
from kumo_common.db.models import utcnow

CONF = cfg.CONF

AZ_KEY = 'availability_zone'

# What Nova's InvalidAggregateAction* exceptions say, by the operation refused.
_ACTION_MESSAGES = {
    'add_host': 'Cannot add host to aggregate %(aggregate_id)s. Reason: %(reason)s.',
    'remove_host': 'Cannot remove host from aggregate %(aggregate_id)s. Reason: '
                   '%(reason)s.',
    'delete': 'Cannot remove host from aggregate %(aggregate_id)s. Reason: %(reason)s.',
    'update': 'Cannot update aggregate %(aggregate_id)s. Reason: %(reason)s.',
    'update_metadata': 'Cannot update metadata of aggregate %(aggregate_id)s. Reason: '
                       '%(reason)s.',
}


class AggregateNotFound(exceptions.NotFound):
    message = 'Aggregate %(aggregate_id)s could not be found.'


class AggregateNameExists(exceptions.Conflict):
    message = 'Aggregate %(aggregate_name)s already exists.'


class AggregateHostExists(exceptions.Conflict):
    message = 'Aggregate %(aggregate_id)s already has host %(host)s.'


class AggregateHostNotFound(exceptions.NotFound):
    message = 'Aggregate %(aggregate_id)s has no host %(host)s.'


class InvalidAggregateAction(exceptions.Invalid):
    """A change Nova's rules refuse; `action` says which operation it was."""

    def __init__(self, action: str, aggregate_id: int, reason: str):
        self.action = action
        super().__init__(_ACTION_MESSAGES[action] % {'aggregate_id': aggregate_id,
                                                     'reason': reason})


class HostHasServers(exceptions.Conflict):
    """Adding or removing the host would move its servers to another zone."""
    message = ('Host %(host)s has servers; moving it from availability zone '
               '%(old)s to %(new)s is not allowed.')


# --- reads ---------------------------------------------------------------------------

def list_aggregates(session: orm.Session) -> list[models.Aggregate]:
    return list(session.scalars(
        sa.select(models.Aggregate).order_by(models.Aggregate.id)
        .options(orm.selectinload(models.Aggregate.hosts),
                 orm.selectinload(models.Aggregate.metadata_items))))


def get_aggregate(session: orm.Session, aggregate_id: int, lock: bool = False
                  ) -> models.Aggregate:
    """The aggregate; `lock` holds its row until the transaction ends (writers take
    it first, then the hosts' rows: one order, so they cannot deadlock)."""
    query = sa.select(models.Aggregate).where(models.Aggregate.id == aggregate_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    aggregate = session.scalars(query).first()
    if aggregate is None:
        raise AggregateNotFound(aggregate_id=aggregate_id)
    return aggregate


def metadata_of(aggregate: models.Aggregate) -> dict[str, str]:
    return {m.key: m.value for m in aggregate.metadata_items}


def zone_of_aggregate(aggregate: models.Aggregate) -> str | None:
    return metadata_of(aggregate).get(AZ_KEY)


def hosts_of(aggregate: models.Aggregate) -> list[str]:
    return [h.host for h in sorted(aggregate.hosts, key=lambda h: h.id)]


def host_zones(session: orm.Session, hosts: Iterable[str] | None = None) -> dict[str, str]:
    """{host: zone} for hosts in an aggregate that names a zone (others are absent).

    A host in several zones (only possible if the database was edited by hand) gets
    them joined with ',' as Nova shows it.
    """
    ah, am = models.AggregateHost, models.AggregateMetadata
    query = (sa.select(ah.host, am.value)
             .join(am, am.aggregate_id == ah.aggregate_id)
             .where(am.key == AZ_KEY))
    if hosts is not None:
        hosts = set(hosts)
        if not hosts:
            return {}
        query = query.where(ah.host.in_(hosts))
    zones: dict[str, set[str]] = {}
    for host, zone in session.execute(query):
        zones.setdefault(host, set()).add(zone)
    return {host: ','.join(sorted(names)) for host, names in zones.items()}


def zone_of_host(session: orm.Session, host: str) -> str:
    """The availability zone of a compute host (the default zone if in none)."""
    return host_zones(session, [host]).get(host, CONF.default_availability_zone)


def sync_node_zones(session: orm.Session, hosts: Iterable[str]) -> None:
    """Rewrite compute_nodes.availability_zone of these hosts from the aggregates."""
    hosts = set(hosts)
    if not hosts:
        return
    zones = host_zones(session, hosts)
    for node in session.scalars(sa.select(models.ComputeNode).where(
            models.ComputeNode.host.in_(hosts))):
        zone = zones.get(node.host, CONF.default_availability_zone)
        if node.availability_zone != zone:
            # An ORM change stamps updated_at, which the scheduler's refresh watches.
            node.availability_zone = zone
    session.flush()


def aggregates_of_host(session: orm.Session, host: str) -> list[models.Aggregate]:
    return list(session.scalars(
        sa.select(models.Aggregate)
        .join(models.AggregateHost, models.AggregateHost.aggregate_id == models.Aggregate.id)
        .where(models.AggregateHost.host == host).order_by(models.Aggregate.id)))


def _lock_compute_hosts(session: orm.Session, hosts: Iterable[str]) -> set[str]:
    """Lock the compute service rows of these hosts (in id order, so two writers
    cannot deadlock) and return the hosts that have one.

    Every change of a host's zone takes these locks first, so two concurrent
    requests cannot both pass the "one zone per host" check and then both write.
    """
    hosts = set(hosts)
    if not hosts:
        return set()
    found = session.scalars(
        sa.select(models.Service.host)
        .where(models.Service.host.in_(hosts),
               models.Service.binary == node_db.COMPUTE_BINARY)
        .order_by(models.Service.id).with_for_update()).all()
    # Compared in Python too: MySQL's default collation would match 'Compute1'.
    return hosts & set(found)


def _servers_on(session: orm.Session, hosts: Iterable[str]) -> int:
    hosts = set(hosts)
    if not hosts:
        return 0
    return session.scalar(sa.select(sa.func.count(models.Instance.id)).where(
        models.Instance.host.in_(hosts), models.Instance.deleted == 0)) or 0


# --- rules ---------------------------------------------------------------------------

def _check_zone_change(session: orm.Session, aggregate: models.Aggregate, zone,
                       hosts: list[str], action: str, check_servers: bool) -> None:
    """Nova's is_safe_to_update_az: refuse an empty zone, a host in two zones, and
    (for updates) renaming the zone of hosts that run servers."""
    if not zone:
        raise InvalidAggregateAction(
            action, aggregate.id,
            f'Aggregate {aggregate.name} does not support empty named availability zone')
    conflicting = []
    for other in _zoned_aggregates_of(session, hosts):
        other_zone = zone_of_aggregate(other)
        if other.id != aggregate.id and other_zone != zone and other_zone not in conflicting:
            conflicting.append(other_zone)
    if conflicting:
        raise InvalidAggregateAction(
            action, aggregate.id,
            f'One or more hosts already in availability zone(s) {conflicting!r}')
    if check_servers and zone_of_aggregate(aggregate) != zone and _servers_on(session, hosts):
        raise InvalidAggregateAction(action, aggregate.id,
                                     'One or more hosts contain instances in this zone')


def _zoned_aggregates_of(session: orm.Session, hosts: list[str]) -> list[models.Aggregate]:
    if not hosts:
        return []
    ah, am = models.AggregateHost, models.AggregateMetadata
    # A locking read: it sees rows committed since the transaction began, also under
    # MySQL's repeatable read, and holds them until this change commits.
    ids = set(session.scalars(
        sa.select(ah.aggregate_id).join(am, am.aggregate_id == ah.aggregate_id)
        .where(ah.host.in_(hosts), am.key == AZ_KEY).with_for_update()))
    if not ids:
        return []
    return list(session.scalars(sa.select(models.Aggregate).where(
        models.Aggregate.id.in_(ids)).order_by(models.Aggregate.id)))


def _check_name_free(session: orm.Session, name: str, aggregate_id: int | None = None) -> None:
    found = session.scalars(sa.select(models.Aggregate).where(
        models.Aggregate.name == name)).first()
    if found is not None and found.id != aggregate_id:
        raise AggregateNameExists(aggregate_name=name)


def _flush_unique(session: orm.Session, name: str) -> None:
    """Flush; a concurrent create of the same name loses with a 409, not a 500."""
    try:
        session.flush()
    except sa_exc.IntegrityError as exc:
        raise AggregateNameExists(aggregate_name=name) from exc


def _set_metadata(session: orm.Session, aggregate: models.Aggregate, updates: dict) -> None:
    """Nova's update_metadata: a None value deletes the key, others are set."""
    items = {m.key: m for m in aggregate.metadata_items}
    for key, value in updates.items():
        item = items.get(key)
        if value is None:
            if item is not None:
                aggregate.metadata_items.remove(item)
        elif item is None:
            aggregate.metadata_items.append(models.AggregateMetadata(key=key, value=value))
        else:
            item.value = value
    # Nova stamps updated_at on metadata changes; the scheduler watches it too.
    aggregate.updated_at = utcnow()
    session.flush()


# --- writes --------------------------------------------------------------------------

def create_aggregate(session: orm.Session, name: str, zone: str | None
                     ) -> models.Aggregate:
    _check_name_free(session, name)
    aggregate = models.Aggregate(uuid=str(uuidlib.uuid4()), name=name)
    if zone:
        aggregate.metadata_items = [models.AggregateMetadata(key=AZ_KEY, value=zone)]
    session.add(aggregate)
    _flush_unique(session, name)
    return aggregate


def update_aggregate(session: orm.Session, aggregate_id: int, values: dict
                     ) -> models.Aggregate:
    """Rename and/or re-zone an aggregate (PUT /os-aggregates/{id})."""
    aggregate = get_aggregate(session, aggregate_id, lock=True)
    if AZ_KEY in values:
        _lock_compute_hosts(session, hosts_of(aggregate))
    values = dict(values)
    if 'name' in values:
        name = values.pop('name')
        _check_name_free(session, name, aggregate.id)
        # Nova's row is saved only when it changes: the same name keeps updated_at.
        if name != aggregate.name:
            aggregate.name = name
            aggregate.updated_at = utcnow()
            _flush_unique(session, name)
    if AZ_KEY in values:
        hosts = hosts_of(aggregate)
        _check_zone_change(session, aggregate, values[AZ_KEY], hosts, 'update',
                           check_servers=True)
        _set_metadata(session, aggregate, {AZ_KEY: values[AZ_KEY]})
        sync_node_zones(session, hosts)
    return aggregate


def set_metadata(session: orm.Session, aggregate_id: int, metadata: dict
                 ) -> models.Aggregate:
    """The set_metadata action: merge `metadata` into the aggregate's."""
    aggregate = get_aggregate(session, aggregate_id, lock=True)
    hosts = hosts_of(aggregate)
    if AZ_KEY in metadata:
        _lock_compute_hosts(session, hosts)
        _check_zone_change(session, aggregate, metadata[AZ_KEY], hosts, 'update_metadata',
                           check_servers=True)
    _set_metadata(session, aggregate, metadata)
    if AZ_KEY in metadata:
        sync_node_zones(session, hosts)
    return aggregate


def _is_compute_host(session: orm.Session, host: str) -> bool:
    found = session.scalars(sa.select(models.Service.host).where(
        models.Service.host == host, models.Service.binary == node_db.COMPUTE_BINARY)).all()
    return host in found  # compared in Python too, as in _lock_compute_hosts


def add_host(session: orm.Session, aggregate_id: int, host: str) -> models.Aggregate:
    # Nova looks the host up before the aggregate: an unknown host in an unknown
    # aggregate is the host's 404. A plain read, so the locks below keep their
    # aggregate-then-hosts order (and still catch a host deleted meanwhile).
    if not _is_compute_host(session, host):
        raise exceptions.ComputeHostNotFound(host=host)
    aggregate = get_aggregate(session, aggregate_id, lock=True)
    if not _lock_compute_hosts(session, [host]):
        raise exceptions.ComputeHostNotFound(host=host)
    zone = zone_of_aggregate(aggregate)
    if zone is not None:
        _check_zone_change(session, aggregate, zone, [host], 'add_host', check_servers=False)
    if host in hosts_of(aggregate):
        raise AggregateHostExists(aggregate_id=aggregate.id, host=host)
    old_zone = zone_of_host(session, host)
    if zone is not None and zone != old_zone and _servers_on(session, [host]):
        raise HostHasServers(host=host, old=old_zone, new=zone)
    aggregate.hosts.append(models.AggregateHost(host=host))
    session.flush()
    sync_node_zones(session, [host])
    return aggregate


def remove_host(session: orm.Session, aggregate_id: int, host: str,
                check_servers: bool = True) -> models.Aggregate:
    aggregate = get_aggregate(session, aggregate_id, lock=True)
    if not _lock_compute_hosts(session, [host]):
        raise exceptions.ComputeHostNotFound(host=host)
    entry = next((h for h in aggregate.hosts if h.host == host), None)
    if entry is None:
        raise AggregateHostNotFound(aggregate_id=aggregate.id, host=host)
    old_zone = zone_of_host(session, host)
    aggregate.hosts.remove(entry)
    session.flush()
    new_zone = zone_of_host(session, host)
    if check_servers and new_zone != old_zone and _servers_on(session, [host]):
        raise HostHasServers(host=host, old=old_zone, new=new_zone)
    sync_node_zones(session, [host])
    return aggregate


def remove_host_everywhere(session: orm.Session, host: str) -> None:
    """Take a host out of every aggregate (its compute service is being deleted)."""
    for aggregate in aggregates_of_host(session, host):
        for entry in [h for h in aggregate.hosts if h.host == host]:
            aggregate.hosts.remove(entry)
    session.flush()
    sync_node_zones(session, [host])


def delete_aggregate(session: orm.Session, aggregate_id: int) -> None:
    aggregate = get_aggregate(session, aggregate_id, lock=True)
    if aggregate.hosts:
        raise InvalidAggregateAction('delete', aggregate.id, 'Host aggregate is not empty')
    session.delete(aggregate)
    session.flush()
