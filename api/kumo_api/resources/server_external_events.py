"""POST /os-server-external-events: what other services (Neutron, Cinder, Ironic, Cyborg)
tell Kumo about its servers, as Nova's API takes it (admin or service role).

Each event is answered on its own, echoed with a `code` and a `status`: 200
"completed" once accepted; "failed" with 404 for a server the database does not know,
400 for an event that needs a tag and has none (volume-extended, power-update,
accelerator-request-bound), 422 for a server not on a host yet (Nova could not tell a
compute host). The response is 200 when every event was accepted, else 207 (even when
none was, as Nova's since bug 1855752). A deleted server the database still keeps is
known, as in Nova (Neutron tells of its ports after the delete); its events change
nothing. What an accepted event does: kumo_api.actions.external_events.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify
from oslo_log import log as logging

from kumo_api import policy, validation
from kumo_api.actions import external_events
from kumo_api.schemas import server_external_events as schemas
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session

LOG = logging.getLogger(__name__)
bp = Blueprint('server_external_events', __name__)

RULE = 'os_compute_api:os-server-external-events:create'


def _code(instance: models.Instance | None, event: dict) -> int:
    """The answer to one event about `instance` (None: unknown), in Nova's order."""
    if instance is None:
        return 404
    if event['name'] in schemas.TAG_REQUIRED and event.get('tag') is None:
        return 400
    return 200 if instance.host else 422


@bp.post('/os-server-external-events')
def create_events():
    ctxt = g.context
    body = validation.json_body()
    validation.validate_versioned(body, schemas.CREATE, g.want)
    policy.authorize(ctxt, RULE, {})
    events = body['events']
    with session.reader() as s:
        instances = instance_db.by_uuids(s, sorted({e['server_uuid'] for e in events}))
    answers, accepted = [], []
    for event in events:
        instance = instances.get(event['server_uuid'])
        code = _code(instance, event)
        answers.append({**event, 'code': code,
                        'status': 'completed' if code == 200 else 'failed'})
        if code == 200:
            accepted.append((instance, event['name'], event.get('tag')))
        LOG.info('Event %s:%s for instance %s %s (%d)', event['name'], event.get('tag'),
                 event['server_uuid'], 'accepted' if code == 200 else 'dropped', code)
    external_events.process(ctxt, accepted)
    failed = any(answer['code'] != 200 for answer in answers)
    return jsonify({'events': answers}), 207 if failed else 200
