"""Service views: os-services at each microversion, and the binary names on the wire.

Kumo's services are the kumo-* binaries; the API shows them under Nova's names
(nova-compute, nova-scheduler, nova-conductor) because clients and tools filter on
those names (`openstack compute service set HOST nova-compute`, Tempest's service
tests) and the API must not tell them apart from Nova. Both spellings are accepted
on input.
"""
from __future__ import annotations

from oslo_config import cfg

from kumo_api.microversion import APIVersion
from kumo_api.views import times
from kumo_common.db import models
from kumo_common.db import services as service_db

CONF = cfg.CONF

_NOVA_NAMES = {
    service_db.COMPUTE_BINARY: 'nova-compute',
    'kumo-scheduler': 'nova-scheduler',
    'kumo-conductor': 'nova-conductor',
}
_KUMO_NAMES = {nova: kumo for kumo, nova in _NOVA_NAMES.items()}


def wire_binary(binary: str) -> str:
    """The name a client sees for a stored binary."""
    return _NOVA_NAMES.get(binary, binary)


def stored_binary(name: str) -> str:
    """The stored binary a client's name (Nova's or Kumo's) refers to."""
    return _KUMO_NAMES.get(name, name)


def zone_of(service: models.Service, host_zones: dict[str, str]) -> str:
    """Compute services are in their host's zone, the others in the internal one."""
    if service.binary == service_db.COMPUTE_BINARY:
        return host_zones.get(service.host, CONF.default_availability_zone)
    return CONF.internal_service_availability_zone


def service_view(service: models.Service, want: APIVersion, zone: str, up: bool) -> dict:
    view = {
        'id': service.uuid if want.at_least(2, 53) else service.id,
        'binary': wire_binary(service.binary),
        'disabled_reason': service.disabled_reason,
        'host': service.host,
        'state': 'up' if up else 'down',
        'status': 'disabled' if service.disabled else 'enabled',
        'updated_at': times.iso_naive(service.updated_at),
    }
    if want.at_least(2, 11):
        view['forced_down'] = bool(service.forced_down)
    view['zone'] = zone
    return view
