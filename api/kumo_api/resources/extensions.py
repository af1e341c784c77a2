"""GET /extensions and /extensions/{alias}: the fixed v2.1 extension list
(kumo_api.extension_list), for clients that still ask for it."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from kumo_api import errors, extension_list, policy

bp = Blueprint('extensions', __name__)
RULE = 'os_compute_api:extensions'


@bp.get('/extensions')
def list_extensions():
    # Nova checks the rule against an empty target: the list is no project's.
    policy.authorize(g.context, RULE, {})
    return jsonify({'extensions': list(extension_list.EXTENSIONS)})


@bp.get('/extensions/<alias>')
def show_extension(alias: str):
    policy.authorize(g.context, RULE, {})
    extension = extension_list.BY_ALIAS.get(alias)
    if extension is None:
        raise errors.NotFound('The resource could not be found.')
    return jsonify({'extension': extension})
