"""Security groups and floating IPs, as far as clients need them: every project has
its "default" group (listed, shown; no rules can be changed), and there are no
floating IPs. `openstack server create` and Nova-style clients look both up."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from kumo_api.network_service import access, errors, listing, views

bp = Blueprint('security_groups', __name__)

_GROUP_FILTERS = ('id', 'name', 'project_id', 'tenant_id')


def _groups() -> list[dict]:
    project = access.project_id()
    return [views.default_group_view(project)] if project else []


@bp.get('/v2.0/security-groups')
def list_security_groups():
    groups = _groups()
    for name in request.args:
        if name in ('fields', 'limit', 'marker', 'sort_key', 'sort_dir'):
            continue
        if name not in _GROUP_FILTERS:
            raise errors.BadRequest(f'[{name}] is invalid attribute for filtering')
        wanted = request.args.getlist(name)
        key = 'project_id' if name == 'tenant_id' else name
        groups = [g for g in groups if g[key] in wanted]
    fields = request.args.getlist('fields')
    return jsonify({'security_groups': [listing.select_fields(g, fields) for g in groups]})


@bp.get('/v2.0/security-groups/<group_id>')
def show_security_group(group_id: str):
    for group in _groups():
        if group['id'] == group_id:
            return jsonify({'security_group': group})
    raise errors.NotFound(f'Security group {group_id} does not exist',
                          kind='SecurityGroupNotFound')


@bp.get('/v2.0/security-group-rules')
def list_security_group_rules():
    rules = [r for g in _groups() for r in g['security_group_rules']]
    wanted = request.args.getlist('security_group_id')
    if wanted:
        rules = [r for r in rules if r['security_group_id'] in wanted]
    return jsonify({'security_group_rules': rules})


@bp.get('/v2.0/floatingips')
def list_floating_ips():
    return jsonify({'floatingips': []})
