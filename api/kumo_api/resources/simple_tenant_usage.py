"""os-simple-tenant-usage: what projects' servers used over a period (hours, and
vCPU-, memory- and disk-hours by flavor). GET /os-simple-tenant-usage (every
project, admins by default; `detailed=1` lists each server) and
GET /os-simple-tenant-usage/{tenant_id} (one project, always detailed).

The period is `start`..`end` (Nova's three time formats, no zone: UTC; each
defaults to now), its end clamped to now. From 2.40 the servers are paged with
limit/marker (a "next" link in tenant_usages_links / tenant_usage_links when a page
comes back full); before it a report holds at most [api] max_limit servers, as Nova's.
"""
from __future__ import annotations

import datetime
import urllib.parse

from flask import Blueprint, g, jsonify, request
from oslo_config import cfg
from oslo_utils import timeutils

from kumo_api import errors, paging, policy, validation
from kumo_api.schemas import simple_tenant_usage as schemas
from kumo_api.views import tenant_usages as views
from kumo_common.db import instance_usage as usage_db
from kumo_common.db import session

CONF = cfg.CONF

bp = Blueprint('simple_tenant_usage', __name__)

_RULE = 'os_compute_api:os-simple-tenant-usage:%s'
_COLLECTION = 'os-simple-tenant-usage'
# Nova's accepted formats, tried in this order: no zone, no other ISO 8601 form.
_TIME_FORMATS = ('%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M:%S.%f')


def _parse_time(value: str | None) -> datetime.datetime:
    if not value:
        return timeutils.utcnow()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise errors.BadRequest('Invalid datetime string: Datetime is in invalid format')


def _period() -> tuple[datetime.datetime, datetime.datetime, bool]:
    """(start, stop, detailed) from the query string as Nova reads it: the first
    non-blank value of each parameter; the stop clamped to now."""
    query = urllib.parse.parse_qs(request.environ.get('QUERY_STRING', ''))
    start = _parse_time(query.get('start', [None])[0])
    stop = _parse_time(query.get('end', [None])[0])
    if not start < stop:
        raise errors.BadRequest('Invalid start time. The start time cannot occur after '
                                'the end time.')
    detailed = query.get('detailed', ['0'])[0] == '1'
    return start, min(stop, timeutils.utcnow()), detailed


def _page() -> tuple[int, str | None]:
    """(limit, marker): from the query from 2.40, else every server up to max_limit."""
    if not g.want.at_least(2, 40):
        return CONF.api.max_limit, None
    markers = request.args.getlist('marker')
    return paging.page_limit(request.args), markers[-1] if markers else None


def _report(project_id: str | None, always_detailed: bool
            ) -> tuple[list[dict], list[dict], int]:
    """(project summaries, server usages, the page's limit) of the request's period."""
    start, stop, asked_detail = _period()
    limit, marker = _page()
    with session.reader() as s:
        try:
            rows = usage_db.active_in_period(s, start, stop, project_id=project_id,
                                             limit=limit, marker=marker)
        except usage_db.MarkerNotFound as exc:
            raise errors.BadRequest(exc.msg) from exc
    summaries, items = views.tenant_usages(rows, start, stop,
                                           always_detailed or asked_detail,
                                           timeutils.utcnow())
    return summaries, items, limit


def _links(items: list[dict], limit: int, path: str, name: str) -> dict:
    if not g.want.at_least(2, 40):
        return {}
    return paging.next_links(request.args, items, limit, path,
                             lambda item: item['instance_id'], name)


@bp.get('/os-simple-tenant-usage')
def list_tenant_usages():
    validation.validate_query(schemas.index_query(g.want))
    policy.authorize(g.context, _RULE % 'list')
    summaries, items, limit = _report(None, always_detailed=False)
    body = {'tenant_usages': summaries}
    body.update(_links(items, limit, _COLLECTION, 'tenant_usages_links'))
    return jsonify(body)


@bp.get('/os-simple-tenant-usage/<tenant_id>')
def show_tenant_usage(tenant_id: str):
    validation.validate_query(schemas.show_query(g.want))
    policy.authorize(g.context, _RULE % 'show', {'project_id': tenant_id})
    summaries, items, limit = _report(tenant_id, always_detailed=True)
    body = {'tenant_usage': summaries[0] if summaries else {}}
    body.update(_links(items, limit, f'{_COLLECTION}/{tenant_id}', 'tenant_usage_links'))
    return jsonify(body)
