"""Services as operators manage them: list, liveness, enable/disable/force down, delete.

A service is up when it is not forced down and its last heartbeat (last_seen_up,
else its creation) is at most service_down_time old, as Nova's DB servicegroup
driver decides.
"""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import models
from kumo_common.db.models import utcnow

COMPUTE_BINARY = node_db.COMPUTE_BINARY
# The API service records a heartbeat like the others but, as in Nova, is not one of
# the RPC services operators manage through os-services.
API_BINARY = 'kumo-api'


class ServiceNotFound(exceptions.NotFound):
    message = 'Service %(service_id)s could not be found.'


class HostBinaryNotFound(exceptions.NotFound):
    message = 'Compute host %(host)s with binary %(binary)s could not be found.'


class ServiceHostsInstances(exceptions.Conflict):
    message = ('Unable to delete compute service that is hosting instances. Migrate or '
               'delete the instances first.')


def is_up(service: models.Service, down_time: int,
          now: datetime.datetime | None = None) -> bool:
    return down_reason(service, down_time, now) is None


def heartbeat_reason(service: models.Service, down_time: int,
                     now: datetime.datetime | None = None) -> str | None:
    """Why the service's heartbeat says it is down (forced down, never reported, or
    late), or None if it heartbeats."""
    if service.forced_down:
        return 'forced down by an operator'
    last = service.last_seen_up or service.created_at
    if last is None:
        return 'never reported'
    now = now or utcnow()
    age = abs((now - last).total_seconds())
    if age > down_time:
        return f'heartbeat late: last seen {age:.0f}s ago (service_down_time {down_time}s)'
    return None


def down_reason(service: models.Service, down_time: int,
                now: datetime.datetime | None = None) -> str | None:
    """Why the service counts as down, or None if it is up. A compute agent is up
    when it heartbeats and, where the conductor probes it, answers the RPC echo."""
    now = now or utcnow()
    reason = heartbeat_reason(service, down_time, now)
    if reason is not None:
        return reason
    if service.echo_error and service.echo_at is not None \
            and abs((now - service.echo_at).total_seconds()) <= down_time:
        return f'RPC echo failed: {service.echo_error}'
    return None


def list_services(session: orm.Session, host: str | None = None,
                  binary: str | None = None, disabled: bool | None = None
                  ) -> list[models.Service]:
    """Managed services (the API's own row excluded), oldest first."""
    query = (sa.select(models.Service).where(models.Service.binary != API_BINARY)
             .order_by(models.Service.id))
    if host is not None:
        query = query.where(models.Service.host == host)
    if binary is not None:
        query = query.where(models.Service.binary == binary)
    if disabled is not None:
        query = query.where(models.Service.disabled.is_(disabled))
    return list(session.scalars(query))


def get_by_id(session: orm.Session, service_id: int) -> models.Service:
    service = session.get(models.Service, service_id)
    if service is None or service.binary == API_BINARY:
        raise ServiceNotFound(service_id=service_id)
    return service


def get_by_uuid(session: orm.Session, uuid: str) -> models.Service:
    service = session.scalars(sa.select(models.Service).where(
        models.Service.uuid == uuid)).first()
    if service is None or service.binary == API_BINARY:
        raise ServiceNotFound(service_id=uuid)
    return service


def get_by_host_and_binary(session: orm.Session, host: str, binary: str
                           ) -> models.Service:
    service = session.scalars(sa.select(models.Service).where(
        models.Service.host == host, models.Service.binary == binary)).first()
    if service is None or service.host != host:
        raise HostBinaryNotFound(host=host, binary=binary)
    return service


def update(session: orm.Session, service: models.Service, values: dict) -> None:
    """Set columns of a service; updated_at moves, which the scheduler's refresh
    watches, so a disabled host stops receiving servers at once."""
    for key, value in values.items():
        setattr(service, key, value)
    service.updated_at = utcnow()
    session.flush()


def delete(session: orm.Session, service: models.Service) -> None:
    """Delete a service; a compute service also leaves its aggregates and its nodes
    are marked deleted (refused while it hosts servers)."""
    if service.binary == COMPUTE_BINARY:
        hosted = session.scalar(sa.select(sa.func.count(models.Instance.id)).where(
            models.Instance.host == service.host, models.Instance.deleted == 0))
        if hosted:
            raise ServiceHostsInstances()
        aggregate_db.remove_host_everywhere(session, service.host)
        for node in session.scalars(sa.select(models.ComputeNode).where(
                models.ComputeNode.service_id == service.id)):
            node.deleted = True
            node.service_id = None
        session.flush()
    session.delete(service)
    session.flush()
