"""Instance action views: os-instance-actions (2.58 updated_at; events by audience:
2.51 without traceback for non-admins, 2.62 host and hostId, 2.84 details)."""
from __future__ import annotations

from dataclasses import dataclass

from kumo_api.microversion import APIVersion
from kumo_api.views import servers as server_views
from kumo_api.views import times
from kumo_common.db import models


@dataclass
class EventAudience:
    """Which event fields the caller may see, decided by policy once per request."""
    traceback: bool = False
    host: bool = False
    host_id: bool = False
    details: bool = False


def action_view(action: models.InstanceAction, want: APIVersion) -> dict:
    view = {
        'action': action.action,
        'instance_uuid': action.instance_uuid,
        'message': action.message,
        'project_id': action.project_id,
        'request_id': action.request_id,
        'start_time': times.iso_naive(action.start_time),
        'user_id': action.user_id,
    }
    if want.at_least(2, 58):
        view['updated_at'] = times.iso_naive(action.updated_at or action.start_time)
    return view


def event_view(event: models.InstanceActionEvent, project_id: str,
               audience: EventAudience) -> dict:
    view = {
        'event': event.event,
        'finish_time': times.iso_naive(event.finish_time),
        'result': event.result,
        'start_time': times.iso_naive(event.start_time),
    }
    if audience.traceback:
        view['traceback'] = event.traceback
    if audience.host:
        view['host'] = event.host
    if audience.host_id:
        view['hostId'] = server_views.host_id(project_id, event.host)
    if audience.details:
        view['details'] = event.details
    return view
