"""Servers' ports from the conductor's side, through kumo_common.network: the local
network tables (in the caller's transaction, so a failed build or a delete frees its
ports atomically with the rest), or an external Neutron (once that transaction has
committed: no network API call is made while database locks are held).

Either way the server's network info cache (kumo_common.db.network_cache) follows:
written with the ports a build was given, cleared with their release. When the
server moves host (resize, cold migration, evacuation, their way back, shelve
offload, unshelve) its ports' binding follows it (bind), the same two ways."""
from __future__ import annotations

import sqlalchemy as sa
from oslo_context import context as oslo_context
from oslo_log import log as logging
from sqlalchemy import orm

from kumo_common import network, objects
from kumo_common.db import network_cache
from kumo_common.db import networks as network_db

LOG = logging.getLogger(__name__)


def remember(s: orm.Session, instance_uuid: str, ports: list[objects.PortSpec]) -> None:
    """The server was given `ports` (by network.api()): its network info cache says
    so, in the transaction of `s`. The local service's are read back from its tables
    (in the order server views have always shown them: oldest port first); an
    external Neutron's are kept in the order the server asked for them."""
    if network.api().external:
        network_cache.save(s, instance_uuid, ports)
    else:
        network_cache.refresh_local(s, instance_uuid)


def release(s: orm.Session, instance_uuid: str, ctxt=None) -> None:
    """Free a server's ports (Nova's preserve_on_delete: the user's own are only
    unbound) when the transaction of `s` commits; its network info cache is cleared
    in it."""
    network_cache.clear(s, instance_uuid)
    api = network.api()
    if not api.external:
        network_db.release_ports(s, instance_uuid)
        return
    # The request's context, for its token (a periodic task has none: the [neutron]
    # service user's, or none at all for a Neutron without authentication).
    ctxt = ctxt if ctxt is not None else oslo_context.get_current()

    def deallocate(_session) -> None:
        try:
            api.deallocate_for_instance(ctxt, instance_uuid)
        except Exception:  # the server is gone either way; say what was left behind
            LOG.exception('Could not free the ports of instance %s in the network '
                          'service; delete them there', instance_uuid)

    sa.event.listen(s, 'after_commit', deallocate, once=True)


def bind(s: orm.Session, instance_uuid: str, host: str | None, ctxt=None) -> None:
    """The server's ports are bound to `host` (None: to no host) once the transaction
    of `s` commits (the local service's rows: in it)."""
    api = network.api()
    if not api.external:
        network_db.bind_ports(s, instance_uuid, host)
        return
    ctxt = ctxt if ctxt is not None else oslo_context.get_current()

    def rebind(_session) -> None:
        try:
            api.bind_ports(ctxt, instance_uuid, host)
        except Exception:  # the server has moved either way; say what did not follow
            LOG.exception('Could not bind the ports of instance %s to %s in the network '
                          'service; set their binding:host_id there', instance_uuid,
                          host or 'no host')

    sa.event.listen(s, 'after_commit', rebind, once=True)
