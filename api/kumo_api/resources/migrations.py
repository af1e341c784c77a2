"""GET /os-migrations (every server's moves) and a server's live migrations in
progress: GET /servers/{id}/migrations[/{id}] (2.23), force-complete one (POST
.../action, 2.22) or abort it (DELETE, 2.24), admins only by default, as Nova's.

/os-migrations by microversion, as Nova's: migration_type from 2.23, and then `links`
(to /servers/{id}/migrations/{id}) on the live migrations in progress; from 2.59
uuid, limit/marker paging (marker: a migration's uuid; a "next" link in
migrations_links when a page comes back full), changes-since, and unknown query
parameters are a 400; changes-before from 2.66; user_id and project_id (fields and
filters) from 2.80. Newest first (created_at, then id). Hidden migrations are never
shown (Nova drops them from the answer whatever the `hidden` filter says).

/servers/{id}/migrations lists the server's live migrations in progress (Nova's
queued, preparing, running, post-migrating), with how far the copy has got (memory
and disk bytes, as the source's hypervisor last counted them while it ran; null when
unknown). Force-complete and abort check what
Nova's compute API does, in its order and words; then the source agent is told by a
cast, which ends the copy (kumo_compute: the live_migration step reports how it
ended). From 2.65 a migration not yet running can be aborted too: the API marks it
cancelled, if it still is queued or preparing; the conductor, when the destination's
preparation reports, finds it cancelled and rolls back (kumo_conductor). If it began
running meanwhile, it is aborted as a running one.
"""
from __future__ import annotations

import datetime
import re

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, request
from oslo_log import log as logging
from oslo_utils import timeutils

from kumo_api import errors, paging, policy, rpc_clients, validation
from kumo_api.actions import lifecycle
from kumo_api.resources.servers import get_instance
from kumo_api.views import links, times
from kumo_common import states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_common.db import server_migrations as migration_db

LOG = logging.getLogger(__name__)

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


def _dest_host(m: models.Migration, dest_ips: dict[str, str]) -> str | None:
    # Nova's dest_host is the destination's IP address (its my_ip); Kumo's record
    # keeps the destination's host name there, which the conductor routes by.
    return dest_ips.get(m.dest_node_uuid, m.dest_host)


def _live_in_progress(m: models.Migration) -> bool:
    return (m.migration_type == migration_db.LIVE_MIGRATION
            and m.status in migration_db.LIVE_IN_PROGRESS)


def _view(m: models.Migration, want, dest_ips: dict[str, str],
          at: links.Prefixes | None) -> dict:
    view = {'created_at': times.iso_naive(m.created_at), 'dest_compute': m.dest_compute,
            'dest_host': _dest_host(m, dest_ips), 'dest_node': m.dest_node, 'id': m.id,
            'instance_uuid': m.instance_uuid,
            'new_instance_type_id': m.new_instance_type_id,
            'old_instance_type_id': m.old_instance_type_id,
            'source_compute': m.source_compute, 'source_node': m.source_node,
            'status': m.status, 'updated_at': times.iso_naive(m.updated_at)}
    if want.at_least(2, 23):
        view['migration_type'] = m.migration_type
        # Only a live migration in progress can be shown (and acted on) there.
        if _live_in_progress(m):
            view['links'] = links.resource_links(f'servers/{m.instance_uuid}/migrations',
                                                 str(m.id), at)
    return _with_owner_fields(view, m, want)


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
        at = links.prefixes() if want.at_least(2, 23) else None
        body = {'migrations': [_view(row, want, dest_ips, at) for row in rows]}
    if paged:
        body.update(paging.next_links(request.args, rows, limit, 'os-migrations',
                                      lambda row: row.uuid, 'migrations_links'))
    return jsonify(body)


# --- /servers/{server_id}/migrations: a server's live migrations -------------------------

# Nova's migration ids are an INTEGER column: a longer number names none (and would
# not even fit the column in PostgreSQL's comparison).
_MIGRATION_ID = re.compile(r'0*[0-9]{1,10}')
_MAX_ID = 2 ** 31 - 1
FORCE_COMPLETE = {'type': 'object', 'properties': {'force_complete': {'type': 'null'}},
                  'required': ['force_complete'], 'additionalProperties': False}
