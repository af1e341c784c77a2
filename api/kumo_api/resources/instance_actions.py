"""The os-instance-actions resource: what was done to a server, and its events."""
from __future__ import annotations

import datetime

from flask import Blueprint, g, jsonify, request
from oslo_utils import timeutils

from kumo_api import errors, paging, policy, validation
from kumo_api.schemas import instance_actions as schemas
from kumo_api.views import instance_actions as views
from kumo_common import exceptions
from kumo_common.db import instance_actions as action_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session

bp = Blueprint('instance_actions', __name__)

_RULE = 'os_compute_api:os-instance-actions:%s'


def _instance(s, server_id: str) -> models.Instance:
    """The server (a deleted one too from 2.21); 404 for another project's."""
    ctxt = g.context
    missing = errors.NotFound(f'Instance {server_id} could not be found.')
    try:
        instance = instance_db.get_instance(s, server_id)
    except exceptions.InstanceNotFound as exc:
        raise missing from exc
    if instance.project_id != ctxt.project_id and not ctxt.is_admin_role:
        raise missing
    if instance.deleted and not g.want.at_least(2, 21):
        raise missing
    return instance


def _authorize(action: str, instance: models.Instance, fatal: bool = True) -> bool:
    return policy.authorize(g.context, _RULE % action, {'project_id': instance.project_id},
                            fatal=fatal)


def _time_param(params: dict, name: str) -> datetime.datetime | None:
    values = params.get(name)
    if not values:
        return None
    value = values[-1]
    try:
        return timeutils.normalize_time(timeutils.parse_isotime(value))
    except ValueError as exc:
        raise errors.BadRequest(f'Invalid input for query parameters {name}. Value: '
                                f"{value}. '{value}' is not a 'date-time'") from exc


@bp.get('/servers/<server_id>/os-instance-actions')
def list_actions(server_id: str):
    want = g.want
    paged = want.at_least(2, 58)
    params = {}
    if paged:
        params = validation.validate_query(
            schemas.LIST_266 if want.at_least(2, 66) else schemas.LIST_258)
    since = _time_param(params, 'changes-since')
    before = _time_param(params, 'changes-before')
    if since and before and before < since:
        raise errors.BadRequest('The value of changes-since must be less than or equal '
                                'to changes-before.')
    limit = paging.page_limit(request.args) if paged else None
    marker = (params.get('marker') or [None])[-1]
    with session.reader() as s:
        instance = _instance(s, server_id)
        _authorize('list', instance)
        try:
            actions = action_db.list_actions(s, instance.uuid, limit=limit, marker=marker,
                                             changes_since=since, changes_before=before)
        except action_db.MarkerNotFound as exc:
            # Nova's words to the letter: its lookup has replaced the marker with the
            # action it did not find (None) by the time it formats the message.
            raise errors.BadRequest('Marker None could not be found.') from exc
        body = {'instanceActions': [views.action_view(a, want) for a in actions]}
    if paged:
        body.update(paging.next_links(request.args, actions, limit,
                                      f'servers/{server_id}/os-instance-actions',
                                      lambda a: a.request_id, 'links'))
    return jsonify(body)


@bp.get('/servers/<server_id>/os-instance-actions/<request_id>')
def show_action(server_id: str, request_id: str):
    want = g.want
    with session.reader() as s:
        instance = _instance(s, server_id)
        _authorize('show', instance)
        action = action_db.get_action(s, instance.uuid, request_id)
        if action is None:
            raise errors.NotFound(f'Action {request_id} not found')
        view = views.action_view(action, want)
        # Admins see every event field; others see the events from 2.51, without
        # traceback and host. Everyone gets the per-project hostId from 2.62.
        audience = views.EventAudience(host_id=want.at_least(2, 62))
        show_events = False
        if _authorize('events', instance, fatal=False):
            show_events = audience.traceback = True
            audience.host = want.at_least(2, 62)
        elif want.at_least(2, 51):
            show_events = True
        if show_events:
            audience.details = want.at_least(2, 84) and _authorize(
                'events:details', instance, fatal=False)
            project_id = action.project_id or instance.project_id
            view['events'] = [views.event_view(e, project_id, audience)
                              for e in action_db.events(s, action.id)]
    return jsonify({'instanceAction': view})
