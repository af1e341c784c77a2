"""os-migrateLive (admin): a running server moved to another host, as Nova's.

Nova's checks, words and order (its migrate_server controller, then its compute API's
live_migrate): the policy (migrate_live:host when a host is given); from 2.30 to 2.67
force, which needs a host; the server not locked (409; admins too, as Nova's
check_instance_lock) and ACTIVE or PAUSED with no task (409); a given host must be a
compute host (400). Then, in one transaction, task_state migrating (status
MIGRATING), the instance action `live-migration` and a migration of that type
(accepted), which takes over the server's claim on its host; the conductor checks,
schedules and drives the rest (kumo_conductor.live_migrating). Before 2.34 the API
waits for the conductor's checks and scheduling and answers their refusal as a 400
(Nova's synchronous pre-checks); from 2.34 it answers 202 at once, and a refusal is
the server's fault and the action's Error event.

block_migration is accepted as Nova's (and "auto" from 2.25); Kumo's hosts share no
storage, so every live migration copies the guest's disks.
"""
from __future__ import annotations

import uuid as uuidlib

from flask import g
from oslo_log import log as logging

from kumo_api import errors, policy, rpc_clients
from kumo_api.actions import lifecycle
from kumo_api.schemas import types
from kumo_common import states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_common.db import server_migrations as migration_db

LOG = logging.getLogger(__name__)
task = states.task
ACTION = 'os-migrateLive'
INSTANCE_ACTION = 'live-migration'
ALLOWED_VM_STATES = (states.ACTIVE, states.PAUSED)


def migrate_live(instance: models.Instance, body: dict) -> None:
    ctxt, want = g.context, g.want
    host = body['host']
    target = {'project_id': instance.project_id, 'user_id': instance.user_id}
    rule = 'migrate_live:host' if host else 'migrate_live'
    policy.authorize(ctxt, f'os_compute_api:os-migrate-server:{rule}', target)
    force = False
    if want.at_least(2, 30) and not want.at_least(2, 68):
        force = types.to_bool(body.get('force', False))
        if force and not host:
            raise errors.BadRequest("Can't force to a non-provided destination")
    block = body['block_migration']
    block_migration = None if block == 'auto' else types.to_bool(block)
    # Nova's compute API: its decorators (lock, state) before the host's lookup.
    if instance.locked:
        raise errors.Conflict(f'Instance {instance.uuid} is locked')
    if instance.vm_state not in ALLOWED_VM_STATES:
        raise lifecycle.invalid_state(ACTION, instance, 'vm_state', instance.vm_state)
    if instance.task_state is not None:
        raise lifecycle.invalid_state(ACTION, instance, 'task_state', instance.task_state)
    if host is not None:
        with session.reader() as s:
            if s.query(models.ComputeNode).filter_by(host=host, deleted=False).first() is None:
                raise errors.BadRequest(f'Compute host {host} could not be found.')
    migration_uuid = str(uuidlib.uuid4())
    with session.transaction() as s:
        if not instance_db.update_if(s, instance.uuid, {'task_state': task.MIGRATING},
                                     expected_task_state=(None,),
                                     expected_vm_state=ALLOWED_VM_STATES):
            fresh = instance_db.get_instance(s, instance.uuid)
            if fresh.vm_state not in ALLOWED_VM_STATES:
                raise lifecycle.invalid_state(ACTION, fresh, 'vm_state', fresh.vm_state)
            raise lifecycle.invalid_state(ACTION, fresh, 'task_state', fresh.task_state)
        instance_db.start_action(s, instance.uuid, INSTANCE_ACTION, ctxt)
        migration_db.create_live_migration(s, instance_db.get_instance(s, instance.uuid),
                                           ctxt, migration_uuid, host)
    LOG.info('Live migration of instance %s from %s requested (migration %s%s)',
             instance.uuid, instance.host, migration_uuid,
             f', to {host}{" (forced)" if force else ""}' if host else '')
    refused = rpc_clients.conductor().live_migrate_server(
        ctxt, instance.uuid, migration_uuid, host, force, block_migration,
        wait=not want.at_least(2, 34))
    if refused:
        raise errors.BadRequest(refused)
