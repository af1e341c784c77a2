"""The scheduler explain API (Kumo additions, admin): a server's scheduling report,
a dry run of a create request, and the scheduler's capabilities.

    GET  /servers/{server_id}/scheduling-report
    POST /scheduler/dry-run          (body of POST /servers)
    GET  /scheduler/capabilities
"""
from __future__ import annotations

import oslo_messaging as messaging
from flask import Blueprint, g, jsonify

from kumo_api import errors, policy, rpc_clients, scheduling, validation
from kumo_api.schemas import scheduler as schemas
from kumo_api.views import scheduler as views
from kumo_common import exceptions
from kumo_common.db import instances as instance_db
from kumo_common.db import scheduling as sched_db
from kumo_common.db import session

bp = Blueprint('scheduler', __name__)


@bp.get('/servers/<server_id>/scheduling-report')
def scheduling_report(server_id: str):
    ctxt = g.context
    policy.authorize(ctxt, 'os_compute_api:servers:scheduling_report')
    with session.reader() as s:
        try:
            instance_db.get_instance(s, server_id)
        except exceptions.InstanceNotFound as exc:
            raise errors.NotFound(f'Instance {server_id} could not be found.') from exc
        rows = sched_db.reports(s, server_id)
    if not rows:
        raise errors.NotFound(f'No scheduling report for instance {server_id} (it has not '
                              'been scheduled yet).')
    return jsonify({'scheduling_report': views.report_view(rows[-1], len(rows))})


@bp.post('/scheduler/dry-run')
def dry_run():
    ctxt = g.context
    body = validation.json_body()
    validation.validate(body, validation.schema_for(schemas.DRY_RUN, g.want))
    policy.authorize(ctxt, 'os_compute_api:scheduler:dry_run')
    server = body['server']
    min_count = int(server.get('min_count', 1))
    if min_count > int(server.get('max_count', min_count)):
        raise errors.BadRequest('min_count must be <= max_count')
    hints = body.get('os:scheduler_hints', body.get('OS-SCH-HNT:scheduler_hints', {}))
    with session.reader() as s:
        spec = scheduling.dry_run_spec(s, ctxt, server, hints)
    try:
        result = rpc_clients.scheduler().dry_run(ctxt, spec)
    except messaging.MessagingTimeout as exc:
        raise errors.APIError('The scheduler did not answer.', 503) from exc
    placed = len(result.selected_hosts) == len(spec.instance_uuids)
    return jsonify({'dry_run': {
        'result': 'placed' if placed else 'no_valid_host',
        'summary': result.reports[-1]['summary'] if result.reports else '',
        'hosts': result.selected_hosts,
        'ranked_hosts': [{'host': w['host'], 'node': w['node'], 'weight': w['weight']}
                         for w in (result.reports[0]['weights'] if result.reports else [])],
        'reports': result.reports,
    }})


@bp.get('/scheduler/capabilities')
def capabilities():
    policy.authorize(g.context, 'os_compute_api:scheduler:capabilities')
    return jsonify({'capabilities': views.capabilities(scheduling.hints_view())})
