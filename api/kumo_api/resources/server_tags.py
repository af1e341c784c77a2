"""Server tags (2.26+): /servers/{id}/tags and /servers/{id}/tags/{tag}.

Writes need the server in a vm_state that allows metadata changes, as Nova (which
does not check the server lock for tags); the 50-tag limit is checked under the
server's row lock. A server is looked up as Nova's tags API does, by its cell
mapping first: an unknown id is "no mapping to a cell" and a deleted one not found.
Another project's server answers as an unknown id (Nova's policy check would answer
403 there, telling that the server exists: a project never learns of another's
servers, issue 3).
"""
from __future__ import annotations

import urllib.parse

import jsonschema
from flask import Blueprint, g, jsonify, request

from kumo_api import errors, policy, validation
from kumo_api.resources.server_metadata import check_writable
from kumo_api.schemas import server_tags as schemas
from kumo_api.views import links
from kumo_common import exceptions
from kumo_common.db import instance_metadata as meta_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session

bp = Blueprint('server_tags', __name__)


def _require_version() -> None:
    if not g.want.at_least(2, 26):
        raise errors.NotFound('The resource could not be found.')


def _instance(s, server_id: str, rule: str) -> models.Instance:
    """The live server, checked against the tags policy `rule` (the module's
    docstring says in which order, and why)."""
    ctxt = g.context
    try:
        instance = instance_db.get_instance(s, server_id)
    except exceptions.InstanceNotFound as exc:
        raise errors.NotFound(f'Instance {server_id} has no mapping to a cell.') from exc
    if instance.project_id != ctxt.project_id and not ctxt.is_admin_role:
        raise errors.NotFound(f'Instance {server_id} has no mapping to a cell.')
    policy.authorize(g.context, f'os_compute_api:os-server-tags:{rule}',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})
    if instance.deleted:
        raise errors.NotFound(f'Instance {server_id} could not be found.')
    return instance


def _locked_for_write(s, server_id: str, rule: str, action: str) -> models.Instance:
    instance = _instance(s, server_id, rule)
    locked = meta_db.lock_instance(s, instance.uuid)
    check_writable(locked, action, check_lock=False)
    return locked


@bp.get('/servers/<server_id>/tags')
def list_tags(server_id: str):
    _require_version()
    with session.reader() as s:
        instance = _instance(s, server_id, 'index')
        return jsonify({'tags': meta_db.tags_of(instance)})


@bp.put('/servers/<server_id>/tags')
def replace_tags(server_id: str):
    _require_version()
    body = validation.json_body()
    validation.validate(body, schemas.REPLACE)
    with session.transaction() as s:
        instance = _locked_for_write(s, server_id, 'update_all', 'update tags')
        meta_db.replace_tags(s, instance, body['tags'])
        return jsonify({'tags': meta_db.tags_of(instance)})


@bp.delete('/servers/<server_id>/tags')
def delete_all_tags(server_id: str):
    _require_version()
    with session.transaction() as s:
        instance = _locked_for_write(s, server_id, 'delete_all', 'delete tags')
        meta_db.replace_tags(s, instance, [])
    return '', 204


@bp.get('/servers/<server_id>/tags/<tag>')
def check_tag(server_id: str, tag: str):
    _require_version()
    with session.reader() as s:
        instance = _instance(s, server_id, 'show')
        if tag not in meta_db.tags_of(instance):
            raise errors.NotFound(f"Server {server_id} has no tag '{tag}'")
    return '', 204


@bp.put('/servers/<server_id>/tags/<tag>')
def add_tag(server_id: str, tag: str):
    _require_version()
    # No body (or a JSON null) is expected; anything else is refused as Nova does.
    data = request.get_data(cache=True)
    if data and data.strip() != b'null':
        validation.validate(validation.json_body(), schemas.ADD_ONE)
    with session.transaction() as s:
        instance = _locked_for_write(s, server_id, 'update', 'update tag')
        try:
            jsonschema.validate(tag, schemas.TAG)
        except jsonschema.ValidationError as exc:
            raise errors.BadRequest(
                f"Tag '{tag}' is invalid. It must be a non empty string without "
                f"characters '/' and ','. Validation error message: {exc.message}"
            ) from exc
        tags = meta_db.tags_of(instance)
        if len(tags) >= meta_db.MAX_TAGS:
            raise errors.BadRequest('The number of tags exceeded the per-server limit '
                                    f'{meta_db.MAX_TAGS}')
        if tag in tags:
            return '', 204
        meta_db.add_tag(s, instance, tag)
    location = links.collection_url(
        f'servers/{server_id}/tags/{urllib.parse.quote(tag, safe="")}')
    return '', 201, {'Location': location}


@bp.delete('/servers/<server_id>/tags/<tag>')
def delete_tag(server_id: str, tag: str):
    _require_version()
    with session.transaction() as s:
        instance = _locked_for_write(s, server_id, 'delete', 'delete tag')
        if not meta_db.delete_tag(s, instance, tag):
            raise errors.NotFound(f"Instance {server_id} has no tag '{tag}'")
    return '', 204
