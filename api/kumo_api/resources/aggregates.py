"""The os-aggregates resource: host aggregates, their hosts and metadata.

The rules (zones, hosts, servers) live in kumo_common.db.aggregates, which also keeps
each host's compute_nodes.availability_zone in step in the same transaction.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify
from oslo_log import log as logging

from kumo_api import errors, path_ids, policy, validation
from kumo_api.schemas import aggregates as schemas
from kumo_api.views import aggregates as views
from kumo_common import exceptions
from kumo_common import image as images
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import session

LOG = logging.getLogger(__name__)
bp = Blueprint('aggregates', __name__)


def _authorize(action: str, prefix: str = 'os_compute_api:os-aggregates:') -> None:
    policy.authorize(g.context, prefix + action, {})


def _aggregate_id(value: str) -> int:
    number = path_ids.integer_id(value)
    if number is None:
        raise errors.BadRequest('Invalid input received: id must be an integer')
    if not path_ids.fits(number):
        raise errors.NotFound(f'Aggregate {value} could not be found.')
    return number


def _respond(aggregate, with_members: bool = True):
    return jsonify({'aggregate': views.aggregate_view(aggregate, g.want, with_members)})


@bp.get('/os-aggregates')
def list_aggregates():
    _authorize('index')
    with session.reader() as s:
        return jsonify({'aggregates': [views.aggregate_view(a, g.want)
                                       for a in aggregate_db.list_aggregates(s)]})


@bp.post('/os-aggregates')
def create_aggregate():
    body = validation.json_body()
    validation.validate(body, schemas.CREATE)
    _authorize('create')
    values = body['aggregate']
    with session.transaction() as s:
        try:
            aggregate = aggregate_db.create_aggregate(s, values['name'],
                                                      values.get('availability_zone'))
        except aggregate_db.AggregateNameExists as exc:
            raise errors.Conflict(exc.msg) from exc
        return _respond(aggregate, with_members=False)


@bp.get('/os-aggregates/<aggregate_id>')
def show_aggregate(aggregate_id: str):
    _authorize('show')
    number = _aggregate_id(aggregate_id)
    with session.reader() as s:
        return _respond(aggregate_db.get_aggregate(s, number))


@bp.put('/os-aggregates/<aggregate_id>')
def update_aggregate(aggregate_id: str):
    body = validation.json_body()
    validation.validate(body, schemas.UPDATE)
    _authorize('update')
    number = _aggregate_id(aggregate_id)
    values = dict(body['aggregate'])
    if 'name' in values:
        values['name'] = values['name'].strip()
    with session.transaction() as s:
        try:
            aggregate = aggregate_db.update_aggregate(s, number, values)
        except aggregate_db.InvalidAggregateAction as exc:
            raise errors.BadRequest(exc.msg) from exc
        return _respond(aggregate)


@bp.delete('/os-aggregates/<aggregate_id>')
def delete_aggregate(aggregate_id: str):
    _authorize('delete')
    number = _aggregate_id(aggregate_id)
    with session.transaction() as s:
        try:
            aggregate_db.delete_aggregate(s, number)
        except aggregate_db.InvalidAggregateAction as exc:
            raise errors.BadRequest(exc.msg) from exc
    # 200 with no body, as Nova (kept for compatibility there).
    return '', 200


# --- POST /os-aggregates/{id}/action ----------------------------------------------------

def _add_host(s, number: int, body: dict):
    host = body['add_host']['host']
    try:
        return aggregate_db.add_host(s, number, host)
    except (aggregate_db.InvalidAggregateAction, aggregate_db.HostHasServers) as exc:
        raise errors.Conflict(exc.msg) from exc


def _remove_host(s, number: int, body: dict):
    host = body['remove_host']['host']
    try:
        return aggregate_db.remove_host(s, number, host)
    except (aggregate_db.AggregateNotFound, aggregate_db.AggregateHostNotFound,
            exceptions.ComputeHostNotFound) as exc:
        LOG.info('Cannot remove host %s from aggregate %s: %s', host, number, exc)
        raise errors.NotFound(f'Cannot remove host {host} in aggregate {number}') from exc
    except aggregate_db.HostHasServers as exc:
        LOG.info('Cannot remove host %s from aggregate %s: %s', host, number, exc)
        raise errors.Conflict(f'Cannot remove host {host} in aggregate {number}') from exc


def _set_metadata(s, number: int, body: dict):
    try:
        return aggregate_db.set_metadata(s, number, body['set_metadata']['metadata'])
    except aggregate_db.InvalidAggregateAction as exc:
        raise errors.BadRequest(exc.msg) from exc


# action -> (request schema, handler)
_ACTIONS = {
    'add_host': (schemas.ADD_HOST, _add_host),
    'remove_host': (schemas.REMOVE_HOST, _remove_host),
    'set_metadata': (schemas.SET_METADATA, _set_metadata),
}


@bp.post('/os-aggregates/<aggregate_id>/action')
def aggregate_action(aggregate_id: str):
    body = validation.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.BadRequest('Malformed request body')
    action = next(iter(body))
    if action not in _ACTIONS:
        raise errors.BadRequest(f'There is no such action: {action}')
    schema, handler = _ACTIONS[action]
    validation.validate(body, schema)
    _authorize(action)
    number = _aggregate_id(aggregate_id)
    with session.transaction() as s:
        aggregate = handler(s, number, body)
        return _respond(aggregate)


# --- POST /os-aggregates/{id}/images (2.81) ------------------------------------------------

@bp.post('/os-aggregates/<aggregate_id>/images')
def cache_images(aggregate_id: str):
    if not g.want.at_least(2, 81):
        raise errors.NotFound('The resource could not be found.')
    body = validation.json_body()
    validation.validate(body, schemas.IMAGES)
    _authorize('images', prefix='compute:aggregates:')
    number = _aggregate_id(aggregate_id)
    image_ids = [item['id'] for item in body['cache']]
    if len(image_ids) != len(set(image_ids)):
        raise errors.BadRequest('Duplicate images in request')
    with session.reader() as s:
        aggregate = aggregate_db.get_aggregate(s, number)
        for image_id in image_ids:
            try:
                images.api().get(g.context, image_id, visible=False, session=s)
            except exceptions.ImageNotFound as exc:
                raise errors.BadRequest(exc.msg) from exc
        hosts = aggregate_db.hosts_of(aggregate)
    # Agents fetch an image into their cache on the first build that needs it; there
    # is nothing to prefetch ahead of that yet, so the request is accepted as a no-op.
    LOG.info('Image pre-caching of %s on aggregate %s (%d hosts) accepted; images are '
             'cached on first use', ', '.join(image_ids), number, len(hosts))
    return '', 202
