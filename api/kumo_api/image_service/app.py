"""The image service's WSGI app (kumo_api.service_app wires the middleware)."""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from kumo_api import service_app
from kumo_api.image_service import errors, image_data, images, schemas, versions

# Version discovery answers without a token, as Glance's.
PUBLIC_PATHS = ('/', '/versions', '/healthcheck')

schemas_bp = Blueprint('image_schemas', __name__)


@schemas_bp.get('/v2/schemas/image')
def image_schema():
    return jsonify(schemas.image_schema())


@schemas_bp.get('/v2/schemas/images')
def images_schema():
    return jsonify(schemas.images_schema())


def create_app() -> Flask:
    return service_app.create(
        'kumo_image_service', (versions.bp, images.bp, image_data.bp, schemas_bp),
        PUBLIC_PATHS, errors.fault_response)
