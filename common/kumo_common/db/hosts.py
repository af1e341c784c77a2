"""Hosts as the deprecated os-hosts API names them: a host exists for it when a
compute service runs there (Nova's host mappings are made for compute hosts only),
and its figures are its first compute node's."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models
from kumo_common.db import services as service_db


class HostNotMapped(exceptions.NotFound):
    # Nova's words when no host mapping (no compute service) has this name.
    message = "Host '%(name)s' is not mapped to any cell"


class ComputeHostNotFound(exceptions.NotFound):
    message = 'Compute host %(host)s could not be found.'


def compute_service(session: orm.Session, host: str) -> models.Service:
    """The compute service of `host`; HostNotMapped if there is none."""
    try:
        return service_db.get_by_host_and_binary(session, host, service_db.COMPUTE_BINARY)
    except service_db.HostBinaryNotFound as exc:
        raise HostNotMapped(name=host) from exc


def first_node(session: orm.Session, host: str) -> models.ComputeNode:
    """The host's first live compute node (Nova's old-compat lookup picks the first
    of several too); ComputeHostNotFound if it has none."""
    node = session.scalars(
        sa.select(models.ComputeNode)
        .where(models.ComputeNode.host == host, models.ComputeNode.deleted.is_(False))
        .order_by(models.ComputeNode.id)).first()
    if node is None:
        raise ComputeHostNotFound(host=host)
    return node
