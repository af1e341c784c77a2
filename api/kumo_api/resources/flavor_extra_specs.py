"""Flavor extra specs: /flavors/{id}/os-extra_specs[/{key}]."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, extra_specs, policy, validation
from kumo_api.resources.flavors import get_flavor
from kumo_api.schemas import flavors as schemas
from kumo_common.db import flavors as flavor_db
from kumo_common.db import session

bp = Blueprint('flavor_extra_specs', __name__)

_RULE = 'os_compute_api:os-flavor-extra-specs:%s'


def _no_such_key(flavor_id: str, key: str) -> errors.NotFound:
    return errors.NotFound(f'Flavor {flavor_id} has no extra specs with key {key}.')


def _check_values(specs: dict) -> None:
    """Spec by spec, as Nova: a number's length, then (2.86+) the key and value."""
    validate = g.want.at_least(2, 86)
    for key, value in specs.items():
        # The schema bounds string lengths; numbers are stored as their text.
        if isinstance(value, (int, float)) and len(str(value)) > 255:
            raise errors.BadRequest(f'extra_specs value has {len(str(value))} characters, '
                                    'more than 255.')
        if validate:
            extra_specs.validate(key, value)


def _read_target() -> dict:
    return {'project_id': g.context.project_id}


@bp.get('/flavors/<flavor_id>/os-extra_specs')
def list_extra_specs(flavor_id: str):
    policy.authorize(g.context, _RULE % 'index', _read_target())
    with session.reader() as s:
        return jsonify({'extra_specs': flavor_db.extra_specs(get_flavor(s, flavor_id))})


@bp.post('/flavors/<flavor_id>/os-extra_specs')
def create_extra_specs(flavor_id: str):
    body = validation.json_body()
    validation.validate(body, schemas.EXTRA_SPECS_CREATE)
    policy.authorize(g.context, _RULE % 'create', {})
    _check_values(body['extra_specs'])
    with session.transaction() as s:
        flavor_db.set_extra_specs(s, get_flavor(s, flavor_id), body['extra_specs'])
    return jsonify(body)


@bp.put('/flavors/<flavor_id>/os-extra_specs/<key>')
def update_extra_spec(flavor_id: str, key: str):
    body = validation.json_body()
    validation.validate(body, schemas.EXTRA_SPECS_UPDATE)
    policy.authorize(g.context, _RULE % 'update', {})
    _check_values(body)
    if key not in body:
        raise errors.BadRequest('Request body and URI mismatch')
    with session.transaction() as s:
        flavor_db.set_extra_specs(s, get_flavor(s, flavor_id), body)
    return jsonify(body)


@bp.get('/flavors/<flavor_id>/os-extra_specs/<key>')
def show_extra_spec(flavor_id: str, key: str):
    policy.authorize(g.context, _RULE % 'show', _read_target())
    with session.reader() as s:
        specs = flavor_db.extra_specs(get_flavor(s, flavor_id))
    if key not in specs:
        raise _no_such_key(flavor_id, key)
    return jsonify({key: specs[key]})


@bp.delete('/flavors/<flavor_id>/os-extra_specs/<key>')
def delete_extra_spec(flavor_id: str, key: str):
    policy.authorize(g.context, _RULE % 'delete', {})
    with session.transaction() as s:
        if not flavor_db.delete_extra_spec(s, get_flavor(s, flavor_id), key):
            raise _no_such_key(flavor_id, key)
    return '', 200
