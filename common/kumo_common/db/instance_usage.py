"""The instances that ran during a period, as os-simple-tenant-usage bills them.

Deleted rows count too (they ran for part of the period): an instance is read when
it launched before the period's end and was not terminated before its start. Rows
come in Nova's order, project then uuid, which its limit/marker paging walks.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models


class MarkerNotFound(exceptions.Invalid):
    message = 'Marker %(marker)s could not be found.'


@dataclass(frozen=True)
class InstanceUsage:
    """What a usage report needs of an instance: its times and the flavor it has."""
    uuid: str
    name: str | None
    project_id: str
    vm_state: str | None
    launched_at: datetime.datetime
    terminated_at: datetime.datetime | None
    flavor_name: str
    vcpus: int
    memory_mb: int
    local_gb: int


_COLUMNS = (models.Instance.uuid, models.Instance.display_name, models.Instance.project_id,
            models.Instance.vm_state, models.Instance.launched_at,
            models.Instance.terminated_at, models.Instance.flavor, models.Instance.vcpus,
            models.Instance.memory_mb, models.Instance.root_gb,
            models.Instance.ephemeral_gb)


def active_in_period(session: orm.Session, begin: datetime.datetime,
                     end: datetime.datetime, project_id: str | None = None,
                     limit: int | None = None, marker: str | None = None
                     ) -> list[InstanceUsage]:
    """Instances (of `project_id`, or all) launched before `end` and not terminated
    by `begin` (naive UTC), after the instance `marker` and at most `limit` of them.

    The window is compared at whole seconds: Nova sends it to its database layer as
    ISO text without the fraction, so an instance launched in the last second before
    `end` is not in its report either. MarkerNotFound for an unknown marker (any
    instance, deleted or of another project, is a valid one, as in Nova)."""
    inst = models.Instance
    begin, end = begin.replace(microsecond=0), end.replace(microsecond=0)
    query = (sa.select(*_COLUMNS)
             .where(sa.or_(inst.terminated_at.is_(None), inst.terminated_at > begin),
                    inst.launched_at < end)
             .order_by(inst.project_id, inst.uuid))
    if project_id:
        query = query.where(inst.project_id == project_id)
    if marker is not None:
        query = query.where(_after(session, marker))
    if limit is not None:
        query = query.limit(limit)
    return [_usage(row) for row in session.execute(query)]


def _after(session: orm.Session, marker: str) -> sa.ColumnElement[bool]:
    inst = models.Instance
    found = session.execute(sa.select(inst.project_id, inst.uuid)
                            .where(inst.uuid == marker)).first()
    if found is None:
        raise MarkerNotFound(marker=marker)
    project_id, uuid = found
    return sa.or_(inst.project_id > project_id,
                  sa.and_(inst.project_id == project_id, inst.uuid > uuid))


def _usage(row: sa.Row) -> InstanceUsage:
    # The flavor snapshot taken at boot (and replaced by a resize); the sizing
    # columns stand in for a row without one.
    flavor = row.flavor or {}
    return InstanceUsage(
        uuid=row.uuid, name=row.display_name, project_id=row.project_id,
        vm_state=row.vm_state, launched_at=row.launched_at,
        terminated_at=row.terminated_at, flavor_name=flavor.get('name', ''),
        vcpus=flavor.get('vcpus', row.vcpus),
        memory_mb=flavor.get('memory_mb', row.memory_mb),
        local_gb=flavor.get('root_gb', row.root_gb) + flavor.get('ephemeral_gb',
                                                                 row.ephemeral_gb))
