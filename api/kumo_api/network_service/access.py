"""Who the caller is and what policy lets them do, in Neutron's words."""
from __future__ import annotations

from flask import g

from kumo_api import policy
from kumo_api.network_service import errors


def project_id() -> str | None:
    return g.context.project_id


def is_admin() -> bool:
    return g.context.is_admin_role


def authorize(rule: str, owner: str | None) -> None:
    """403 "(rule:X) is disallowed by policy" unless the rule allows it on a resource
    of project `owner`. A resource of no project (the networks `kumo-manage` makes)
    is the admins'."""
    ctxt = g.context
    target = {'project_id': owner or '', 'tenant_id': owner or '',
              'user_id': ctxt.user_id}
    if not policy.authorize(ctxt, rule, target, fatal=False):
        raise errors.Forbidden(f'({"rule:" + rule}) is disallowed by policy',
                               kind='PolicyNotAuthorized')


def owner_of_new(values: dict) -> str | None:
    """The project a new resource belongs to: the caller's, or (admins only) the
    project_id/tenant_id of the body."""
    wanted = values.pop('project_id', None) or values.pop('tenant_id', None)
    values.pop('tenant_id', None)
    if wanted and wanted != project_id():
        if not is_admin():
            raise errors.BadRequest('Specifying \'project_id\' or \'tenant_id\' other than '
                                    'the authenticated project in request requires admin '
                                    'privileges')
        return wanted
    return project_id()
