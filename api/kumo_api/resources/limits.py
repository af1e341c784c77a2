"""GET /limits: the project's absolute limits with what it uses (rate limits: none)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from kumo_api import policy, validation
from kumo_api.schemas import quotas as schemas
from kumo_api.views import quotas as views
from kumo_common import quota
from kumo_common.db import session

bp = Blueprint('limits', __name__)


@bp.get('/limits')
def show_limits():
    ctxt = g.context
    validation.validate_query(schemas.limits_query(g.want))
    policy.authorize(ctxt, 'os_compute_api:limits', {})
    project_id = ctxt.project_id
    if 'tenant_id' in request.args:
        project_id = request.args.get('tenant_id')
        policy.authorize(ctxt, 'os_compute_api:limits:other_project',
                         {'project_id': project_id})
    with session.reader() as s:
        limits = quota.get_limits(s, project_id)
        used = quota.usage(s, project_id)
    return jsonify(views.limits_view(limits, used, g.want))
