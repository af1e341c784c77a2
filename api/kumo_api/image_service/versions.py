"""Version discovery of the image service, as Glance answers it: GET / (300 Multiple
Choices) and GET /versions (200), every v2 minor version Kumo speaks, newest CURRENT."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

bp = Blueprint('image_versions', __name__)

# The v2 minors whose calls Kumo answers (the image calls of 2.0 onwards; the import,
# stores, cache and metadefs calls of later minors are not implemented, and clients
# discover those by their own documents, not by this number).
MINORS = tuple(range(0, 10))


def _document() -> dict:
    root = request.host_url.rstrip('/')
    newest = MINORS[-1]
    return {'versions': [
        {'id': f'v2.{minor}', 'status': 'CURRENT' if minor == newest else 'SUPPORTED',
         'links': [{'rel': 'self', 'href': f'{root}/v2/'}]}
        for minor in reversed(MINORS)]}


@bp.get('/')
def root():
    return jsonify(_document()), 300


@bp.get('/versions')
def versions():
    return jsonify(_document())
