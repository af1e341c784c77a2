"""The flavors resource: /flavors, /flavors/detail, /flavors/{id} (os-flavor-manage too).

Who sees what, as Nova: admins every flavor (the `is_public` filter, default true,
narrows the list: false = private only, "none" = all); everyone else the public,
enabled flavors plus the private ones their project was given access to. Another
project's private flavor is a 404, never a 403.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, g, jsonify, request

from kumo_api import errors, paging, policy, validation
from kumo_api.schemas import flavors as schemas
from kumo_api.schemas import types
from kumo_api.views import flavors as views
from kumo_common import exceptions
from kumo_common.db import flavors as flavor_db
from kumo_common.db import models, session

bp = Blueprint('flavors', __name__)

_NONE = 'none'
_TRUE = ('1', 't', 'true', 'on', 'y', 'yes')
_FALSE = ('0', 'f', 'false', 'off', 'n', 'no')


def get_flavor(s, flavor_id: str) -> models.Flavor:
    """The flavor if the caller may see it, else 404 in Nova's words."""
    ctxt = g.context
    try:
        return flavor_db.get_visible(s, flavor_id, ctxt.project_id, ctxt.is_admin_role)
    except exceptions.FlavorNotFound as exc:
        raise errors.NotFound(str(exc)) from exc


def extra_specs_visible() -> bool:
    """Whether flavor views carry extra_specs (2.61+, by policy)."""
    return g.want.at_least(2, 61) and policy.authorize(
        g.context, 'os_compute_api:os-flavor-extra-specs:index', fatal=False)


def _last(name: str) -> str | None:
    values = request.args.getlist(name)
    return values[-1] if values else None


def _is_public_filter(value: str | None) -> bool | None:
    """True (default), False, or None for both kinds ("none")."""
    if value is None:
        return True
    text = value.strip().lower()
    if text == _NONE:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise errors.BadRequest(f'Invalid is_public filter [{value}]')


def _min_filter(name: str) -> int | None:
    value = _last(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise errors.BadRequest(f'Invalid {name} filter [{value}]') from exc


def _list(detail: bool):
    want = g.want
    ctxt = g.context
    validation.validate_query(schemas.list_query(want))
    args = request.args
    limit = paging.page_limit(args)
    marker = args.get('marker')
    is_admin = ctxt.is_admin_role
    # Only admins choose; everyone else gets public (and their private) flavors.
    is_public = _is_public_filter(_last('is_public')) if is_admin else True
    min_ram = _min_filter('minRam')
    min_disk = _min_filter('minDisk')
    with session.reader() as s:
        rows = flavor_db.list_visible(s, ctxt.project_id, is_admin,
                                      _last('sort_key') or 'flavorid',
                                      _last('sort_dir') or 'asc')
        if marker:
            # The marker may be any flavor the caller can see, filtered out or not.
            position = next((i for i, f in enumerate(rows) if f.flavorid == marker), None)
            if position is None:
                raise errors.BadRequest(f'marker [{marker}] not found')
            rows = rows[position + 1:]
        granted = flavor_db.accessible_ids(s, ctxt.project_id) if is_public else set()

        def wanted(flavor: models.Flavor) -> bool:
            if is_public is True and not (flavor.is_public or flavor.id in granted):
                return False
            if is_public is False and flavor.is_public:
                return False
            if not is_admin and flavor.disabled:
                return False
            if min_ram is not None and flavor.memory_mb < min_ram:
                return False
            return min_disk is None or flavor.root_gb >= min_disk

        flavors = [f for f in rows if wanted(f)][:limit]
        if detail:
            specs = extra_specs_visible()
            items = [views.flavor_view(f, want, specs) for f in flavors]
        else:
            items = [views.flavor_summary(f, want) for f in flavors]
    body = {'flavors': items}
    body.update(paging.next_links(args, flavors, limit,
                                  'flavors/detail' if detail else 'flavors',
                                  lambda f: f.flavorid, 'flavors_links'))
    return jsonify(body)


@bp.get('/flavors')
def list_flavors():
    return _list(detail=False)


@bp.get('/flavors/detail')
def list_flavors_detail():
    return _list(detail=True)


@bp.get('/flavors/<flavor_id>')
def show_flavor(flavor_id: str):
    with session.reader() as s:
        flavor = get_flavor(s, flavor_id)
        return jsonify({'flavor': views.flavor_view(flavor, g.want, extra_specs_visible())})


def _bounded(body: dict, field: str, name: str, default: int, minimum: int) -> int:
    value = int(body.get(field, default))
    if value > schemas.MAX_INT:
        raise errors.BadRequest(f'Invalid input received: {name} must be <= '
                                f'{schemas.MAX_INT}')
    if value < minimum:
        raise errors.BadRequest(f'Invalid input received: {name} must be >= {minimum}')
    return value


@bp.post('/flavors')
def create_flavor():
    want = g.want
    body = validation.json_body()
    validation.validate(body, validation.schema_for(schemas.CREATE, want))
    policy.authorize(g.context, 'os_compute_api:os-flavor-manage:create', {})
    spec = body['flavor']
    flavorid = spec.get('id')
    flavorid = str(uuid.uuid4()) if flavorid is None else str(flavorid)
    values = {
        'name': spec['name'],
        'flavorid': flavorid,
        'memory_mb': _bounded(spec, 'ram', 'memory_mb', 0, 1),
        'vcpus': _bounded(spec, 'vcpus', 'vcpus', 0, 1),
        'root_gb': _bounded(spec, 'disk', 'root_gb', 0, 0),
        'ephemeral_gb': _bounded(spec, 'OS-FLV-EXT-DATA:ephemeral', 'ephemeral_gb', 0, 0),
        'swap': _bounded(spec, 'swap', 'swap', 0, 0),
        'rxtx_factor': float(spec.get('rxtx_factor', 1.0)),
        'is_public': types.to_bool(spec.get('os-flavor-access:is_public', True)),
        'description': spec.get('description') if want.at_least(2, 55) else None,
    }
    with session.transaction() as s:
        flavor = flavor_db.create(s, **values)
        # As Nova: a private flavor's creator's project gets no access implicitly.
        view = views.flavor_view(flavor, want, extra_specs_visible())
    return jsonify({'flavor': view})


@bp.put('/flavors/<flavor_id>')
def update_flavor(flavor_id: str):
    want = g.want
    if not want.at_least(2, 55):
        raise errors.NotFound('The resource could not be found.')
    body = validation.json_body()
    validation.validate(body, validation.schema_for(schemas.UPDATE, want))
    policy.authorize(g.context, 'os_compute_api:os-flavor-manage:update', {})
    with session.transaction() as s:
        try:
            flavor = flavor_db.get_by_flavorid(s, flavor_id)
        except exceptions.FlavorNotFound as exc:
            raise errors.NotFound(str(exc)) from exc
        flavor.description = body['flavor']['description']
        flavor.updated_at = models.utcnow()
        s.flush()
        view = views.flavor_view(flavor, want, extra_specs_visible())
    return jsonify({'flavor': view})


@bp.delete('/flavors/<flavor_id>')
def delete_flavor(flavor_id: str):
    policy.authorize(g.context, 'os_compute_api:os-flavor-manage:delete', {})
    with session.transaction() as s:
        try:
            flavor = flavor_db.get_by_flavorid(s, flavor_id)
        except exceptions.FlavorNotFound as exc:
            raise errors.NotFound(str(exc)) from exc
        # Servers keep the copy taken at boot (their 2.47 view and their quota).
        flavor_db.delete(s, flavor)
    return '', 202