# The copy's counters, as the source agent last reported them while it ran (the
# record's column: the view's name); null when unknown, as Nova's.
_PROGRESS = {f'{what}_{count}': f'{what}_{count}_bytes' for what in ('memory', 'disk')
             for count in ('total', 'processed', 'remaining')}


def _served_from(major: int, minor: int) -> None:
    if not g.want.at_least(major, minor):
        raise errors.NotFound('The resource could not be found.')


def _authorized_server(server_id: str, action: str) -> models.Instance:
    """The caller's server (a 404 first, as Nova looks it up before its rule), then
    the rule on the server's project."""
    with session.reader() as s:
        instance = get_instance(server_id, s)
    policy.authorize(g.context, f'os_compute_api:servers:migrations:{action}',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})
    return instance


def _migration_of(s, server_id: str, migration_id: str) -> models.Migration | None:
    """The server's migration of that id, of any type and status (Nova's
    get_by_id_and_instance)."""
    if not _MIGRATION_ID.fullmatch(migration_id) or int(migration_id) > _MAX_ID:
        return None
    m = models.Migration
    return s.scalars(sa.select(m).where(m.id == int(migration_id),
                                        m.instance_uuid == server_id)).first()


def _with_owner_fields(view: dict, m: models.Migration, want) -> dict:
    """What both views gained: the migration's uuid (2.59), its user and project
    (2.80)."""
    if want.at_least(2, 59):
        view['uuid'] = m.uuid
    if want.at_least(2, 80):
        view['user_id'] = m.user_id
        view['project_id'] = m.project_id
    return view


def _server_migration_view(m: models.Migration, want, dest_ips: dict[str, str]) -> dict:
    view = {'created_at': times.iso_naive(m.created_at), 'dest_compute': m.dest_compute,
            'dest_host': _dest_host(m, dest_ips), 'dest_node': m.dest_node, 'id': m.id,
            'server_uuid': m.instance_uuid, 'source_compute': m.source_compute,
            'source_node': m.source_node, 'status': m.status,
            'updated_at': times.iso_naive(m.updated_at),
            **{shown: getattr(m, column) for column, shown in _PROGRESS.items()}}
    return _with_owner_fields(view, m, want)


@bp.get('/servers/<server_id>/migrations')
def list_server_migrations(server_id: str):
    _served_from(2, 23)
    _authorized_server(server_id, 'index')
    m = models.Migration
    with session.reader() as s:
        rows = list(s.scalars(sa.select(m).where(
            m.instance_uuid == server_id, m.migration_type == migration_db.LIVE_MIGRATION,
            m.status.in_(migration_db.LIVE_IN_PROGRESS)).order_by(m.id)))
        dest_ips = _dest_ips(s, rows)
    return jsonify({'migrations': [_server_migration_view(row, g.want, dest_ips)
                                   for row in rows]})


@bp.get('/servers/<server_id>/migrations/<migration_id>')
def show_server_migration(server_id: str, migration_id: str):
    _served_from(2, 23)
    _authorized_server(server_id, 'show')
    with session.reader() as s:
        migration = _migration_of(s, server_id, migration_id)
        if migration is None:
            raise errors.NotFound(f'In-progress live migration {migration_id} is not '
                                  f'found for server {server_id}.')
        if migration.migration_type != migration_db.LIVE_MIGRATION:
            raise errors.NotFound(f'Migration {migration_id} for server {server_id} is '
                                  'not live-migration.')
        if migration.status not in migration_db.LIVE_IN_PROGRESS:
            raise errors.NotFound(f'Live migration {migration_id} for server {server_id} '
                                  'is not in progress.')
        view = _server_migration_view(migration, g.want, _dest_ips(s, [migration]))
    return jsonify({'migration': view})


def _check_migrating(instance: models.Instance, action: str,
                     vm_states: tuple[str, ...] | None = None) -> None:
    """Nova's state rule of both calls: migrating (and, for force-complete, ACTIVE:
    a paused guest's copy cannot be hurried by pausing it)."""
    if vm_states is not None and instance.vm_state not in vm_states:
        raise lifecycle.invalid_state(action, instance, 'vm_state', instance.vm_state)
    if instance.task_state != states.task.MIGRATING:
        raise lifecycle.invalid_state(action, instance, 'task_state', instance.task_state)
    if not instance.launched_at:
        raise lifecycle.invalid_state(action, instance, 'launched_at', instance.launched_at)


