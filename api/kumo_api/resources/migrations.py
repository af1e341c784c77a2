"""GET /os-migrations (every server's moves) and GET /servers/{id}/migrations[/{id}]
(a server's in-progress live migrations), admins only by default, as Nova's.

Kumo's moves are resizes; it has no live migration. So the per-server list, which Nova
fills only with live migrations in progress, is truthfully always empty, and showing
one of its items is a 404 (a resize named by id gets Nova's "is not live-migration");
for the same reason no item of /os-migrations carries the `links` that Nova gives an
in-progress live migration from 2.23.

/os-migrations by microversion, as Nova's: migration_type from 2.23; from 2.59 uuid,
limit/marker paging (marker: a migration's uuid; a "next" link in migrations_links
when a page comes back full), changes-since, and unknown query parameters are a 400;
changes-before from 2.66; user_id and project_id (fields and filters) from 2.80.
Newest first (created_at, then id). Hidden migrations are never shown (Nova drops them
from the answer whatever the `hidden` filter says).
"""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, request
from oslo_utils import timeutils

from kumo_api import errors, paging, policy, validation
from kumo_api.resources.servers import get_instance
from kumo_api.views import times
from kumo_common.db import models, session

bp = Blueprint('migrations', __name__)

_strings = {'type': 'array', 'items': {'type': 'string'}}


def _single(item: dict) -> dict:
    return {**validation.single_param, 'items': item}


_FILTERS = ('hidden', 'host', 'instance_uuid', 'source_compute', 'status',
            'migration_type')
_LIST_21 = validation.query_schema({name: _strings for name in _FILTERS},
                                   allow_unknown=True)
_LIST_259 = validation.query_schema(
    {**_LIST_21['properties'],
     'limit': _single({'type': 'string', 'pattern': '^[0-9]*$', 'minLength': 1}),
     'marker': _single({'type': 'string'}),
     'changes-since': _single({'type': 'string'})},
    allow_unknown=False)
_LIST_266 = validation.query_schema(
    {**_LIST_259['properties'], 'changes-before': _single({'type': 'string'})},
    allow_unknown=False)
_LIST_280 = validation.query_schema(
    {**_LIST_266['properties'], 'user_id': _single({'type': 'string'}),
     'project_id': _single({'type': 'string'})},
    allow_unknown=False)


def list_query_schema(want) -> dict:
    """The query schema of GET /os-migrations at `want`."""
    if want.at_least(2, 80):
        return _LIST_280
    if want.at_least(2, 66):
        return _LIST_266
    if want.at_least(2, 59):
        return _LIST_259
    return _LIST_21


def _dest_ips(s, rows: list[models.Migration]) -> dict[str, str]:
    """{node uuid: host IP} of the destinations of `rows`."""
    uuids = {row.dest_node_uuid for row in rows if row.dest_node_uuid}
    if not uuids:
        return {}
    node = models.ComputeNode
    return {uuid: ip for uuid, ip in s.execute(
        sa.select(node.uuid, node.host_ip).where(node.uuid.in_(uuids))) if ip}


def _view(m: models.Migration, want, dest_ips: dict[str, str]) -> dict:
    # Nova's dest_host is the destination's IP address (its my_ip); Kumo's record
    # keeps the destination's host name there, which the conductor routes by.
    dest_host = dest_ips.get(m.dest_node_uuid, m.dest_host)
    view = {'created_at': times.iso_naive(m.created_at), 'dest_compute': m.dest_compute,
            'dest_host': dest_host, 'dest_node': m.dest_node, 'id': m.id,
            'instance_uuid': m.instance_uuid,
            'new_instance_type_id': m.new_instance_type_id,
            'old_instance_type_id': m.old_instance_type_id,
            'source_compute': m.source_compute, 'source_node': m.source_node,
            'status': m.status, 'updated_at': times.iso_naive(m.updated_at)}
    if want.at_least(2, 23):
        view['migration_type'] = m.migration_type
    if want.at_least(2, 59):
        view['uuid'] = m.uuid
    if want.at_least(2, 80):
        view['user_id'] = m.user_id
        view['project_id'] = m.project_id
    return view


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


