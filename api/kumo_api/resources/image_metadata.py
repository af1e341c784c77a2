"""The compute image metadata proxy: /images/{id}/metadata[/{key}] (up to 2.38).

As Nova's: an image's metadata is its custom properties, read and written through
kumo_common.image (the local catalog, or an external Glance with the caller's token),
whose rules decide who may change them (404 for an image the caller cannot see, 403
for one that is not theirs); the project's metadata_items limit caps their number.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, policy, validation
from kumo_api.schemas import types
from kumo_common import exceptions, quota
from kumo_common import image as images
from kumo_common.db import session

bp = Blueprint('image_metadata', __name__)

METADATA_SCHEMA = {'type': 'object', 'properties': {'metadata': types.metadata},
             'required': ['metadata'], 'additionalProperties': False}
META_SCHEMA = {'type': 'object',
         'properties': {'meta': {**types.metadata, 'minProperties': 1, 'maxProperties': 1}},
         'required': ['meta'], 'additionalProperties': False}


def _properties(image_id: str) -> dict:
    """The image's properties as the caller may see them (after the version and
    policy checks of the images proxy)."""
    if g.want.at_least(2, 39):
        raise errors.NotFound('The resource could not be found.')
    policy.authorize(g.context, 'os_compute_api:images:index')
    try:
        return dict(images.api().get(g.context, image_id).properties)
    except exceptions.ImageNotFound as exc:
        raise errors.NotFound('Image not found.') from exc
    except exceptions.Forbidden as exc:
        raise errors.Forbidden(str(exc)) from exc


def _save(image_id: str, properties: dict, checked: dict) -> None:
    """Write `properties`, after checking `checked` against the metadata_items limit
    (Nova checks the request's items for a replace, the result for the others)."""
    ctxt = g.context
    with session.reader() as s:
        allowed = quota.get_limits(s, ctxt.project_id)['metadata_items']
    if 0 <= allowed < len(checked):
        raise errors.Forbidden('Image metadata limit exceeded')
    try:
        images.api().set_properties(ctxt, image_id, properties)
    except exceptions.ImageNotFound as exc:
        raise errors.NotFound('Image not found.') from exc
    except exceptions.Forbidden as exc:
        raise errors.Forbidden(str(exc)) from exc


@bp.get('/images/<image_id>/metadata')
def list_image_metadata(image_id: str):
    return jsonify({'metadata': _properties(image_id)})


@bp.post('/images/<image_id>/metadata')
def update_image_metadata(image_id: str):
    body = validation.json_body()
    validation.validate(body, METADATA_SCHEMA)
    properties = _properties(image_id)
    properties.update(body['metadata'])
    _save(image_id, properties, properties)
    return jsonify({'metadata': properties})


@bp.put('/images/<image_id>/metadata')
def replace_image_metadata(image_id: str):
    body = validation.json_body()
    validation.validate(body, METADATA_SCHEMA)
    _properties(image_id)
    _save(image_id, body['metadata'], body['metadata'])
    return jsonify({'metadata': body['metadata']})


@bp.get('/images/<image_id>/metadata/<key>')
def show_image_metadata_item(image_id: str, key: str):
    properties = _properties(image_id)
    if key not in properties:
        raise errors.NotFound('The resource could not be found.')
    return jsonify({'meta': {key: properties[key]}})


@bp.put('/images/<image_id>/metadata/<key>')
def update_image_metadata_item(image_id: str, key: str):
    body = validation.json_body()
    validation.validate(body, META_SCHEMA)
    if key not in body['meta']:
        raise errors.BadRequest('Request body and URI mismatch')
    properties = _properties(image_id)
    properties[key] = body['meta'][key]
    _save(image_id, properties, properties)
    return jsonify({'meta': body['meta']})


@bp.delete('/images/<image_id>/metadata/<key>')
def delete_image_metadata_item(image_id: str, key: str):
    properties = _properties(image_id)
    if key not in properties:
        raise errors.NotFound('Invalid metadata key')
    del properties[key]
    _save(image_id, properties, {})
    return '', 204