def _invalid_migration_state(migration_id: str, server_id: str, status: str,
                             method: str) -> errors.APIError:
    return errors.BadRequest(f'Migration {migration_id} state of instance {server_id} is '
                             f'{status}. Cannot {method} while the migration is in this '
                             'state.')


@bp.post('/servers/<server_id>/migrations/<migration_id>/action')
def server_migration_action(server_id: str, migration_id: str):
    """force_complete (2.22), the one action: the source pauses the guest, so that
    the copy of its memory catches up and the migration ends."""
    body = validation.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.BadRequest('Malformed request body')
    name = next(iter(body))
    if name != 'force_complete':
        raise errors.BadRequest(f'There is no such action: {name}')
    _served_from(2, 22)
    validation.validate(body, FORCE_COMPLETE)
    ctxt = g.context
    instance = _authorized_server(server_id, 'force_complete')
    lifecycle.check_not_locked(ctxt, instance)
    _check_migrating(instance, 'force_complete', vm_states=(states.ACTIVE,))
    with session.transaction() as s:
        migration = _migration_of(s, instance.uuid, migration_id)
        # (A 400, not a 404, in Nova's force-complete.)
        if migration is None:
            raise errors.BadRequest(f'Migration {migration_id} not found for instance '
                                    f'{instance.uuid}')
        if migration.status != migration_db.RUNNING:
            raise _invalid_migration_state(migration_id, instance.uuid, migration.status,
                                           'force complete')
        source = migration.source_compute
        instance_db.start_action(s, instance.uuid, 'live_migration_force_complete', ctxt)
    LOG.info('Forcing live migration %s of instance %s to complete (source %s)',
             migration_id, instance.uuid, source)
    rpc_clients.compute().live_migration_force_complete(ctxt, source, instance.uuid)
    return '', 202


@bp.delete('/servers/<server_id>/migrations/<migration_id>')
def abort_server_migration(server_id: str, migration_id: str):
    _served_from(2, 24)
    ctxt = g.context
    instance = _authorized_server(server_id, 'delete')
    action = 'abort live migration'
    if instance.locked and not ctxt.is_admin_role:
        # (Nova's words for a lock here: its lock error is an invalid state.)
        raise errors.Conflict(f"Instance {instance.uuid} is in an invalid state for "
                              f"'{action}'")
    _check_migrating(instance, action)
    waiting = (migration_db.QUEUED, migration_db.PREPARING)
    abortable = (migration_db.RUNNING,) + (waiting if g.want.at_least(2, 65) else ())
    with session.reader() as s:
        migration = _migration_of(s, instance.uuid, migration_id)
        if migration is None:
            raise errors.NotFound(f'Migration {migration_id} not found for instance '
                                  f'{instance.uuid}')
        status, uuid, source = migration.status, migration.uuid, migration.source_compute
    if status not in abortable:
        raise _invalid_migration_state(migration_id, instance.uuid, status, action)
    if status in waiting:
        with session.transaction() as s:
            cancelled = migration_db.set_status(s, uuid, migration_db.CANCELLED,
                                                expected=waiting)
            if cancelled:
                instance_db.start_action(s, instance.uuid, 'live_migration_cancel', ctxt)
        if cancelled:
            LOG.info('Live migration %s of instance %s cancelled before it ran',
                     migration_id, instance.uuid)
            return '', 202
        # It moved on meanwhile (a fresh read: the update's transaction has ended).
        with session.reader() as s:
            status = migration_db.get(s, uuid).status
        if status != migration_db.RUNNING:
            raise _invalid_migration_state(migration_id, instance.uuid, status, action)
    with session.transaction() as s:
        instance_db.start_action(s, instance.uuid, 'live_migration_cancel', ctxt)
    LOG.info('Aborting live migration %s of instance %s (source %s)', migration_id,
             instance.uuid, source)
    rpc_clients.compute().live_migration_abort(ctxt, source, instance.uuid, uuid)
    return '', 202
