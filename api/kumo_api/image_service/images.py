"""Image records: GET/POST /v2/images, GET/PATCH/DELETE /v2/images/{id} (Glance v2)."""
from __future__ import annotations

import urllib.parse
import uuid as uuidlib

import jsonschema
from flask import Blueprint, g, jsonify, request
from oslo_config import cfg

from kumo_api import policy
from kumo_api.image_service import errors, patch, schemas, store, views
from kumo_common import exceptions
from kumo_common.db import images as image_db
from kumo_common.db import models, session

CONF = cfg.CONF
bp = Blueprint('image_records', __name__)

# Base attributes a create body may set (everything else is a custom property).
_CREATE_COLUMNS = ('name', 'visibility', 'protected', 'os_hidden', 'container_format',
                   'disk_format', 'min_ram', 'min_disk', 'owner')
_VALIDATOR = jsonschema.Draft4Validator(schemas.validation_schema())


def authorize(rule: str, owner: str | None = '') -> None:
    """Glance's policy check on an image of project `owner` (default: a read, with
    the caller's project): 403 in Glance's words when the rule says no. An image
    without owner (`kumo-manage image import`) is no project's: admins change it."""
    ctxt = g.context
    target = {'project_id': ctxt.project_id if owner == '' else (owner or ''),
              'user_id': ctxt.user_id}
    if not policy.authorize(ctxt, rule, target, fatal=False):
        raise errors.Forbidden(f'You are not authorized to complete {rule} action.')


def load(s, image_id: str, for_update: bool = False) -> models.Image:
    """An image the caller may see, else Glance's 404."""
    try:
        return image_db.get_visible(s, image_id, g.context.project_id,
                                    g.context.is_admin_role, for_update=for_update)
    except exceptions.ImageNotFound as exc:
        raise errors.NotFound(f'No image found with ID {image_id}') from exc


def validate(document: dict) -> None:
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(document))
    if error is not None:
        path = '/'.join(str(p) for p in error.absolute_path)
        raise errors.BadRequest(f"Failed validating {error.validator!r} in schema"
                                f"{'[' + path + ']' if path else ''}: {error.message}")


def _json_body():
    if (request.mimetype or '') not in ('application/json', ''):
        raise errors.UnsupportedMediaType(f'Content-Type {request.mimetype} is not '
                                          f'supported; send application/json')
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise errors.BadRequest('Body expected in request.')
    return body


# --- list ----------------------------------------------------------------------------

def _values(raw: str) -> list[str]:
    """A filter value: "x", or Glance's "in:x,y" (entries may be quoted)."""
    if not raw.startswith('in:'):
        return [raw]
    values = [v.strip().strip('"') for v in raw[3:].split(',')]
    if not all(values):
        raise errors.BadRequest(f'Invalid "in" filter value: {raw}')
    return values


def _limit(args) -> int:
    raw = args.get('limit')
    cap = CONF.image_service.api_limit_max
    if raw is None:
        return min(CONF.image_service.limit_param_default, cap)
    try:
        limit = int(raw)
    except ValueError as exc:
        raise errors.BadRequest('limit param must be an integer') from exc
    if limit < 0:
        raise errors.BadRequest('limit param must be positive')
    return min(limit, cap)


def _sort(args) -> list[tuple[str, str]]:
    """Glance's two spellings: sort=k1:dir,k2 or sort_key=k1&sort_key=k2&sort_dir=..."""
    keys = args.getlist('sort_key')
    dirs = args.getlist('sort_dir')
    if 'sort' in args:
        if keys or dirs:
            raise errors.BadRequest('The "sort" query parameter is not compatible with '
                                    '"sort_key" and "sort_dir"')
        pairs = []
        for part in args['sort'].split(','):
            key, _sep, direction = part.strip().partition(':')
            pairs.append((key, direction or 'desc'))
    else:
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise errors.BadRequest('Number of sort dirs does not match the number of '
                                    'sort keys')
        keys = keys or ['created_at']
        dirs = dirs if len(dirs) > 1 else (dirs or ['desc']) * len(keys)
        pairs = list(zip(keys, dirs, strict=True))
    for key, direction in pairs:
        if key not in image_db.SORT_KEYS:
            raise errors.BadRequest(f'Invalid sort key: {key}. It must be one of the '
                                    f'following: {", ".join(sorted(image_db.SORT_KEYS))}.')
        if direction not in ('asc', 'desc'):
            raise errors.BadRequest(f'Invalid sort direction: {direction}')
    return pairs


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ('true', '1', 'yes', 'on'):
        return True
    if value in ('false', '0', 'no', 'off'):
        return False
    raise errors.BadRequest(f'Invalid value for {name}: {raw}')


_PAGING = ('limit', 'marker', 'sort', 'sort_key', 'sort_dir')
_IGNORED = ('member_status',)


