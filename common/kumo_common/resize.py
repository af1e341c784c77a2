"""What the API and the conductor share of a resize: the agent steps' names, ids and
events, the payload of a step, and starting a confirm or revert (which both do: the
API on request, the conductor when [DEFAULT] resize_confirm_window runs out).

The rest of the resize is the conductor's (kumo_conductor.resizing).
"""
from __future__ import annotations

from oslo_log import log as logging

from kumo_common import lifecycle, objects, states
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_common.db import server_migrations as migration_db

LOG = logging.getLogger(__name__)
task = states.task

# Instance action events, by Nova's names (kept with the action table).
SCHEDULE_EVENT = lifecycle.MIGRATE_SERVER_EVENT
COLD_MIGRATE_EVENT = lifecycle.COLD_MIGRATE_EVENT
PREP_EVENT = lifecycle.PREP_RESIZE_EVENT
EVENTS = lifecycle.RESIZE_EVENTS
# Steps run by the source agent (the others by the destination's).
SOURCE_STEPS = ('resize_instance', 'confirm_resize', 'finish_revert_resize')
RESIZE_TASKS = (task.RESIZE_PREP, task.RESIZE_MIGRATING, task.RESIZE_MIGRATED,
                task.RESIZE_FINISH, task.RESIZE_CONFIRMING, task.RESIZE_REVERTING)


def step_id(request_id: str | None, step: str, attempt: int = 0) -> str:
    """The ledger id of one agent step (a re-drive is a new attempt)."""
    return f'{request_id}/{step}/{attempt}'


def step_of(step_id_: str | None) -> str | None:
    parts = (step_id_ or '').split('/')
    return parts[-2] if len(parts) >= 3 else None


def host_of(migration: models.Migration, step: str) -> str | None:
    return migration.source_compute if step in SOURCE_STEPS else migration.dest_compute


def flavor_spec(flavor: dict | None) -> objects.FlavorSpec:
    """A migration's flavor (its old_flavor / new_flavor column) as a payload."""
    flavor = flavor or {}
    return objects.FlavorSpec(
        flavorid=str(flavor.get('flavorid', '')), name=flavor.get('name', ''),
        vcpus=flavor.get('vcpus', 1), memory_mb=flavor.get('memory_mb', 0),
        root_gb=flavor.get('root_gb', 0), ephemeral_gb=flavor.get('ephemeral_gb', 0),
        swap=flavor.get('swap', 0) or 0, extra_specs=flavor.get('extra_specs') or {})


def make_step(migration: models.Migration, step: str, step_id_: str,
              build: objects.InstanceBuild | None = None) -> objects.MigrationStep:
    return objects.MigrationStep(
        migration_uuid=migration.uuid, instance_uuid=migration.instance_uuid, step=step,
        step_id=step_id_, source_host=migration.source_compute or '',
        dest_host=migration.dest_compute or '', source_path=migration.source_path,
        build=build, start=migration.old_vm_state != states.STOPPED,
        old_flavor=flavor_spec(migration.old_flavor),
        new_flavor=flavor_spec(migration.new_flavor))


def start_confirm(ctxt, compute, instance_uuid: str) -> bool:
    """confirmResize: move the server on and cast the source's clean-up; False if it
    is not (or no longer) waiting in VERIFY_RESIZE."""
    return _start(ctxt, compute, instance_uuid, 'confirm_resize', 'confirmResize',
                  task.RESIZE_CONFIRMING, migration_db.CONFIRMING)


def start_revert(ctxt, compute, instance_uuid: str) -> bool:
    """revertResize: move the server on and cast the destination's part."""
    return _start(ctxt, compute, instance_uuid, 'revert_resize', 'revertResize',
                  task.RESIZE_REVERTING, migration_db.REVERTING)


def _start(ctxt, compute, instance_uuid: str, step: str, action: str, task_state: str,
           status: str) -> bool:
    sid = step_id(ctxt.request_id, step)
    with session.transaction() as s:
        migration = migration_db.in_flight(s, instance_uuid)
        if migration is None or migration.status != migration_db.FINISHED:
            return False
        # Conditional: of two concurrent confirms (or a confirm and a revert) one wins.
        if not instance_db.update_if(s, instance_uuid, {'task_state': task_state},
                                     expected_task_state=(None,),
                                     expected_vm_state=(states.RESIZED,)):
            return False
        if not migration_db.set_status(s, migration.uuid, status, (migration_db.FINISHED,),
                                       step_id=sid):
            raise RuntimeError(f'migration {migration.uuid} changed meanwhile')
        instance_db.start_action(s, instance_uuid, action, ctxt)
        instance_db.record_event(s, instance_uuid, ctxt.request_id, EVENTS[step], None,
                                 host=host_of(migration, step))
        s.expire_all()
        payload = make_step(migration_db.get(s, migration.uuid), step, sid)
    LOG.info('%s of instance %s (resize %s) requested', action, instance_uuid,
             payload.migration_uuid)
    getattr(compute, step)(ctxt, payload)
    return True
