"""Version discovery: GET /, GET /v2/ and GET /v2.1/ (no authentication), and GET
/v2.1/versions/{id} (inside the API, so authenticated, as Nova serves it)."""
from flask import Blueprint, jsonify

from kumo_api import errors
from kumo_api.views import links, versions

bp = Blueprint('versions', __name__)
# Served under /v2.1 (and /v2.1/{project_id}) with the API's other resources.
api_bp = Blueprint('version_show', __name__)


@bp.get('/')
def versions_index():
    response = jsonify(versions.versions_index(links.base_url()))
    return response


@bp.get('/v2.1')
@bp.get('/v2.1/')
def version_v21():
    return jsonify(versions.version_v21(links.base_url()))


@bp.get('/v2')
@bp.get('/v2/')
def version_v20():
    return jsonify(versions.version_v20(links.base_url(), '/v2'))


@api_bp.get('/versions/<version_id>')
def show_version(version_id: str):
    doc = versions.version_by_id(links.base_url(), version_id, links.api_root())
    if doc is None:
        raise errors.NotFound('The resource could not be found.')
    return jsonify(doc)
