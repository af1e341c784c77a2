"""Version discovery: GET / and GET /v2.1/ (no authentication)."""
from flask import Blueprint, jsonify

from kumo_api.views import links, versions

bp = Blueprint('versions', __name__)


@bp.get('/')
def versions_index():
    response = jsonify(versions.versions_index(links.base_url()))
    return response


@bp.get('/v2.1')
@bp.get('/v2.1/')
def version_v21():
    return jsonify(versions.version_v21(links.base_url()))
