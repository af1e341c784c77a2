"""The os-hypervisors resource: compute nodes with their usage and servers."""
from __future__ import annotations

import oslo_messaging as messaging
from flask import Blueprint, g, jsonify, request
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import strutils, uuidutils

from kumo_api import errors, paging, path_ids, policy, rpc_clients, validation
from kumo_api.schemas import hypervisors as schemas
from kumo_api.views import hypervisors as views
from kumo_common.db import hypervisors as hypervisor_db
from kumo_common.db import models, session
from kumo_common.db import services as service_db

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
bp = Blueprint('hypervisors', __name__)

_RULE = 'os_compute_api:os-hypervisors:%s'


def _authorize(action: str) -> None:
    policy.authorize(g.context, _RULE % action, {})


def _not_found_at_this_version():
    return errors.NotFound('The resource could not be found.')


def _up(service: models.Service) -> bool:
    return service_db.is_up(service, CONF.service_down_time)


def _views(s, rows, detail: bool, with_servers: bool) -> list[dict]:
    nodes = [node for node, _service in rows]
    usage = hypervisor_db.usage(s, nodes) if detail else {}
    servers = (hypervisor_db.servers_by_host(s, {n.host for n in nodes})
               if with_servers else {})
    # From 2.88 a detailed view shows the host's uptime, asked of its agent as Nova
    # asks its compute service.
    uptimes = ({node.host: _uptime_or_none(node, service) for node, service in rows}
               if detail and g.want.at_least(2, 88) else {})
    return [views.hypervisor_view(node, service, g.want, _up(service), detail=detail,
                                  usage=usage.get(node.id),
                                  servers=servers.get(node.host) if with_servers else None,
                                  with_servers=with_servers, uptime=uptimes.get(node.host))
            for node, service in rows]


def _uptime_or_none(node: models.ComputeNode, service: models.Service) -> str | None:
    """The host's `uptime` line; None, as Nova shows it, when the agent is down or
    does not answer, or its driver cannot tell."""
    if not _up(service):
        return None
    try:
        return rpc_clients.compute().get_host_uptime(g.context, node.host)
    except messaging.MessagingTimeout:
        LOG.warning('Compute agent %s did not answer get_host_uptime', node.host)
        return None


def _list(detail: bool):
    want = g.want
    if want.at_least(2, 53):
        params = validation.validate_query(schemas.INDEX_253)
    elif want.at_least(2, 33):
        params = validation.validate_query(schemas.INDEX_233)
    else:
        params = {}
    _authorize('list-detail' if detail else 'list')
    pattern = (params.get('hypervisor_hostname_pattern') or [None])[-1]
    with_servers = strutils.bool_from_string((params.get('with_servers') or ['0'])[-1],
                                             strict=True)
    paged = want.at_least(2, 33)
    limit = paging.page_limit(request.args) if paged else None
    marker = request.args.get('marker') if paged else None
    body: dict = {}
    with session.reader() as s:
        if pattern is not None:
            if 'limit' in request.args or marker:
                # Paging over a hostname pattern is not supported; Nova hands its
                # sentence to webob as the detail, so the 400 says webob's words.
                raise errors.BadRequest('The server could not comply with the request '
                                        'since it is either malformed or otherwise '
                                        'incorrect.')
            rows = _search(s, pattern)
        else:
            try:
                rows = hypervisor_db.list_nodes(s, limit=limit, marker=marker,
                                                marker_is_uuid=want.at_least(2, 53))
            except hypervisor_db.MarkerNotFound as exc:
                raise errors.BadRequest(exc.msg) from exc
        body['hypervisors'] = _views(s, rows, detail, with_servers)
    if paged and pattern is None:
        body.update(paging.next_links(
            request.args, body['hypervisors'], limit,
            'os-hypervisors/detail' if detail else 'os-hypervisors',
            lambda view: view['id'], 'hypervisors_links'))
    return jsonify(body)


def _search(s, pattern: str):
    rows = hypervisor_db.search_nodes(s, pattern)
    if not rows:
        raise errors.NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return rows


@bp.get('/os-hypervisors')
def list_hypervisors():
    return _list(detail=False)


@bp.get('/os-hypervisors/detail')
def list_hypervisors_detail():
    return _list(detail=True)


def _get(s, hypervisor_id: str):
    """The node and its service; 400 for a malformed id from 2.53, 404 otherwise."""
    by_uuid = g.want.at_least(2, 53)
    missing = errors.NotFound(f"Hypervisor with ID '{hypervisor_id}' could not be found.")
    if by_uuid:
        if not uuidutils.is_uuid_like(hypervisor_id):
            raise errors.BadRequest(f'Invalid uuid {hypervisor_id}')
    else:
        number = path_ids.integer_id(hypervisor_id)
        if number is None or not path_ids.fits(number):
            raise missing
        hypervisor_id = str(number)
    row = hypervisor_db.get_node(s, hypervisor_id, by_uuid=by_uuid)
    if row is None:
        raise missing
    return row


@bp.get('/os-hypervisors/<hypervisor_id>')
def show_hypervisor(hypervisor_id: str):
    with_servers = False
    if g.want.at_least(2, 53):
        params = validation.validate_query(schemas.SHOW_253)
        with_servers = strutils.bool_from_string(
            (params.get('with_servers') or ['0'])[-1], strict=True)
    _authorize('show')
    with session.reader() as s:
        row = _get(s, hypervisor_id)
        view = _views(s, [row], detail=True, with_servers=with_servers)[0]
    return jsonify({'hypervisor': view})


@bp.get('/os-hypervisors/<hypervisor_id>/uptime')
def hypervisor_uptime(hypervisor_id: str):
    if g.want.at_least(2, 88):
        raise _not_found_at_this_version()
    _authorize('uptime')
    with session.reader() as s:
        node, service = _get(s, hypervisor_id)
    if not _up(service):
        raise errors.BadRequest(f'Compute service of {node.host} is unavailable at this '
                                'time.')
    # The agent asks its driver: libvirt's says what `uptime` prints; the fake one
    # cannot tell (as Nova's), and the API answers 501 as Nova does then.
    uptime = rpc_clients.compute().get_host_uptime(g.context, node.host)
    if uptime is None:
        raise errors.APIError('The requested functionality is not supported.', code=501)
    view = views.hypervisor_view(node, service, g.want, up=True)
    view['uptime'] = uptime
    return jsonify({'hypervisor': view})


@bp.get('/os-hypervisors/statistics')
def hypervisor_statistics():
    if g.want.at_least(2, 88):
        raise _not_found_at_this_version()
    _authorize('statistics')
    with session.reader() as s:
        totals = hypervisor_db.statistics(s)
    return jsonify(views.statistics_view(totals))


@bp.get('/os-hypervisors/<pattern>/search')
def search_hypervisors(pattern: str):
    if g.want.at_least(2, 53):
        raise _not_found_at_this_version()
    _authorize('search')
    with session.reader() as s:
        return jsonify({'hypervisors': _views(s, _search(s, pattern), detail=False,
                                              with_servers=False)})


@bp.get('/os-hypervisors/<pattern>/servers')
def hypervisor_servers(pattern: str):
    if g.want.at_least(2, 53):
        raise _not_found_at_this_version()
    _authorize('servers')
    with session.reader() as s:
        return jsonify({'hypervisors': _views(s, _search(s, pattern), detail=False,
                                              with_servers=True)})
