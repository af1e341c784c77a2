"""The servers resource: /servers, /servers/detail, /servers/{id}."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, request
from oslo_config import cfg

from kumo_api import compute_api, errors, paging, policy, validation
from kumo_api.schemas import servers as schemas
from kumo_api.schemas import types
from kumo_api.views import links
from kumo_api.views import servers as views
from kumo_common import exceptions
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session

CONF = cfg.CONF
bp = Blueprint('servers', __name__)

_SORT_KEYS = {'created_at', 'updated_at', 'display_name', 'uuid', 'vm_state',
              'task_state', 'power_state', 'host', 'node', 'launched_at', 'project_id',
              'user_id', 'hostname', 'key_name', 'availability_zone', 'image_ref',
              'terminated_at', 'progress', 'launch_index', 'instance_type_id'}


def _audience() -> views.Audience:
    ctxt = g.context
    return views.Audience(
        extended_attributes=policy.authorize(
            ctxt, 'os_compute_api:os-extended-server-attributes', fatal=False),
        host_status=policy.authorize(ctxt, 'os_compute_api:servers:show:host_status',
                                     fatal=False))


def _get_instance(server_id: str, s) -> models.Instance:
    ctxt = g.context
    try:
        instance = instance_db.get_instance(s, server_id)
    except exceptions.InstanceNotFound as exc:
        raise errors.NotFound(f'Instance {server_id} could not be found.') from exc
    if instance.project_id != ctxt.project_id and not ctxt.is_admin_role:
        raise errors.NotFound(f'Instance {server_id} could not be found.')
    # A deleted server is gone for show/delete (as Nova: only lists can see it).
    if instance.deleted:
        raise errors.NotFound(f'Instance {server_id} could not be found.')
    return instance


@bp.post('/servers')
def create_server():
    want = g.want
    body = validation.json_body()
    validation.validate(body, validation.schema_for(schemas.CREATE, want))
    ctxt = g.context
    policy.authorize(ctxt, 'os_compute_api:servers:create')
    server = body['server']
    min_count = int(server.get('min_count', 1))
    max_count = int(server.get('max_count', min_count))
    if min_count > max_count:
        raise errors.BadRequest('min_count must be <= max_count')
    networks = server.get('networks')
    if max_count > 1:
        if isinstance(networks, list) and any(n.get('fixed_ip') or n.get('port')
                                              for n in networks):
            raise errors.BadRequest('Unable to launch multiple instances with a single '
                                    'configured port or fixed IP.')
        if server.get('hostname'):
            raise errors.BadRequest('Cannot provide a hostname when creating multiple '
                                    'instances.')
    if networks and networks not in ('auto', 'none'):
        policy.authorize(ctxt, 'os_compute_api:servers:create:attach_network')
        ports = [n['port'] for n in networks if n.get('port')]
        if len(ports) != len(set(ports)):
            raise errors.BadRequest('Port id(s) are duplicated in the requested networks.')
        for n in networks:
            if n.get('port') and n.get('fixed_ip'):
                raise errors.BadRequest('Port and fixed_ip cannot both be given.')
    hints = body.get('os:scheduler_hints', body.get('OS-SCH-HNT:scheduler_hints', {}))
    req = compute_api.CreateRequest(
        name=server['name'], flavor_ref=str(server['flavorRef']),
        image_ref=server.get('imageRef', ''), networks=networks, min_count=min_count,
        max_count=max_count, description=server.get('description'),
        metadata=server.get('metadata', {}), user_data=server.get('user_data'),
        admin_pass=server.get('adminPass'), key_name=server.get('key_name'),
        availability_zone=server.get('availability_zone'),
        config_drive=types.to_bool(server.get('config_drive', False)),
        access_ip_v4=server.get('accessIPv4'), access_ip_v6=server.get('accessIPv6'),
        auto_disk_config=server.get('OS-DCF:diskConfig', 'MANUAL') == 'AUTO',
        hostname=server.get('hostname'), tags=server.get('tags', []),
        trusted_certs=server.get('trusted_image_certificates'),
        scheduler_hints=hints, description_from_name=not want.at_least(2, 19))
    compute_api.decode_user_data(req.user_data)
    result = compute_api.create_servers(ctxt, req)

    if types.to_bool(server.get('return_reservation_id', False)):
        return jsonify({'reservation_id': result.reservation_id}), 202
    first = result.instance_uuids[0]
    view = {
        'id': first,
        'links': links.resource_links('servers', first),
        'OS-DCF:diskConfig': 'AUTO' if req.auto_disk_config else 'MANUAL',
        'security_groups': server.get('security_groups') or [{'name': 'default'}],
    }
    if CONF.api.enable_instance_password:
        view['adminPass'] = result.admin_pass
    response = jsonify({'server': view})
    response.status_code = 202
    response.headers['Location'] = links.resource_links('servers', first)[0]['href']
    return response


def _list_query(ctxt, args):
    """The instances a list call returns (before paging), scoped by project."""
    query = sa.select(models.Instance)
    all_tenants = 'all_tenants' in args and (args.get('all_tenants') == ''
                                             or types.to_bool(args.get('all_tenants')))
    if 'all_tenants' in args and args.get('all_tenants') not in ('',) and \
            str(args.get('all_tenants')).lower() not in {
                'true', '1', 'on', 'yes', 't', 'y', 'false', '0', 'off', 'no', 'f', 'n'}:
        raise errors.BadRequest('Invalid input for query parameters all_tenants. '
                                f"Value: {args.get('all_tenants')}.")
    if all_tenants:
        rule = 'detail' if request.path.endswith('/detail') else 'index'
        policy.authorize(ctxt, f'os_compute_api:servers:{rule}:get_all_tenants')
        project = args.get('project_id') or args.get('tenant_id')
        if project:
            query = query.where(models.Instance.project_id == project)
    else:
        query = query.where(models.Instance.project_id == ctxt.project_id)
    changes_since = args.get('changes-since')
    if not changes_since:
        query = query.where(models.Instance.deleted == 0)
    return query


def _sort(query, args):
    keys = args.getlist('sort_key') or ['created_at']
    dirs = args.getlist('sort_dir') or ['desc'] * len(keys)
    if len(dirs) > len(keys):
        raise errors.BadRequest('Sort direction size exceeds sort key size')
    order = []
    for i, key in enumerate(keys):
        if key not in _SORT_KEYS:
            raise errors.BadRequest(f'Invalid input for query parameters sort_key. '
                                    f'Value: {key}.')
        direction = dirs[i] if i < len(dirs) else 'asc'
        if direction not in ('asc', 'desc'):
            raise errors.BadRequest('Unknown sort direction, must be one of: asc, desc')
        column = getattr(models.Instance, key)
        order.append(column.desc() if direction == 'desc' else column.asc())
    order.append(models.Instance.id.desc())
    return query.order_by(*order)


def _list(detail: bool):
    ctxt = g.context
    policy.authorize(ctxt, f"os_compute_api:servers:{'detail' if detail else 'index'}")
    args = request.args
    limit = paging.page_limit(args)
    with session.reader() as s:
        query = _sort(_list_query(ctxt, args), args)
        marker = args.get('marker')
        if marker:
            instances = paging.after_marker(s.scalars(query).all(), marker,
                                            lambda i: i.uuid, limit)
        else:
            instances = list(s.scalars(query.limit(limit)))
        if detail:
            audience = _audience()
            related = views.load_related(s, instances, g.want, audience)
            items = [views.server_view(i, g.want, related, audience) for i in instances]
        else:
            items = [views.server_minimal(i) for i in instances]
    body = {'servers': items}
    body.update(paging.next_links(args, instances, limit,
                                  'servers/detail' if detail else 'servers',
                                  lambda i: i.uuid, 'servers_links'))
    return jsonify(body)


@bp.get('/servers')
def list_servers():
    return _list(detail=False)


@bp.get('/servers/detail')
def list_servers_detail():
    return _list(detail=True)


@bp.get('/servers/<server_id>')
def show_server(server_id: str):
    ctxt = g.context
    with session.reader() as s:
        instance = _get_instance(server_id, s)
        policy.authorize(ctxt, 'os_compute_api:servers:show',
                         {'project_id': instance.project_id, 'user_id': instance.user_id})
        audience = _audience()
        related = views.load_related(s, [instance], g.want, audience, show=True)
        view = views.server_view(instance, g.want, related, audience, show=True)
    return jsonify({'server': view})


@bp.delete('/servers/<server_id>')
def delete_server(server_id: str):
    ctxt = g.context
    with session.reader() as s:
        instance = _get_instance(server_id, s)
    policy.authorize(ctxt, 'os_compute_api:servers:delete',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})
    if instance.locked and not ctxt.is_admin_role:
        raise errors.Conflict(f'Instance {server_id} is locked')
    compute_api.delete_server(ctxt, instance)
    return '', 204
