"""The os-services resource: list services, enable/disable/force down a compute
service (by host and binary before 2.53, by UUID from 2.53), delete a service."""
from __future__ import annotations

from flask import Blueprint, g, jsonify
from oslo_config import cfg
from oslo_utils import strutils, uuidutils

from kumo_api import errors, path_ids, policy, validation
from kumo_api.schemas import services as schemas
from kumo_api.views import services as views
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import models, session
from kumo_common.db import services as service_db

CONF = cfg.CONF
bp = Blueprint('services', __name__)

_RULE = 'os_compute_api:os-services:%s'


def _authorize(action: str) -> None:
    policy.authorize(g.context, _RULE % action, {})


def _detail(s, services: list[models.Service]) -> list[dict]:
    zones = aggregate_db.host_zones(
        s, {sv.host for sv in services if sv.binary == service_db.COMPUTE_BINARY})
    now = models.utcnow()
    return [views.service_view(sv, g.want, views.zone_of(sv, zones),
                               service_db.is_up(sv, CONF.service_down_time, now))
            for sv in services]


@bp.get('/os-services')
def list_services():
    params = validation.validate_query(validation.query_schema(
        schemas.INDEX_QUERY, allow_unknown=not g.want.at_least(2, 75)))
    _authorize('list')
    # As Nova: the last value of a repeated parameter counts, an empty one is no filter.
    host = (params.get('host') or [''])[-1] or None
    binary = (params.get('binary') or [''])[-1] or None
    with session.reader() as s:
        services = service_db.list_services(
            s, host=host, binary=views.stored_binary(binary) if binary else None)
        return jsonify({'services': _detail(s, services)})


@bp.put('/os-services/<service_id>')
def update_service(service_id: str):
    body = validation.json_body()
    validation.validate(body, validation.schema_for(schemas.UPDATE, g.want))
    if g.want.at_least(2, 53):
        return _update_by_uuid(service_id, body)
    return _legacy_action(service_id, body)


# --- 2.53+: PUT /os-services/{uuid} ----------------------------------------------------

def _update_by_uuid(service_id: str, body: dict):
    if not uuidutils.is_uuid_like(service_id):
        raise errors.BadRequest(f'Invalid uuid {service_id}')
    _authorize('update')
    with session.transaction() as s:
        try:
            service = service_db.get_by_uuid(s, service_id)
        except service_db.ServiceNotFound as exc:
            raise errors.NotFound(exc.msg) from exc
        _only_compute(service.binary)
        values = {}
        if 'status' in body:
            if body['status'] == 'enabled':
                if body.get('disabled_reason'):
                    raise errors.BadRequest("Specifying 'disabled_reason' with status "
                                            "'enabled' is invalid.")
                values.update(disabled=False, disabled_reason=None)
            else:
                values.update(disabled=True, disabled_reason=body.get('disabled_reason'))
        if 'forced_down' in body:
            values['forced_down'] = strutils.bool_from_string(body['forced_down'],
                                                              strict=True)
        if not values:
            raise errors.BadRequest("No updates were requested. Fields 'status' or "
                                    "'forced_down' should be specified.")
        service_db.update(s, service, values)
        view = _detail(s, [service])[0]
    return jsonify({'service': view})


def _only_compute(binary: str) -> None:
    if views.stored_binary(binary) != service_db.COMPUTE_BINARY:
        raise errors.BadRequest(f'Updating a {views.wire_binary(binary)} service is not '
                                'supported. Only nova-compute services can be updated.')


# --- before 2.53: PUT /os-services/{action} with host and binary -------------------------

def _legacy_action(action: str, body: dict):
    _authorize('update')
    actions = {'enable': _enable, 'disable': _disable,
               'disable-log-reason': _disable_log_reason}
    if g.want.at_least(2, 11):
        actions['force-down'] = _force_down
    if action not in actions:
        raise errors.NotFound('Unknown action')
    return jsonify({'service': actions[action](body)})


def _set(body: dict, values: dict) -> None:
    """Update the service named by host and binary (only compute services)."""
    host, binary = body['host'], body['binary']
    _only_compute(binary)
    with session.transaction() as s:
        try:
            service = service_db.get_by_host_and_binary(s, host, views.stored_binary(binary))
        except service_db.HostBinaryNotFound as exc:
            # Nova looks the host up in its host mappings first, which only compute
            # hosts have: a host without a compute service is not mapped.
            raise errors.NotFound(f"Host '{host}' is not mapped to any cell") from exc
        service_db.update(s, service, values)


def _enable(body: dict) -> dict:
    _set(body, {'disabled': False, 'disabled_reason': None})
    return {'host': body['host'], 'binary': body['binary'], 'status': 'enabled'}


def _disable(body: dict, reason: str | None = None) -> dict:
    _set(body, {'disabled': True, 'disabled_reason': reason})
    view = {'host': body['host'], 'binary': body['binary'], 'status': 'disabled'}
    if reason:
        view['disabled_reason'] = reason
    return view


def _disable_log_reason(body: dict) -> dict:
    if 'disabled_reason' not in body:
        raise errors.BadRequest('Missing disabled reason field')
    return _disable(body, body['disabled_reason'])


def _force_down(body: dict) -> dict:
    if 'forced_down' not in body:
        raise errors.BadRequest('Missing forced_down field')
    forced_down = strutils.bool_from_string(body['forced_down'])
    _set(body, {'forced_down': forced_down})
    return {'host': body['host'], 'binary': body['binary'], 'forced_down': forced_down}


# --- DELETE ------------------------------------------------------------------------------

@bp.delete('/os-services/<service_id>')
def delete_service(service_id: str):
    _authorize('delete')
    by_uuid = g.want.at_least(2, 53)
    if by_uuid and not uuidutils.is_uuid_like(service_id):
        raise errors.BadRequest(f'Invalid uuid {service_id}')
    if not by_uuid and path_ids.integer_id(service_id) is None:
        raise errors.BadRequest('Invalid input received: id must be an integer')
    with session.transaction() as s:
        try:
            if by_uuid:
                service = service_db.get_by_uuid(s, service_id)
            else:
                number = path_ids.integer_id(service_id)
                if not path_ids.fits(number):
                    raise service_db.ServiceNotFound(service_id=service_id)
                service = service_db.get_by_id(s, number)
        except service_db.ServiceNotFound as exc:
            raise errors.NotFound(f'Service {service_id} not found.') from exc
        try:
            service_db.delete(s, service)
        except service_db.ServiceHostsInstances as exc:
            raise errors.Conflict(exc.msg) from exc
    return '', 204
