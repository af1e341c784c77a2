"""evacuate (admin): a server whose host is down, rebuilt on another host, as Nova's.

Nova's checks, words and order (its evacuate controller, then its compute API's
evacuate): the policy; before 2.14 onSharedStorage (and no adminPass with it); from
2.29 to 2.67 force, which needs a host; the given host must be a compute host (404)
other than the server's (400); the server ACTIVE, STOPPED or ERROR with no task
(409; a lock is no obstacle, as Nova's does not check it); its host's compute service
down (400 "Compute service of <host> is still in use."). Then, in one transaction,
task_state rebuilding, the instance action `evacuate` and a migration of type
`evacuation` (accepted), which takes over the server's claim on its host; the
conductor schedules and drives the rest (kumo_conductor.evacuating).

The answer is a 200 (not 202, as Nova's): before 2.14 with the server's new adminPass
when [api] enable_instance_password, else empty. From 2.95 the server ends STOPPED
unless it was in ERROR (then ACTIVE, as Nova's); before, a STOPPED server ends
STOPPED and any other ACTIVE.
"""
from __future__ import annotations

import uuid as uuidlib

from flask import g, jsonify
from oslo_config import cfg
from oslo_log import log as logging

from kumo_api import compute_api, errors, policy, rpc_clients
from kumo_api.actions import lifecycle
from kumo_api.schemas import types
from kumo_common import lifecycle as actions
from kumo_common import states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_common.db import server_migrations as migration_db
from kumo_common.db import services as service_db

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
task = states.task


def _compute_service(s, host: str | None) -> models.Service | None:
    if not host:
        return None
    return s.query(models.Service).filter_by(host=host,
                                             binary=service_db.COMPUTE_BINARY).first()


def evacuate(instance: models.Instance, body: dict):
    ctxt = g.context
    want = g.want
    policy.authorize(ctxt, 'os_compute_api:os-evacuate',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})
    host = body.get('host')
    on_shared_storage = None if want.at_least(2, 14) \
        else types.to_bool(body['onSharedStorage'])
    force = False
    if want.at_least(2, 29) and not want.at_least(2, 68):
        force = types.to_bool(body.get('force', False))
        if force and not host:
            raise errors.BadRequest("Can't force to a non-provided destination")
    if want.at_least(2, 14):
        password = body['adminPass'] if 'adminPass' in body \
            else compute_api.generate_password()
    elif 'adminPass' in body:
        if on_shared_storage:
            raise errors.BadRequest("admin password can't be changed on existing disk")
        password = body['adminPass']
    else:
        password = None if on_shared_storage else compute_api.generate_password()
    with session.reader() as s:
        if host is not None and _compute_service(s, host) is None:
            raise errors.NotFound(f'Compute host {host} not found.')
    if instance.host == host:
        raise errors.BadRequest("The target host can't be the same one.")
    spec = actions.get('evacuate')
    lifecycle.check(ctxt, instance, spec, 'evacuate', check_lock=False)
    with session.reader() as s:
        source = _compute_service(s, instance.host)
        if source is None:
            raise errors.NotFound(f'Compute host {instance.host} could not be found.')
        if service_db.is_up(source, CONF.service_down_time):
            LOG.error('Instance compute service state on %s expected to be down, but it '
                      'was up.', instance.host)
            raise errors.BadRequest(f'Compute service of {instance.host} is still in '
                                    'use.')
    # Nova's 2.95: evacuated servers end stopped, but for one in ERROR (its compute
    # ignores the target state then: it ends ACTIVE); before, a stopped one stays so.
    start = not (instance.vm_state == states.STOPPED or (
        want.at_least(2, 95) and instance.vm_state != states.ERROR))
    migration_uuid = str(uuidlib.uuid4())
    with session.transaction() as s:
        values = {'task_state': task.REBUILDING}
        if password is not None:
            values['admin_password'] = password
        if not instance_db.update_if(s, instance.uuid, values,
                                     expected_task_state=spec.allowed_task_states,
                                     expected_vm_state=spec.allowed_vm_states):
            fresh = instance_db.get_instance(s, instance.uuid)
            if fresh.vm_state not in spec.allowed_vm_states:
                raise lifecycle.invalid_state('evacuate', fresh, 'vm_state',
                                              fresh.vm_state)
            raise lifecycle.invalid_state('evacuate', fresh, 'task_state',
                                          fresh.task_state)
        instance_db.start_action(s, instance.uuid, 'evacuate', ctxt)
        fresh = instance_db.get_instance(s, instance.uuid)
        # (Its user and project are the caller's, as Nova's.)
        migration_db.create_evacuation(s, fresh, ctxt, migration_uuid, host)
    LOG.info('Evacuation of instance %s from %s requested (migration %s%s)',
             instance.uuid, instance.host, migration_uuid,
             f', to {host}{" (forced)" if force else ""}' if host else '')
    rpc_clients.conductor().evacuate_server(ctxt, instance.uuid, migration_uuid, host,
                                            force, start,
                                            on_shared_storage=bool(on_shared_storage))
    if not want.at_least(2, 14) and CONF.api.enable_instance_password:
        return jsonify({'adminPass': password}), 200
    return '', 200
