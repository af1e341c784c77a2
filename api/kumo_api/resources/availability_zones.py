"""The os-availability-zone resource: zones as aggregates define them.

A zone is available while an enabled service is in it, and listed as unavailable
when only disabled services are (Nova's availability_zones.get_availability_zones).
Compute services are in their host's zone; the others in the internal zone, which
only the detailed list shows.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify
from oslo_config import cfg

from kumo_api import policy
from kumo_api.views import availability_zones as views
from kumo_api.views import services as service_views
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import models, session
from kumo_common.db import services as service_db

CONF = cfg.CONF
bp = Blueprint('availability_zones', __name__)


def _zones(s) -> tuple[dict[str, list[tuple[models.Service, bool]]], list[str]]:
    """({available zone: [(enabled service, up)]}, [unavailable zones]), in the order
    their services were registered."""
    services = service_db.list_services(s)
    host_zones = aggregate_db.host_zones(
        s, {sv.host for sv in services if sv.binary == service_db.COMPUTE_BINARY})
    now = models.utcnow()
    available: dict[str, list[tuple[models.Service, bool]]] = {}
    for service in services:
        if not service.disabled:
            zone = service_views.zone_of(service, host_zones)
            available.setdefault(zone, []).append(
                (service, service_db.is_up(service, CONF.service_down_time, now)))
    unavailable: list[str] = []
    for service in services:
        zone = service_views.zone_of(service, host_zones)
        if service.disabled and zone not in available and zone not in unavailable:
            unavailable.append(zone)
    return available, unavailable


@bp.get('/os-availability-zone')
def list_zones():
    policy.authorize(g.context, 'os_compute_api:os-availability-zone:list', {})
    with session.reader() as s:
        available, unavailable = _zones(s)
    internal = CONF.internal_service_availability_zone
    info = ([views.zone_summary(z, True) for z in available if z != internal]
            + [views.zone_summary(z, False) for z in unavailable if z != internal])
    return jsonify({'availabilityZoneInfo': info})


@bp.get('/os-availability-zone/detail')
def list_zones_detail():
    policy.authorize(g.context, 'os_compute_api:os-availability-zone:detail', {})
    with session.reader() as s:
        available, unavailable = _zones(s)
        info = ([views.zone_detail(z, services) for z, services in available.items()]
                + [views.zone_summary(z, False) for z in unavailable])
    return jsonify({'availabilityZoneInfo': info})
