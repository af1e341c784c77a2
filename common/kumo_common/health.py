"""Service health: liveness from heartbeats and RPC echoes, and the health report.

A service is up when it heartbeats (services.last_seen_up within service_down_time)
and, for a compute agent the conductor probes, when its last RPC echo was answered
(services.echo_error; kumo_common.db.services.down_reason says why not). The
conductor's prober (kumo_conductor.prober) records the echoes; os-services, the
scheduler's ComputeFilter and `kumo-manage service health` read them. The reaper acts
early on a host only on its heartbeat (compute_heartbeats), and asks the agent first.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import time

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from kumo_common.db import models
from kumo_common.db import services as service_db
from kumo_common.db.models import utcnow
from kumo_common.rpcapi import health as health_rpcapi

CONF = cfg.CONF

# The RPC topic each binary's servers listen on, for the echo.
TOPICS = {'kumo-conductor': lambda: CONF.conductor.topic,
          'kumo-scheduler': lambda: CONF.scheduler.topic,
          service_db.COMPUTE_BINARY: lambda: 'compute'}


def compute_heartbeats(session: orm.Session) -> dict[str, str | None]:
    """{host: why its compute service's heartbeat says it is down, or None}. The
    reaper acts early on a host only when its heartbeat is late (and the host does not
    answer): a failed echo alone may be a short broker outage."""
    now = utcnow()
    rows = session.scalars(sa.select(models.Service).where(
        models.Service.binary == service_db.COMPUTE_BINARY))
    return {service.host: service_db.heartbeat_reason(service, CONF.service_down_time,
                                                      now)
            for service in rows}


def claim_probes(session: orm.Session, interval: float) -> list[str]:
    """Compute hosts due for an echo, claimed by this conductor (echo_at stamped now,
    conditionally: of several conductors, one probes a given agent per interval)."""
    now = utcnow()
    cutoff = now - datetime.timedelta(seconds=interval * 0.8)
    svc = models.Service
    due = session.execute(sa.select(svc.id, svc.host, svc.echo_at).where(
        svc.binary == service_db.COMPUTE_BINARY, svc.forced_down.is_(False),
        sa.or_(svc.echo_at.is_(None), svc.echo_at < cutoff))).all()
    claimed = []
    for service_id, host, seen in due:
        stmt = sa.update(svc).where(svc.id == service_id)
        stmt = stmt.where(svc.echo_at.is_(None) if seen is None else svc.echo_at == seen)
        if session.execute(stmt.values(echo_at=now).execution_options(
                synchronize_session=False)).rowcount == 1:
            claimed.append(host)
    return claimed


def record_echo(session: orm.Session, host: str, error: str | None) -> bool:
    """Store an echo's outcome; True if the service's health changed. updated_at
    moves only then, so os-services keeps showing the last heartbeat otherwise, and
    the scheduler (which re-reads changed rows) sees the change."""
    svc = models.Service
    row = session.scalars(sa.select(svc).where(
        svc.host == host, svc.binary == service_db.COMPUTE_BINARY)).first()
    if row is None:
        return False
    error = error[:255] if error else None
    changed = (row.echo_error is None) != (error is None)
    values: dict = {'echo_error': error}
    if changed:
        values['updated_at'] = utcnow()
    session.execute(sa.update(svc).where(svc.id == row.id).values(**values)
                    .execution_options(synchronize_session=False))
    return changed


@dataclasses.dataclass
class ServiceHealth:
    """One line of `kumo-manage service health`."""
    binary: str
    host: str
    heartbeat_age: float | None      # seconds since the last heartbeat
    disabled: bool
    down_reason: str | None          # from the database (heartbeat, forced down, echo)
    echo_ms: float | None = None     # this check's own echo, when sent
    echo_error: str | None = None

    @property
    def healthy(self) -> bool:
        return self.down_reason is None and self.echo_error is None

    @property
    def state(self) -> str:
        return 'up' if self.healthy else 'down'


def service_health(session: orm.Session) -> list[ServiceHealth]:
    """Every service with its heartbeat and liveness, from the database alone."""
    now = utcnow()
    result = []
    for service in session.scalars(sa.select(models.Service).order_by(models.Service.id)):
        last = service.last_seen_up or service.created_at
        result.append(ServiceHealth(
            binary=service.binary, host=service.host,
            heartbeat_age=(now - last).total_seconds() if last else None,
            disabled=bool(service.disabled),
            down_reason=service_db.down_reason(service, CONF.service_down_time, now)))
    return result


def echo_all(ctxt, services: list[ServiceHealth], timeout: float) -> None:
    """Send every RPC service an echo now (concurrently) and note the outcome."""
    targets = [s for s in services if s.binary in TOPICS]
    clients = {TOPICS[b](): health_rpcapi.HealthAPI(TOPICS[b]())
               for b in {s.binary for s in targets}}

    def echo(item: ServiceHealth) -> None:
        start = time.monotonic()
        try:
            clients[TOPICS[item.binary]()].ping(ctxt, item.host, timeout)
            item.echo_ms = (time.monotonic() - start) * 1000
        except messaging.MessagingTimeout:
            item.echo_error = f'no answer within {timeout:g}s'
        except Exception as exc:  # a broken transport is an answer too
            item.echo_error = f'{type(exc).__name__}: {exc}'[:200]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(echo, targets))
