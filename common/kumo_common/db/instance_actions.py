"""Reading the actions recorded on a server and their events (newest first, as Nova).

They are written by kumo_common.db.instances start_action/record_event.
"""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models


class MarkerNotFound(exceptions.Invalid):
    message = 'Marker %(marker)s could not be found.'


def _newest_first(query):
    return query.order_by(models.InstanceAction.created_at.desc(),
                          models.InstanceAction.id.desc())


def get_action(session: orm.Session, instance_uuid: str, request_id: str
               ) -> models.InstanceAction | None:
    """The action a request started on the server (the first, should there be two)."""
    return session.scalars(
        sa.select(models.InstanceAction)
        .where(models.InstanceAction.instance_uuid == instance_uuid,
               models.InstanceAction.request_id == request_id)
        .order_by(models.InstanceAction.id)).first()


def list_actions(session: orm.Session, instance_uuid: str, limit: int | None = None,
                 marker: str | None = None,
                 changes_since: datetime.datetime | None = None,
                 changes_before: datetime.datetime | None = None
                 ) -> list[models.InstanceAction]:
    """A server's actions, newest first; after the action of request `marker`, when
    given, and updated within [changes_since, changes_before] (both inclusive)."""
    action = models.InstanceAction
    query = _newest_first(sa.select(action).where(action.instance_uuid == instance_uuid))
    if marker is not None:
        found = get_action(session, instance_uuid, marker)
        if found is None:
            raise MarkerNotFound(marker=marker)
        # Strictly after the marker in (created_at desc, id desc) order.
        query = query.where(sa.or_(
            action.created_at < found.created_at,
            sa.and_(action.created_at == found.created_at, action.id < found.id)))
    if changes_since is not None:
        query = query.where(action.updated_at >= changes_since)
    if changes_before is not None:
        query = query.where(action.updated_at <= changes_before)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def events(session: orm.Session, action_id: int) -> list[models.InstanceActionEvent]:
    event = models.InstanceActionEvent
    return list(session.scalars(
        sa.select(event).where(event.action_id == action_id)
        .order_by(event.created_at.desc(), event.id.desc())))
