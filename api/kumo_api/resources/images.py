"""The compute images proxy: /images, /images/detail, /images/{id}, and its DELETE
(up to 2.35).

Read through kumo_common.image: the local catalog, or an external Glance's v2 API
with the caller's token (its visibility rules are then Glance's)."""
from flask import Blueprint, g, jsonify

from kumo_api import errors, policy
from kumo_api.views import images as views
from kumo_common import exceptions
from kumo_common import image as images

bp = Blueprint('images', __name__)


def _check_version():
    # Nova removed the proxy APIs at 2.36; the image service answers instead.
    if g.want.at_least(2, 36):
        raise errors.NotFound('The resource could not be found.')
    policy.authorize(g.context, 'os_compute_api:images:index')


def _visible_images():
    # The image service's visibility: another project's private image is not there.
    return images.api().list(g.context)


@bp.get('/images')
def list_images():
    _check_version()
    return jsonify({'images': [views.image_summary(i) for i in _visible_images()]})


@bp.get('/images/detail')
def list_images_detail():
    _check_version()
    return jsonify({'images': [views.image_detail(i) for i in _visible_images()]})


@bp.get('/images/<image_id>')
def show_image(image_id: str):
    _check_version()
    try:
        image = images.api().get(g.context, image_id)
    except (exceptions.ImageNotFound, exceptions.Forbidden) as exc:
        raise errors.NotFound('Image not found.') from exc
    return jsonify({'image': views.image_detail(image)})


@bp.delete('/images/<image_id>')
def delete_image(image_id: str):
    """As Nova's proxy: the image service's answer to the caller's delete (404 when
    they cannot see the image, 403 when they may not delete it), 204 otherwise."""
    _check_version()
    try:
        images.api().delete_as_caller(g.context, image_id)
    except exceptions.ImageNotFound as exc:
        raise errors.NotFound('Image not found.') from exc
    except exceptions.Forbidden as exc:
        raise errors.Forbidden(str(exc)) from exc
    return '', 204
