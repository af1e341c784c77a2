"""Private flavor access: GET /flavors/{id}/os-flavor-access and the addTenantAccess /
removeTenantAccess actions at POST /flavors/{id}/action."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy, validation
from kumo_api.resources.flavors import get_flavor
from kumo_api.schemas import flavors as schemas
from kumo_api.views import flavors as views
from kumo_common.db import flavors as flavor_db
from kumo_common.db import session

bp = Blueprint('flavor_access', __name__)


@bp.get('/flavors/<flavor_id>/os-flavor-access')
def list_flavor_access(flavor_id: str):
    policy.authorize(g.context, 'os_compute_api:os-flavor-access')
    with session.reader() as s:
        flavor = get_flavor(s, flavor_id)
        if flavor.is_public:
            raise errors.NotFound('Access list not available for public flavors.')
        return jsonify(views.access_list(flavor, flavor_db.access_projects(s, flavor)))


def _add_tenant_access(s, flavor, tenant: str) -> None:
    # From 2.7 a public flavor cannot be given to a project (before, it was stored).
    if g.want.at_least(2, 7) and flavor.is_public:
        raise errors.Conflict('Can not add access to a public flavor.')
    flavor_db.add_access(s, flavor, tenant)


def _remove_tenant_access(s, flavor, tenant: str) -> None:
    flavor_db.remove_access(s, flavor, tenant)


# action key -> (handler, policy rule, request schemas by microversion window)
ACTIONS = {
    'addTenantAccess': (_add_tenant_access,
                        'os_compute_api:os-flavor-access:add_tenant_access',
                        schemas.ADD_TENANT_ACCESS),
    'removeTenantAccess': (_remove_tenant_access,
                           'os_compute_api:os-flavor-access:remove_tenant_access',
                           schemas.REMOVE_TENANT_ACCESS),
}


@bp.post('/flavors/<flavor_id>/action')
def flavor_action(flavor_id: str):
    body = validation.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.BadRequest('Malformed request body')
    name = next(iter(body))
    if name not in ACTIONS:
        raise errors.BadRequest(f'There is no such action: {name}')
    handler, rule, windows = ACTIONS[name]
    validation.validate(body, {'type': 'object',
                               'properties': {name: validation.schema_for(windows, g.want)},
                               'required': [name], 'additionalProperties': False})
    policy.authorize(g.context, rule)
    with session.transaction() as s:
        flavor = get_flavor(s, flavor_id)
        handler(s, flavor, body[name]['tenant'])
        projects = flavor_db.access_projects(s, flavor)
    return jsonify(views.access_list(flavor, projects))
