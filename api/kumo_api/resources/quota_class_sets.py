"""The os-quota-class-sets resource: the limits of a quota class (admins).

Only the class named 'default' matters: its limits replace the [quota] options for
every project without limits of its own (kumo_common.quota). Other classes are
stored and shown, and used for nothing, as in Nova.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy, validation
from kumo_api.schemas import quotas as schemas
from kumo_api.views import quotas as views
from kumo_common import quota
from kumo_common.db import session

bp = Blueprint('quota_class_sets', __name__)

_RULE = 'os_compute_api:os-quota-class-sets:%s'
_MAX_NAME = 255  # the quota_classes.class_name column


def _authorize(action: str, class_name: str) -> None:
    policy.authorize(g.context, _RULE % action, {'quota_class': class_name})


@bp.get('/os-quota-class-sets/<class_name>')
def show_quota_class_set(class_name: str):
    _authorize('show', class_name)
    with session.reader() as s:
        limits = quota.get_class_limits(s, class_name)
    return jsonify(views.quota_class_set(limits, g.want, class_name))


@bp.put('/os-quota-class-sets/<class_name>')
def update_quota_class_set(class_name: str):
    want = g.want
    body = validation.json_body()
    validation.validate(body, validation.schema_for(schemas.CLASS_UPDATE, want))
    _authorize('update', class_name)
    if len(class_name) > _MAX_NAME:
        raise errors.BadRequest(f'quota_class_name has {len(class_name)} characters, '
                                f'more than {_MAX_NAME}.')
    values = {resource: int(value)
              for resource, value in body['quota_class_set'].items()}
    with session.transaction() as s:
        # No usage check, unlike a project's quota: a class limit only sets the
        # defaults, and existing usage above it simply blocks new resources.
        quota.set_class_limits(s, class_name, values)
        limits = quota.get_class_limits(s, class_name)
    return jsonify(views.quota_class_set(limits, want))
