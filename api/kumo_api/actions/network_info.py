"""A server's network info cache read again from the network service: what Nova's
compute manager does for injectNetworkInfo and for Neutron's network-changed and
network-vif-deleted events (the cache is what the server views' `addresses`, the
ip/ip6 filters and the config drive's network data are made from)."""
from __future__ import annotations

from kumo_common import network
from kumo_common.db import network_cache, session


def refresh(ctxt, instance_uuid: str) -> None:
    """The server's cache is now the ports the network service gives it: the local
    service's tables, read in the cache's own transaction, or an external Neutron's
    answer, asked (with the caller's token) before any database lock is taken."""
    api = network.api()
    ports = api.ports_of(ctxt, instance_uuid) if api.external else None
    with session.transaction() as s:
        if ports is None:
            network_cache.refresh_local(s, instance_uuid)
        elif ports:
            network_cache.save(s, instance_uuid, ports)
        else:
            network_cache.clear(s, instance_uuid)
