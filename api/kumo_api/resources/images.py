"""The compute images proxy: /images, /images/detail, /images/{id} (up to 2.35)."""
from flask import Blueprint, g, jsonify

from kumo_api import errors, policy
from kumo_api.views import images as views
from kumo_common import exceptions
from kumo_common.db import images as image_db
from kumo_common.db import session

bp = Blueprint('images', __name__)


def _check_version():
    # Nova removed the proxy APIs at 2.36; the image service answers instead.
    if g.want.at_least(2, 36):
        raise errors.NotFound('The resource could not be found.')
    policy.authorize(g.context, 'os_compute_api:images:index')


def _visible_images(s):
    # The image service's visibility: another project's private image is not there.
    return image_db.list_images(s, g.context.project_id, g.context.is_admin_role)


@bp.get('/images')
def list_images():
    _check_version()
    with session.reader() as s:
        return jsonify({'images': [views.image_summary(i) for i in _visible_images(s)]})


@bp.get('/images/detail')
def list_images_detail():
    _check_version()
    with session.reader() as s:
        return jsonify({'images': [views.image_detail(i) for i in _visible_images(s)]})


@bp.get('/images/<image_id>')
def show_image(image_id: str):
    _check_version()
    with session.reader() as s:
        try:
            image = image_db.get_visible(s, image_id, g.context.project_id,
                                         g.context.is_admin_role)
        except exceptions.ImageNotFound as exc:
            raise errors.NotFound('Image not found.') from exc
        return jsonify({'image': views.image_detail(image)})