@bp.get('/v2/images')
def list_images():
    authorize('get_images')
    args = request.args
    visibility = args.get('visibility')
    if visibility is not None and visibility not in (*schemas.VISIBILITIES, 'all'):
        raise errors.BadRequest(f'Invalid visibility value: {visibility}')
    columns, properties = {}, {}
    for name in args:
        if name in _PAGING or name in _IGNORED or name in ('visibility', 'tag',
                                                            'os_hidden'):
            continue
        if name in image_db.FILTER_COLUMNS:
            columns[name] = _values(args[name])
        else:
            properties[name] = args[name]
    limit = _limit(args)
    with session.reader() as s:
        try:
            images = image_db.query_images(
                s, project_id=g.context.project_id, is_admin=g.context.is_admin_role,
                visibility=visibility, columns=columns, properties=properties,
                tags=args.getlist('tag'),
                hidden=_bool('os_hidden', args['os_hidden']) if 'os_hidden' in args
                else False,
                sort=_sort(args), marker=args.get('marker'), limit=limit)
        except exceptions.ImageNotFound as exc:
            raise errors.BadRequest(f'Invalid marker. Image {args["marker"]} could not be '
                                    f'found.') from exc
        body = {'images': [views.image_view(i) for i in images]}
    params = [(k, v) for k, v in args.items(multi=True) if k != 'marker']
    query = urllib.parse.urlencode(params)
    body['first'] = '/v2/images' + (f'?{query}' if query else '')
    body['schema'] = '/v2/schemas/images'
    if images and len(images) == limit:
        body['next'] = '/v2/images?' + urllib.parse.urlencode(
            params + [('marker', images[-1].id)])
    return jsonify(body)


# --- show, create ----------------------------------------------------------------------

@bp.get('/v2/images/<image_id>')
def show_image(image_id: str):
    authorize('get_image')
    with session.reader() as s:
        return jsonify(views.image_view(load(s, image_id)))


@bp.get('/v2/images/<image_id>/tasks')
def list_image_tasks(image_id: str):
    """Glance's (v2.12) tasks of an image: the imports and location tasks that made
    it. Kumo's image service runs no tasks (its images are uploaded or snapshotted
    directly), so an image it shows has none; clients such as Tempest ask after a
    snapshot and take an empty list as done."""
    authorize('get_image')
    with session.reader() as s:
        load(s, image_id)
    return jsonify({'tasks': []})


def check_writable(key: str) -> None:
    if key in schemas.DISALLOWED or key in schemas.READ_ONLY:
        raise errors.Forbidden(f"Attribute '{key}' is read-only.")
    if key in schemas.RESERVED or key.startswith('os_glance'):
        raise errors.Forbidden(f"Attribute '{key}' is reserved.")


def check_visibility_change(visibility: str | None, owner: str | None) -> None:
    if visibility == 'public':
        authorize('publicize_image', owner)
    elif visibility == 'community':
        authorize('communitize_image', owner)


def check_owner(owner) -> None:
    ctxt = g.context
    if owner is not None and owner != ctxt.project_id and not ctxt.is_admin_role:
        raise errors.Forbidden(f"You are not permitted to create images owned by "
                               f"'{owner}'.")


@bp.post('/v2/images')
def create_image():
    body = _json_body()
    if not isinstance(body, dict):
        raise errors.BadRequest('Body expected in request.')
    for key in body:
        if key != 'id':
            check_writable(key)
    validate(body)
    ctxt = g.context
    fields = {k: body[k] for k in _CREATE_COLUMNS if k in body}
    fields.setdefault('owner', ctxt.project_id)
    fields.setdefault('visibility', 'shared')
    check_owner(fields['owner'])
    authorize('add_image', fields['owner'])
    check_visibility_change(fields['visibility'], fields['owner'])
    properties = {k: v for k, v in body.items()
                  if k not in _CREATE_COLUMNS and k not in ('id', 'tags')}
    image_id = body.get('id') or str(uuidlib.uuid4())
    with session.transaction() as s:
        if s.get(models.Image, image_id) is not None:
            raise errors.Conflict(f'Image with identifier {image_id} already exists!')
        image = image_db.create(s, image_id, fields.pop('name', None), status='queued',
                                **fields)
        image_db.set_properties(s, image, properties)
        image_db.set_tags(image, body.get('tags') or [])
        s.flush()
        view = views.image_view(image)
    response = jsonify(view)
    response.status_code = 201
    response.headers['Location'] = f'/v2/images/{image_id}'
    return response


# --- update, delete ----------------------------------------------------------------------

@bp.patch('/v2/images/<image_id>')
def update_image(image_id: str):
    changes = patch.parse(request)
    for change in changes:
        check_writable(change.attribute)
        if change.op != 'remove':
            validate({change.attribute: change.value})
    with session.transaction() as s:
        image = load(s, image_id, for_update=True)
        authorize('modify_image', image.owner)
        patch.apply(s, image, changes, _before_change)
        s.flush()
        s.refresh(image)
        view = views.image_view(image)
    return jsonify(view)


def _before_change(image: models.Image, attribute: str, value) -> None:
    """Checks a change must pass beyond the schema (who may do it)."""
    if attribute == 'visibility':
        check_visibility_change(value, image.owner)
    elif attribute == 'owner':
        check_owner(value)


@bp.delete('/v2/images/<image_id>')
def delete_image(image_id: str):
    with session.transaction() as s:
        image = load(s, image_id, for_update=True)
        authorize('delete_image', image.owner)
        if image.protected:
            raise errors.Forbidden(f'Image {image_id} is protected and cannot be deleted.')
        location = image.location
        image_db.delete(s, image)
    store.remove(location)
    return '', 204
