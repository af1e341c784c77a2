"""The servers resource: /servers, /servers/detail, /servers/{id}."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from oslo_config import cfg

from kumo_api import (
    block_devices,
    compute_api,
    errors,
    fast_json,
    paging,
    policy,
    server_filters,
    validation,
)
from kumo_api.actions import lifecycle
from kumo_api.schemas import servers as schemas
from kumo_api.schemas import types
from kumo_api.views import links
from kumo_api.views import servers as views
from kumo_common import exceptions
from kumo_common.db import instances as instance_db
from kumo_common.db import models, server_list, server_views, session

CONF = cfg.CONF
bp = Blueprint('servers', __name__)

def _audience() -> views.Audience:
    ctxt = g.context
    return views.Audience(
        extended_attributes=policy.authorize(
            ctxt, 'os_compute_api:os-extended-server-attributes', fatal=False),
        host_status=policy.authorize(ctxt, 'os_compute_api:servers:show:host_status',
                                     fatal=False))


def get_instance(server_id: str, s, for_view: bool = False) -> models.Instance:
    """The caller's live server (404 otherwise). `for_view`: a ServerRow of the
    columns the views show, without its relationships, which the views read in
    batch (views.load_related)."""
    try:
        instance = (server_views.instance(s, server_id) if for_view
                    else instance_db.get_instance(s, server_id))
    except exceptions.InstanceNotFound as exc:
        raise errors.NotFound(f'Instance {server_id} could not be found.') from exc
    _check_visible(server_id, instance)
    return instance


def _check_visible(server_id: str, instance) -> None:
    """404 unless the caller may see this live server."""
    ctxt = g.context
    if instance.project_id != ctxt.project_id and not ctxt.is_admin_role:
        raise errors.NotFound(f'Instance {server_id} could not be found.')
    # A deleted server is gone for show/delete (as Nova: only lists can see it).
    if instance.deleted:
        raise errors.NotFound(f'Instance {server_id} could not be found.')


@bp.post('/servers')
def create_server():
    want = g.want
    body = validation.json_body()
    validation.validate_versioned(body, schemas.CREATE, want)
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
    bdms = block_devices.from_request(server)
    if bdms or server.get('block_device_mapping'):
        policy.authorize(ctxt, 'os_compute_api:servers:create:attach_volume')
    hints = body.get('os:scheduler_hints', body.get('OS-SCH-HNT:scheduler_hints', {}))
    disk_config = server.get('OS-DCF:diskConfig')
    req = compute_api.CreateRequest(
        name=server['name'], flavor_ref=str(server['flavorRef']),
        image_ref=server.get('imageRef', ''), networks=networks, min_count=min_count,
        max_count=max_count, description=server.get('description'),
        metadata=server.get('metadata', {}), user_data=server.get('user_data'),
        admin_pass=server.get('adminPass'), key_name=server.get('key_name'),
        availability_zone=server.get('availability_zone'),
        config_drive=types.to_bool(server.get('config_drive', False)),
        access_ip_v4=validation.canonical_ip(server.get('accessIPv4')),
        access_ip_v6=validation.canonical_ip(server.get('accessIPv6')),
        auto_disk_config=None if disk_config is None else disk_config == 'AUTO',
        hostname=server.get('hostname'), tags=server.get('tags', []),
        trusted_certs=server.get('trusted_image_certificates'),
        scheduler_hints=hints, description_from_name=not want.at_least(2, 19),
        requested_host=server.get('host'),
        requested_node=server.get('hypervisor_hostname'),
        block_device_mappings=bdms, security_groups=_security_group_names(server),
        personality=_personality(server))
    compute_api.decode_user_data(req.user_data)
    result = compute_api.create_servers(ctxt, req)

    if types.to_bool(server.get('return_reservation_id', False)):
        return jsonify({'reservation_id': result.reservation_id}), 202
    first = result.instance_uuids[0]
    view = {
        'id': first,
        'links': links.resource_links('servers', first),
        'OS-DCF:diskConfig': 'AUTO' if result.auto_disk_config else 'MANUAL',
        # The request's list as sent (Nova echoes it before Neutron knows of it).
        'security_groups': server.get('security_groups', [{'name': 'default'}]),
    }
    if CONF.api.enable_instance_password:
        view['adminPass'] = result.admin_pass
    response = jsonify({'server': view})
    response.status_code = 202
    response.headers['Location'] = links.resource_links('servers', first)[0]['href']
    return response


def _security_group_names(server: dict) -> list[str]:
    """Requested group names (or ids), duplicates dropped; none means 'default'."""
    names = [sg['name'] for sg in server.get('security_groups') or [] if sg.get('name')]
    return list(dict.fromkeys(names)) or ['default']


def _personality(server: dict) -> list[tuple[str, str]]:
    """(path, contents) of each personality file (2.1-2.56), contents still base64."""
    files = []
    for item in server.get('personality') or []:
        for key in ('path', 'contents'):
            if key not in item:
                raise errors.BadRequest(f'Bad personality format: missing {key}')
        files.append((item['path'], item['contents']))
    return files


def _list(detail: bool):
    ctxt = g.context
    want = g.want
    policy.authorize(ctxt, f"os_compute_api:servers:{'detail' if detail else 'index'}")
    params = validation.validate_query(server_filters.query_schema(want))
    params = server_filters.allowed_params(ctxt, want, params)
    last = {k: v[-1] for k, v in params.items() if v}
    limit = paging.page_limit(last)
    audience = _audience() if detail else None
    query = server_filters.build(ctxt, want, params, detail)
    query.limit = limit
    query.marker = last.get('marker')
    # user_data only where a view shows it (admins' OS-EXT-SRV-ATTR:user_data).
    query.columns = server_views.columns(
        user_data=bool(audience and audience.extended_attributes and want.at_least(2, 3)),
        minimal=not detail)
    with session.statement_connection() as s:
        instances = server_list.page(s, query)
        if detail:
            related = views.load_related(s, instances, want, audience)
            items = views.server_views_of(instances, want, related, audience)
            plain = related.plain
        else:
            at = links.prefixes()
            items = [views.server_minimal(i, at) for i in instances]
            plain = True
    body = {'servers': items}
    body.update(paging.next_links(request.args, instances, limit,
                                  'servers/detail' if detail else 'servers',
                                  lambda i: i.uuid, 'servers_links'))
    return fast_json.response(body, plain)


@bp.get('/servers')
def list_servers():
    return _list(detail=False)


@bp.get('/servers/detail')
def list_servers_detail():
    return _list(detail=True)


@bp.get('/servers/<server_id>')
def show_server(server_id: str):
    ctxt = g.context
    want = g.want
    with session.statement_connection() as s:
        # The server and what hangs off it in one round trip (its faults and its
        # host's service, when its view shows them, in one more each).
        try:
            instance, rows = server_views.show(
                s, server_id, hints=want.at_least(2, 100),
                groups=want.at_least(2, 71), images=want.at_least(2, 98))
        except exceptions.InstanceNotFound as exc:
            raise errors.NotFound(f'Instance {server_id} could not be found.') from exc
        _check_visible(server_id, instance)
        policy.authorize(ctxt, 'os_compute_api:servers:show',
                         {'project_id': instance.project_id, 'user_id': instance.user_id})
        audience = _audience()
        related = views.complete_related(s, [instance], want, audience, rows)
        view = views.server_view(instance, want, related, audience, show=True)
    return fast_json.response({'server': view}, related.plain)


# PUT body field -> instance column.
_UPDATABLE = {'name': 'display_name', 'description': 'display_description',
              'accessIPv4': 'access_ip_v4', 'accessIPv6': 'access_ip_v6',
              'hostname': 'hostname'}


@bp.put('/servers/<server_id>')
def update_server(server_id: str):
    ctxt = g.context
    want = g.want
    body = validation.json_body()
    validation.validate_versioned(body, schemas.UPDATE, want)
    changes = body['server']
    values = {column: changes[field] for field, column in _UPDATABLE.items()
              if field in changes}
    for column in ('access_ip_v4', 'access_ip_v6'):
        if column in values:
            values[column] = validation.canonical_ip(values[column])
    if 'OS-DCF:diskConfig' in changes:
        values['auto_disk_config'] = changes['OS-DCF:diskConfig'] == 'AUTO'
    with session.transaction() as s:
        instance = get_instance(server_id, s, for_view=True)
        policy.authorize(ctxt, 'os_compute_api:servers:update',
                         {'project_id': instance.project_id, 'user_id': instance.user_id})
        # Not lock-checked, as Nova: renaming a locked server is allowed.
        if values:
            instance_db.update_if(s, instance.uuid, values)
    with session.reader() as s:
        instance = get_instance(server_id, s, for_view=True)
        audience = _audience()
        related = views.load_related(s, [instance], want, audience, show=True)
        if want.at_least(2, 75):
            view = views.server_view(instance, want, related, audience, show=True)
        else:
            view = views.basic_server_view(instance, want, related, audience)
    return jsonify({'server': view})


@bp.delete('/servers/<server_id>')
def delete_server(server_id: str):
    ctxt = g.context
    with session.reader() as s:
        instance = get_instance(server_id, s)
    policy.authorize(ctxt, 'os_compute_api:servers:delete',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})
    lifecycle.check_not_locked(ctxt, instance)
    compute_api.delete_server(ctxt, instance)
    return '', 204
