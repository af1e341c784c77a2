"""Availability zone views: the zone list, and the detail with hosts and services."""
from __future__ import annotations

from kumo_api.views import services as service_views
from kumo_api.views import times
from kumo_common.db import models


def zone_summary(name: str, available: bool) -> dict:
    return {'zoneName': name, 'zoneState': {'available': available}, 'hosts': None}


def zone_detail(name: str, services: list[tuple[models.Service, bool]]) -> dict:
    """An available zone with {host: {binary: {available, active, updated_at}}}."""
    hosts: dict[str, dict] = {}
    for service, up in services:
        hosts.setdefault(service.host, {})[service_views.wire_binary(service.binary)] = {
            'available': up,
            'active': not service.disabled,
            'updated_at': times.iso_naive(service.updated_at),
        }
    return {'zoneName': name, 'zoneState': {'available': True}, 'hosts': hosts}
