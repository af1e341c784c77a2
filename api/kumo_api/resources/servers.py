"""The servers resource: /servers, /servers/detail, /servers/{id}."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from oslo_config import cfg

from kumo_api import (
    block_devices,
    compute_api,
    errors,
    lifecycle,
    paging,
    policy,
    server_filters,
    validation,
)
from kumo_api.schemas import servers as schemas
from kumo_api.schemas import types
from kumo_api.views import links
from kumo_api.views import servers as views
from kumo_common import exceptions
from kumo_common.db import instances as instance_db
from kumo_common.db import keyset, models, server_views, session

CONF = cfg.CONF
bp = Blueprint('servers', __name__)

# Sort keys Nova accepts (2.1-2.72), and those it accepts but ignores before 2.75.
_SORT_KEYS = {
    'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'availability_zone',
    'config_drive', 'created_at', 'display_description', 'display_name', 'host',
    'hostname', 'image_ref', 'instance_type_id', 'kernel_id', 'key_name', 'launch_index',
    'launched_at', 'locked_by', 'node', 'power_state', 'progress', 'project_id',
    'ramdisk_id', 'root_device_name', 'task_state', 'terminated_at', 'updated_at',
    'user_id', 'uuid', 'vm_state'}
_IGNORED_SORT_KEYS = {
    'architecture', 'cell_name', 'cleaned', 'default_ephemeral_device',
    'default_swap_device', 'deleted', 'deleted_at', 'disable_terminate', 'ephemeral_gb',
    'ephemeral_key_uuid', 'id', 'key_data', 'launched_on', 'locked', 'memory_mb',
    'os_type', 'reservation_id', 'root_gb', 'shutdown_terminate', 'user_data', 'vcpus',
    'vm_mode'}


def _audience() -> views.Audience:
    ctxt = g.context
    return views.Audience(
        extended_attributes=policy.authorize(
            ctxt, 'os_compute_api:os-extended-server-attributes', fatal=False),
        host_status=policy.authorize(ctxt, 'os_compute_api:servers:show:host_status',
                                     fatal=False))


def get_instance(server_id: str, s, for_view: bool = False) -> models.Instance:
    """The caller's live server (404 otherwise). `for_view`: without its
    relationships, which the views read in batch (views.load_related)."""
    ctxt = g.context
    try:
        instance = (server_views.instance(s, server_id) if for_view
                    else instance_db.get_instance(s, server_id))
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
        access_ip_v4=server.get('accessIPv4'), access_ip_v6=server.get('accessIPv6'),
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


def _project_scope(ctxt, last: dict, detail: bool) -> list:
    """Without all_tenants every caller sees its own project only; with it (admin)
    tenant_id/project_id narrow the projects."""
    raw = last.get('all_tenants')
    all_tenants = 'all_tenants' in last and (raw == '' or server_filters.strict_bool(
        'all_tenants', raw))
    if not all_tenants:
        return [models.Instance.project_id == ctxt.project_id]
    policy.authorize(ctxt, f"os_compute_api:servers:{'detail' if detail else 'index'}"
                           ':get_all_tenants')
    project = last.get('project_id') or last.get('tenant_id')
    return [models.Instance.project_id == project] if project else []


def _sort(ctxt, want, params: dict) -> list:
    keys = params.get('sort_key') or []
    dirs = params.get('sort_dir') or []
    if len(dirs) > len(keys) and keys:
        raise errors.BadRequest('Sort direction size exceeds sort key size')
    order = []
    for i, key in enumerate(keys):
        direction = dirs[i] if i < len(dirs) else ('desc' if not dirs else 'asc')
        if direction not in ('asc', 'desc'):
            raise errors.BadRequest('Unknown sort direction, must be one of: asc, desc')
        if key == 'locked' and want.at_least(2, 73):
            column = models.Instance.locked
        elif key in _SORT_KEYS:
            column = getattr(models.Instance, key)
            if key in ('host', 'node') and not ctxt.is_admin_role:
                raise errors.Forbidden(f"Policy doesn't allow sort_key={key} to be "
                                       'performed.')
        elif key in _IGNORED_SORT_KEYS and not want.at_least(2, 75):
            continue
        else:
            raise errors.BadRequest(f'Invalid input for query parameters sort_key. '
                                    f'Value: {key}.')
        order.append(column.desc() if direction == 'desc' else column.asc())
    if not order:
        order.append(models.Instance.created_at.desc())
    # Stable order for paging: Nova's tie-breakers.
    order.extend([models.Instance.uuid.asc(), models.Instance.id.desc()])
    return order


# Nova's default order (created_at desc, then its uuid tie-breaker), as keyset keys.
_DEFAULT_KEYS = [(keyset.SortKey(models.Instance.created_at), 'desc'),
                 (keyset.SortKey(models.Instance.uuid), 'asc')]


def _page_after(s, query, marker: str, limit: int) -> list:
    """The page after `marker` in the default order, found with a WHERE on the sort
    keys rather than by reading every row before it (pages of a 10,000-server
    project cost the same). The marker must be among the listed servers."""
    listed = s.scalar(query.with_only_columns(models.Instance.id)
                      .where(models.Instance.uuid == marker).order_by(None))
    after = keyset.after(s, query, _DEFAULT_KEYS, models.Instance.uuid, marker) \
        if listed is not None else None
    if after is None:
        raise errors.BadRequest(f'marker [{marker}] not found')
    return list(s.scalars(after.limit(limit)))


def _list(detail: bool):
    ctxt = g.context
    want = g.want
    policy.authorize(ctxt, f"os_compute_api:servers:{'detail' if detail else 'index'}")
    params = validation.validate_query(server_filters.query_schema(want))
    params = server_filters.allowed_params(ctxt, want, params)
    last = {k: v[-1] for k, v in params.items() if v}
    limit = paging.page_limit(last)
    audience = _audience() if detail else None
    # user_data only where a view shows it (admins' OS-EXT-SRV-ATTR:user_data).
    user_data = bool(audience and audience.extended_attributes and want.at_least(2, 3))
    with session.reader() as s:
        filters = server_filters.build(ctxt, want, params, s)
        query = server_views.instances_query(user_data).where(
            *_project_scope(ctxt, last, detail), *filters.conditions)
        instances: list = []
        if not filters.empty:
            matching = server_filters.regex_matching_ids(s, query, filters)
            if matching is not None:
                query = query.where(models.Instance.id.in_(matching or [-1]))
            query = query.order_by(*_sort(ctxt, want, params))
            marker = last.get('marker')
            if marker and not params.get('sort_key'):
                instances = _page_after(s, query, marker, limit)
            elif marker:
                # Walk only (id, uuid) pairs to find the page, then load its rows.
                pairs = s.execute(query.with_only_columns(models.Instance.id,
                                                          models.Instance.uuid)).all()
                page = paging.after_marker(pairs, marker, lambda p: p[1], limit)
                by_id = {i.id: i for i in s.scalars(server_views.instances_query(
                    user_data).where(models.Instance.id.in_([p[0] for p in page])))}
                instances = [by_id[p[0]] for p in page]
            else:
                instances = list(s.scalars(query.limit(limit)))
        elif last.get('marker'):
            raise errors.BadRequest(f"marker [{last['marker']}] not found")
        if detail:
            related = views.load_related(s, instances, want, audience)
            items = [views.server_view(i, want, related, audience) for i in instances]
        else:
            items = [views.server_minimal(i) for i in instances]
    body = {'servers': items}
    body.update(paging.next_links(request.args, instances, limit,
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
        instance = get_instance(server_id, s, for_view=True)
        policy.authorize(ctxt, 'os_compute_api:servers:show',
                         {'project_id': instance.project_id, 'user_id': instance.user_id})
        audience = _audience()
        related = views.load_related(s, [instance], g.want, audience, show=True)
        view = views.server_view(instance, g.want, related, audience, show=True)
    return jsonify({'server': view})


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