def _last(params: dict, name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _after_marker(s, query, marker: str):
    """Rows after the migration `marker` (any migration, as Nova: the filters do not
    apply to the marker), in the newest-first order."""
    m = models.Migration
    row = s.execute(sa.select(m.created_at, m.id).where(m.uuid == marker)).first()
    if row is None:
        raise errors.BadRequest(f'Marker {marker} could not be found.')
    # created_at is always set (models.TimestampMixin), so no NULLs to place.
    created_at, ident = row
    return query.where(sa.or_(m.created_at < created_at,
                              sa.and_(m.created_at == created_at, m.id < ident)))


@bp.get('/os-migrations')
def list_migrations():
    want = g.want
    policy.authorize(g.context, 'os_compute_api:os-migrations:index', {})
    params = validation.validate_query(list_query_schema(want))
    paged = want.at_least(2, 59)
    since = _time_param(params, 'changes-since') if paged else None
    before = _time_param(params, 'changes-before') if want.at_least(2, 66) else None
    if since and before and before < since:
        raise errors.BadRequest('The value of changes-since must be less than or equal '
                                'to changes-before.')
    limit = paging.page_limit(request.args) if paged else None
    marker = _last(params, 'marker') if paged else None

    m = models.Migration
    # Nova hides hidden migrations from this API whatever the filter asks.
    query = sa.select(m).where(m.hidden.is_(False)).order_by(
        m.created_at.desc(), m.id.desc())
    for name in ('instance_uuid', 'status', 'migration_type'):
        value = _last(params, name)
        if value:
            query = query.where(getattr(m, name) == value)
    host = _last(params, 'host')
    if host:
        query = query.where(sa.or_(m.source_compute == host, m.dest_compute == host))
    elif _last(params, 'source_compute'):
        query = query.where(m.source_compute == _last(params, 'source_compute'))
    if since:
        query = query.where(m.updated_at >= since)
    if before:
        query = query.where(m.updated_at <= before)
    if want.at_least(2, 80):
        for name in ('user_id', 'project_id'):
            value = _last(params, name)
            if value:
                query = query.where(getattr(m, name) == value)
    with session.reader() as s:
        if marker:
            query = _after_marker(s, query, marker)
        if limit is not None:
            query = query.limit(limit)
        rows = list(s.scalars(query))
        dest_ips = _dest_ips(s, rows)
        body = {'migrations': [_view(row, want, dest_ips) for row in rows]}
    if paged:
        body.update(paging.next_links(request.args, rows, limit, 'os-migrations',
                                      lambda row: row.uuid, 'migrations_links'))
    return jsonify(body)


# --- /servers/{server_id}/migrations (2.23) ------------------------------------------------

def _server_migrations_rule(action: str, server_id: str) -> None:
    if not g.want.at_least(2, 23):
        raise errors.NotFound('The resource could not be found.')
    # Nova checks the rule (admins) before it looks the server up.
    policy.authorize(g.context, f'os_compute_api:servers:migrations:{action}', {})
    with session.reader() as s:
        get_instance(server_id, s)


@bp.get('/servers/<server_id>/migrations')
def list_server_migrations(server_id: str):
    _server_migrations_rule('index', server_id)
    # In-progress live migrations only: Kumo has none.
    return jsonify({'migrations': []})


@bp.get('/servers/<server_id>/migrations/<migration_id>')
def show_server_migration(server_id: str, migration_id: str):
    _server_migrations_rule('show', server_id)
    migration = None
    if migration_id.isdigit():
        with session.reader() as s:
            migration = s.scalars(sa.select(models.Migration).where(
                models.Migration.id == int(migration_id),
                models.Migration.instance_uuid == server_id)).first()
    if migration is None:
        raise errors.NotFound(f'In-progress live migration {migration_id} is not found '
                              f'for server {server_id}.')
    # A resize (the only move Kumo makes) is never shown here.
    raise errors.NotFound(f'Migration {migration_id} for server {server_id} is not '
                          'live-migration.')
