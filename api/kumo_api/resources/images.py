"""The compute images proxy: /images, /images/detail, /images/{id}, and its DELETE
(up to 2.35).

Read through kumo_common.image: the local catalog, or an external Glance's v2 API
with the caller's token (its visibility rules are then Glance's). The lists take
Nova's filters (name, status, changes-since, server, type, minRam, minDisk and
property-*) and paging (limit, marker, images_links), applied here to what the
catalog shows the caller, in its order (newest first)."""
import datetime

from flask import Blueprint, g, jsonify, request
from oslo_utils import timeutils

from kumo_api import errors, paging, policy
from kumo_api.views import images as views
from kumo_common import exceptions
from kumo_common import image as images

bp = Blueprint('images', __name__)


def _check_version():
    # Nova removed the proxy APIs at 2.36; the image service answers instead.
    if g.want.at_least(2, 36):
        raise errors.NotFound('The resource could not be found.')
    policy.authorize(g.context, 'os_compute_api:images:index')


def _since(value: str) -> datetime.datetime:
    try:
        return timeutils.normalize_time(timeutils.parse_isotime(value))
    except ValueError as exc:
        raise errors.BadRequest(f'Invalid changes-since value: {value}') from exc


def _at_least(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise errors.BadRequest(f'Invalid {name} value: {value}') from exc


def _filters(args: dict) -> dict:
    """The list's filters among the query's parameters (Nova's; anything else is
    ignored, as Nova's), their values read once: 400 for one that cannot be read."""
    filters = {}
    for name, value in args.items():
        if name == 'changes-since':
            filters[name] = _since(value)
        elif name in ('minRam', 'minDisk'):
            filters[name] = _at_least(value, name)
        elif name == 'status':
            filters[name] = value.lower()
        elif name == 'server':   # a server's id, or its URL
            filters[name] = value.rsplit('/', 1)[-1]
        elif name in ('name', 'type') or name.startswith('property-'):
            filters[name] = value
    return filters


def _matches(image, filters: dict) -> bool:
    """Whether `image` passes the list's filters (as Glance applies Nova's)."""
    props = image.properties
    for name, value in filters.items():
        if name == 'name':
            ok = image.name == value
        elif name == 'status':
            ok = image.status == value
        elif name == 'changes-since':
            updated = image.updated_at or image.created_at
            ok = updated is not None and updated >= value
        elif name == 'server':
            ok = props.get('instance_uuid') == value
        elif name == 'type':
            ok = props.get('image_type') == value
        elif name == 'minRam':
            ok = (image.min_ram or 0) >= value
        elif name == 'minDisk':
            ok = (image.min_disk or 0) >= value
        else:   # property-<name>
            ok = str(props.get(name[len('property-'):])) == value
        if not ok:
            return False
    return True


def _page(path: str, view) -> dict:
    """The filtered page of the images the caller may see (the image service's
    visibility: another project's private image is not there), with its next link."""
    args = {k: v for k, v in request.args.items()}
    limit = paging.page_limit(args)
    filters = _filters(args)
    found = [i for i in images.api().list(g.context) if _matches(i, filters)]
    page = paging.after_marker(found, args.get('marker'), lambda i: i.id, limit)
    body = {'images': [view(i) for i in page]}
    body.update(paging.next_links(request.args, page, limit, path, lambda i: i.id,
                                  'images_links'))
    return body


@bp.get('/images')
def list_images():
    _check_version()
    return jsonify(_page('images', views.image_summary))


@bp.get('/images/detail')
def list_images_detail():
    _check_version()
    return jsonify(_page('images/detail', views.image_detail))


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
        raise errors.Forbidden('You are not allowed to delete the image.') from exc
    return '', 204
