"""The network service's WSGI app (kumo_api.service_app wires the middleware)."""
from __future__ import annotations

from flask import Flask

from kumo_api import service_app
from kumo_api.network_service import (
    errors,
    networks,
    ports,
    security_groups,
    subnets,
    versions,
)

# Version discovery answers without a token, as Neutron's.
PUBLIC_PATHS = ('/', '/healthcheck')


def create_app() -> Flask:
    return service_app.create(
        'kumo_network_service',
        (versions.bp, networks.bp, subnets.bp, ports.bp, security_groups.bp),
        PUBLIC_PATHS, errors.fault_response)
