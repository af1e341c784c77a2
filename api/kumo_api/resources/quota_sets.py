"""The os-quota-sets resource: limits per project (or user), defaults, usage detail."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from kumo_api import errors, policy, validation
from kumo_api.schemas import quotas as schemas
from kumo_api.schemas import types
from kumo_api.views import quotas as views
from kumo_common import quota
from kumo_common.db import session

bp = Blueprint('quota_sets', __name__)

_RULE = 'os_compute_api:os-quota-sets:%s'


def _user_id() -> str | None:
    values = request.args.getlist('user_id')
    return values[0] if values and values[0] else None


def _authorize(action: str, project_id: str) -> None:
    policy.authorize(g.context, _RULE % action, {'project_id': project_id})


@bp.get('/os-quota-sets/<tenant_id>')
def show_quota_set(tenant_id: str):
    validation.validate_query(schemas.quota_query(g.want))
    _authorize('show', tenant_id)
    with session.reader() as s:
        limits = quota.get_limits(s, tenant_id, _user_id())
    return jsonify(views.quota_set(limits, g.want, tenant_id))


@bp.get('/os-quota-sets/<tenant_id>/defaults')
def show_defaults(tenant_id: str):
    _authorize('defaults', tenant_id)
    with session.reader() as s:
        limits = quota.default_limits(s)
    return jsonify(views.quota_set(limits, g.want, tenant_id))


@bp.get('/os-quota-sets/<tenant_id>/detail')
def show_detail(tenant_id: str):
    validation.validate_query(schemas.quota_query(g.want))
    _authorize('detail', tenant_id)
    user_id = _user_id()
    with session.reader() as s:
        limits = quota.get_limits(s, tenant_id, user_id)
        used = quota.usage(s, tenant_id, user_id)
    return jsonify(views.quota_detail(limits, used, g.want, tenant_id))


def _check_limit(resource: str, limit: int, bounds: tuple[int, int] | None) -> None:
    """Nova's rules for a new limit; `bounds` (minimum, maximum; -1 is infinity) are
    those of kumo_common.quota.settable_range, None when forced."""
    if limit < -1:
        raise errors.BadRequest(f'Quota limit {limit} for {resource} must be -1 or '
                                'greater.')
    if limit > schemas.MAX_INT:
        raise errors.BadRequest(f'Quota limit {limit} for {resource} must be less than or '
                                f'equal to {schemas.MAX_INT}.')
    if bounds is None:
        return
    minimum, maximum = bounds

    def inf(value: int) -> float:
        return float('inf') if value == -1 else value

    if inf(limit) < inf(minimum):
        raise errors.BadRequest(f'Quota limit {limit} for {resource} must be greater than '
                                f'or equal to already used and reserved {minimum}.')
    if inf(limit) > inf(maximum):
        raise errors.BadRequest(f'Quota limit {limit} for {resource} must be less than or '
                                f'equal to {maximum}.')


@bp.put('/os-quota-sets/<tenant_id>')
def update_quota_set(tenant_id: str):
    want = g.want
    validation.validate_query(schemas.quota_query(want))
    body = validation.json_body()
    validation.validate(body, validation.schema_for(schemas.UPDATE, want))
    _authorize('update', tenant_id)
    user_id = _user_id()
    values = dict(body['quota_set'])
    force = types.to_bool(values.pop('force', False))
    with session.transaction() as s:
        ranges = quota.settable_range(s, tenant_id, user_id)
        # Every value checked before any is stored: all or nothing.
        new = {}
        for resource, value in values.items():
            if resource not in ranges:
                continue  # "networks": accepted before 2.36, never stored (nova-network)
            limit = int(value)
            _check_limit(resource, limit, None if force else ranges[resource])
            new[resource] = limit
        quota.set_limits(s, tenant_id, new, user_id)
        limits = quota.get_limits(s, tenant_id, user_id)
    return jsonify(views.quota_set(limits, want))


@bp.delete('/os-quota-sets/<tenant_id>')
def delete_quota_set(tenant_id: str):
    validation.validate_query(schemas.quota_query(g.want))
    _authorize('delete', tenant_id)
    with session.transaction() as s:
        quota.delete_limits(s, tenant_id, _user_id())
    return '', 202
