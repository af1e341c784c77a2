"""The os-server-groups resource: affinity policies servers join at create time.

A group belongs to a project. Its members are the live servers created with the
`group` scheduler hint (kumo_api.compute_api adds them, quota-checked, in the
transaction that creates the servers). Each project may hold [quota] server_groups
groups, admitted atomically by kumo_common.quota. As in Nova, show and delete of
another project's group are refused by policy (403), not hidden.
"""
from __future__ import annotations

import uuid as uuidlib

from flask import Blueprint, g, jsonify, request

from kumo_api import errors, paging, policy, validation
from kumo_api.schemas import server_groups as schemas
from kumo_api.views import server_groups as views
from kumo_common import exceptions, quota
from kumo_common.db import server_groups as group_db
from kumo_common.db import session

bp = Blueprint('server_groups', __name__)

_RULE = 'os_compute_api:os-server-groups:%s'


def _get(s, group_id: str):
    try:
        return group_db.get_by_uuid(s, group_id)
    except exceptions.InstanceGroupNotFound as exc:
        raise errors.NotFound(str(exc)) from exc


def _offset(args) -> int:
    raw = args.get('offset')
    # Past any row there can be: a larger OFFSET overflows the database's integer.
    return min(int(raw), 2 ** 31 - 1) if raw else 0


@bp.get('/os-server-groups')
def list_server_groups():
    want = g.want
    ctxt = g.context
    validation.validate_query(schemas.index_query(want))
    policy.authorize(ctxt, _RULE % 'index', {'project_id': ctxt.project_id})
    project_id: str | None = ctxt.project_id
    # As Nova: all_projects from a non-admin quietly lists their own project's groups.
    if 'all_projects' in request.args and ctxt.is_admin_role:
        policy.authorize(ctxt, _RULE % 'index:all_projects', {'project_id': ctxt.project_id})
        project_id = None
    limit = paging.page_limit(request.args)
    with session.reader() as s:
        groups = group_db.page(s, project_id, limit, _offset(request.args))
        members = group_db.live_members(s, [group.id for group in groups])
        items = [views.server_group_view(group, members.get(group.id, []), want)
                 for group in groups]
    return jsonify({'server_groups': items})


@bp.get('/os-server-groups/<group_id>')
def show_server_group(group_id: str):
    ctxt = g.context
    with session.reader() as s:
        group = _get(s, group_id)
        policy.authorize(ctxt, _RULE % 'show', {'project_id': group.project_id})
        members = group_db.live_members(s, [group.id]).get(group.id, [])
        view = views.server_group_view(group, members, g.want)
    return jsonify({'server_group': view})


@bp.post('/os-server-groups')
def create_server_group():
    want = g.want
    ctxt = g.context
    body = validation.json_body()
    validation.validate_versioned(body, schemas.CREATE, want)
    policy.authorize(ctxt, _RULE % 'create', {'project_id': ctxt.project_id})
    params = body['server_group']
    if want.at_least(2, 64):
        policy_name = params['policy']
        rules = params.get('rules') or {}
        if 'max_server_per_host' in rules:
            rules = {'max_server_per_host': int(rules['max_server_per_host'])}
    else:
        policy_name, rules = params['policies'][0], {}
    quota.ensure_server_group_usage(ctxt.project_id)
    with session.transaction() as s:
        # Quota first, then the request's sense, as Nova checks them.
        quota.admit_server_group(s, ctxt.project_id)
        if rules and policy_name != 'anti-affinity':
            raise errors.BadRequest('Only anti-affinity policy supports rules.')
        group = group_db.create(s, str(uuidlib.uuid4()), params['name'], ctxt.project_id,
                                ctxt.user_id, policy_name, rules)
        view = views.server_group_view(group, [], want)
    return jsonify({'server_group': view})


@bp.delete('/os-server-groups/<group_id>')
def delete_server_group(group_id: str):
    ctxt = g.context
    with session.transaction() as s:
        group = _get(s, group_id)
        policy.authorize(ctxt, _RULE % 'delete', {'project_id': group.project_id})
        if not group_db.lock_existing(s, group.id):
            raise errors.NotFound(f'Instance group {group_id} could not be found.')
        group_db.delete(s, group)
        quota.release_server_group(s, group)
    return '', 204
