"""GET /os-migrations: the resizes of servers (Nova's migrations list, admins only).

Fields by microversion as Nova's: migration_type from 2.23, uuid from 2.59,
user_id and project_id from 2.80. Filters: instance_uuid, status, migration_type,
source_compute, host (source or destination), hidden. Newest first.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, g, jsonify

from kumo_api import policy, validation
from kumo_api.views import times
from kumo_common.db import models, session

bp = Blueprint('migrations', __name__)

_FILTERS = ('instance_uuid', 'status', 'migration_type', 'source_compute', 'host',
            'hidden')
QUERY_SCHEMA = validation.query_schema(
    {name: {'type': 'array', 'items': {'type': 'string'}} for name in _FILTERS},
    allow_unknown=True)


def _view(m: models.Migration) -> dict:
    want = g.want
    view = {'created_at': times.iso_naive(m.created_at), 'dest_compute': m.dest_compute,
            'dest_host': m.dest_host, 'dest_node': m.dest_node, 'id': m.id,
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


@bp.get('/os-migrations')
def list_migrations():
    policy.authorize(g.context, 'os_compute_api:os-migrations:index', {})
    params = validation.validate_query(QUERY_SCHEMA)
    m = models.Migration
    query = sa.select(m).order_by(m.created_at.desc(), m.id.desc())
    for name in ('instance_uuid', 'status', 'migration_type', 'source_compute'):
        if params.get(name):
            query = query.where(getattr(m, name) == params[name][-1])
    if params.get('host'):
        host = params['host'][-1]
        query = query.where(sa.or_(m.source_compute == host, m.dest_compute == host))
    hidden = (params.get('hidden') or ['0'])[-1].lower() in ('1', 'true', 'yes')
    query = query.where(m.hidden.is_(hidden))
    with session.reader() as s:
        rows = list(s.scalars(query))
        return jsonify({'migrations': [_view(row) for row in rows]})
