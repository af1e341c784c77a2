"""Migration records (resize, evacuation, live migration) and the claims they own.

A resize keeps two claims until it is confirmed or reverted: the old flavor's on the
source node and the new flavor's on the destination (the same node when
allow_resize_to_same_host lets the scheduler pick it). Claims are rows of
`allocations` keyed by an owner uuid; when the resize starts, the server's claim is
handed to its migration record, so the server itself can claim the new flavor, and
both can live on one node:

    start    server's claim -> migration          (then the scheduler claims the new
                                                   flavor for the server)
    confirm  migration's claim freed
    revert   server's new claim freed, migration's claim -> server
    failure  as revert

The orphan-claim sweep (kumo_common.db.recovery) leaves the claims of migrations in
flight alone.
"""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from oslo_log import log as logging
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import models
from kumo_common.db.models import utcnow

LOG = logging.getLogger(__name__)

# Nova's statuses of a resize.
PRE_MIGRATING = 'pre-migrating'    # accepted by the API, being scheduled
MIGRATING = 'migrating'            # the source puts the guest's files aside
POST_MIGRATING = 'post-migrating'  # the destination builds the new guest
FINISHED = 'finished'              # VERIFY_RESIZE: waiting for confirm or revert
CONFIRMING = 'confirming'
CONFIRMED = 'confirmed'
REVERTING = 'reverting'
REVERTED = 'reverted'
FAILED = 'failed'                  # the destination failed: being rolled back
ERROR = 'error'

DONE = (CONFIRMED, REVERTED, ERROR)
IN_FLIGHT = (PRE_MIGRATING, MIGRATING, POST_MIGRATING, FINISHED, CONFIRMING, REVERTING,
             FAILED)

# An evacuation (Nova's statuses: accepted by the API, pre-migrating once the
# destination is claimed, done once the guest is rebuilt there, completed once the
# source host came back and destroyed its copy). Until completed it owns the claim
# the server had on the source node (kumo_conductor.evacuating), which the source
# agent gives back when it returns, as Nova's does.
EVACUATION = 'evacuation'
ACCEPTED = 'accepted'
EVACUATED = 'done'
COMPLETED = 'completed'
# What a returning source agent cleans up (Nova's _destroy_evacuated_instances).
EVACUATION_HELD = (ACCEPTED, PRE_MIGRATING, EVACUATED)

# A live migration (kumo_conductor.live_migrating), Nova's statuses: accepted by the
# API (being scheduled), preparing (the destination gets ready), running (the source
# copies the running guest), post-migrating (the destination takes it), then
# completed; failed (rolled back: the guest stayed at the source), cancelled (aborted
# by the user, likewise), error (never started: no host, or the checks refused it).
# While in progress it owns the server's claim on the source node, as an evacuation.
LIVE_MIGRATION = 'live-migration'
QUEUED = 'queued'
PREPARING = 'preparing'
RUNNING = 'running'
CANCELLED = 'cancelled'
# What os-server-migrations lists (Nova's in-progress statuses; Kumo never queues).
LIVE_IN_PROGRESS = (QUEUED, PREPARING, RUNNING, POST_MIGRATING)
LIVE_HELD = (ACCEPTED,) + LIVE_IN_PROGRESS
# The moves that are resizes (a new flavor, or a cold migration with the same one).
RESIZE_TYPES = ('resize', 'migration')


class MigrationNotFound(exceptions.NotFound):
    message = 'Migration %(migration_id)s could not be found.'


def create(session: orm.Session, instance: models.Instance, new_flavor: dict,
           new_flavor_id: int | None, ctxt, uuid: str, migration_type: str = 'resize',
           requested_host: str | None = None) -> models.Migration:
    """Record a resize of `instance` to `new_flavor` and hand it the server's claims
    (`migration_type` 'migration' for a cold migration, as Nova types it: the same
    flavor, to `requested_host` if given)."""
    migration = models.Migration(
        uuid=uuid, instance_uuid=instance.uuid, migration_type=migration_type,
        requested_host=requested_host,
        status=PRE_MIGRATING, source_compute=instance.host, source_node=instance.node,
        source_node_uuid=instance.compute_node_uuid,
        old_instance_type_id=instance.instance_type_id, new_instance_type_id=new_flavor_id,
        old_flavor=instance.flavor, new_flavor=new_flavor, old_vm_state=instance.vm_state,
        user_id=ctxt.user_id, project_id=ctxt.project_id, hidden=False)
    session.add(migration)
    hand_over(session, instance.uuid, uuid)
    session.flush()
    return migration


def get(session: orm.Session, uuid: str) -> models.Migration:
    migration = session.scalars(sa.select(models.Migration).where(
        models.Migration.uuid == uuid)).first()
    if migration is None:
        raise MigrationNotFound(migration_id=uuid)
    return migration


def waiting(session: orm.Session, instance_uuid: str, migration_uuid: str,
            task_state: str, status: str
            ) -> tuple[models.Instance, models.Migration] | None:
    """The live server and its migration when both are still at the step the caller
    is about to take (server at `task_state`, migration at `status`); None when
    either is gone or has moved on, e.g. a delete or the reaper got there first, or
    the message is a re-delivered one. The caller then has nothing to do."""
    try:
        instance = session.scalars(sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid, models.Instance.deleted == 0)).first()
        migration = get(session, migration_uuid)
    except MigrationNotFound:
        instance = migration = None
    if instance is None or migration is None:
        LOG.info('Migration %s of %s: nothing to do (gone)', migration_uuid,
                 instance_uuid)
        return None
    if instance.task_state != task_state or migration.status != status:
        LOG.info('Instance %s is not waiting for migration %s (%s, migration %s)',
                 instance_uuid, migration_uuid, instance.task_state, migration.status)
        return None
    return instance, migration


def awaiting(session: orm.Session, migration_uuid: str, step_id: str
             ) -> models.Migration | None:
    """The migration an agent reports a step of, if that step is the one it waits
    for (None for a report of an earlier step, or of a migration gone or ended)."""
    try:
        migration = get(session, migration_uuid)
    except MigrationNotFound:
        return None
    if migration.step_id != step_id:
        LOG.info('Migration %s: report of step %s ignored (it is at %s)', migration_uuid,
                 step_id, migration.step_id)
        return None
    return migration


def in_flight(session: orm.Session, instance_uuid: str) -> models.Migration | None:
    """The server's resize that is neither confirmed, reverted nor failed, if any
    (evacuations and live migrations are not resizes: kumo_conductor.evacuating and
    live_migrating keep them)."""
    m = models.Migration
    return session.scalars(sa.select(m).where(m.instance_uuid == instance_uuid,
                                              m.status.in_(IN_FLIGHT),
                                              m.migration_type.in_(RESIZE_TYPES))
                           .order_by(m.id.desc())).first()


def for_instance(session: orm.Session, instance_uuid: str) -> list[models.Migration]:
    m = models.Migration
    return list(session.scalars(sa.select(m).where(m.instance_uuid == instance_uuid)
                                .order_by(m.id)))


def set_status(session: orm.Session, uuid: str, status: str | None,
               expected: tuple | None = None, **values) -> bool:
    """Move a migration on (only from `expected` statuses, if given; `status` None
    keeps it, writing only `values`)."""
    m = models.Migration
    if status is not None:
        values['status'] = status
    stmt = sa.update(m).where(m.uuid == uuid).values(updated_at=utcnow(), **values)
    if expected is not None:
        stmt = stmt.where(m.status.in_(expected))
    return session.execute(stmt.execution_options(synchronize_session=False)
                           ).rowcount == 1


def hand_over(session: orm.Session, from_owner: str, to_owner: str) -> int:
    """Move every claim of one owner to another (usage on the nodes is unchanged)."""
    a = models.Allocation
    return session.execute(sa.update(a).where(a.instance_uuid == from_owner)
                           .values(instance_uuid=to_owner)
                           .execution_options(synchronize_session=False)).rowcount


def free_claims(session: orm.Session, owner: str) -> None:
    node_db.free_allocations(session, owner)


def give_back(session: orm.Session, migration: models.Migration) -> None:
    """Revert or failure: the server's new claims go, the old one is its own again."""
    node_db.free_allocations(session, migration.instance_uuid)
    session.flush()
    hand_over(session, migration.uuid, migration.instance_uuid)


def owners_in_flight():
    """A subquery of the uuids of migrations in flight (claim owners to keep):
    resizes in flight, evacuations whose source has not cleaned up yet, and live
    migrations in progress."""
    m = models.Migration
    return sa.select(m.uuid).where(sa.or_(
        sa.and_(m.migration_type.in_(RESIZE_TYPES), m.status.in_(IN_FLIGHT)),
        sa.and_(m.migration_type == EVACUATION, m.status.in_(EVACUATION_HELD)),
        sa.and_(m.migration_type == LIVE_MIGRATION, m.status.in_(LIVE_HELD))))


def create_evacuation(session: orm.Session, instance: models.Instance, ctxt, uuid: str,
                      host: str | None) -> models.Migration:
    """Record the evacuation of `instance` from its host (to `host` if given) and
    hand it the server's claim on the source node."""
    return _create_move(session, instance, ctxt, uuid, host, EVACUATION)


def create_live_migration(session: orm.Session, instance: models.Instance, ctxt,
                          uuid: str, host: str | None) -> models.Migration:
    """Record the live migration of `instance` from its host (to `host` if given),
    accepted, and hand it the server's claim on the source node (the server claims
    the destination)."""
    return _create_move(session, instance, ctxt, uuid, host, LIVE_MIGRATION)


def _create_move(session: orm.Session, instance: models.Instance, ctxt, uuid: str,
                 host: str | None, migration_type: str) -> models.Migration:
    """A move of the server with its own flavor, accepted, owning its source claim
    (its user and project are the caller's, as Nova's)."""
    migration = models.Migration(
        uuid=uuid, instance_uuid=instance.uuid, migration_type=migration_type,
        status=ACCEPTED, source_compute=instance.host, source_node=instance.node,
        source_node_uuid=instance.compute_node_uuid, dest_compute=host,
        requested_host=host, old_instance_type_id=instance.instance_type_id,
        new_instance_type_id=instance.instance_type_id, old_flavor=instance.flavor,
        new_flavor=instance.flavor, old_vm_state=instance.vm_state,
        user_id=ctxt.user_id, project_id=ctxt.project_id, hidden=False)
    session.add(migration)
    hand_over(session, instance.uuid, uuid)
    session.flush()
    return migration


def live_migration_of(session: orm.Session, instance_uuid: str,
                      statuses: tuple = LIVE_HELD) -> models.Migration | None:
    """The server's latest live migration in one of `statuses`, if any."""
    m = models.Migration
    return session.scalars(sa.select(m).where(
        m.instance_uuid == instance_uuid, m.migration_type == LIVE_MIGRATION,
        m.status.in_(statuses)).order_by(m.id.desc())).first()


def evacuation_of(session: orm.Session, instance_uuid: str,
                  statuses: tuple = (ACCEPTED, PRE_MIGRATING)) -> models.Migration | None:
    """The server's latest evacuation in one of `statuses`, if any."""
    m = models.Migration
    return session.scalars(sa.select(m).where(
        m.instance_uuid == instance_uuid, m.migration_type == EVACUATION,
        m.status.in_(statuses)).order_by(m.id.desc())).first()


def evacuated_from(session: orm.Session, host: str) -> list[models.Migration]:
    """Evacuations away from `host` its agent has yet to clean up after."""
    m = models.Migration
    return list(session.scalars(sa.select(m).where(
        m.source_compute == host, m.migration_type == EVACUATION,
        m.status.in_(EVACUATION_HELD)).order_by(m.id)))


def finished_before(session: orm.Session, seconds: int) -> list[models.Migration]:
    """Resizes waiting in VERIFY_RESIZE for longer than `seconds` (auto-confirm)."""
    m = models.Migration
    cutoff = utcnow() - datetime.timedelta(seconds=seconds)
    return list(session.scalars(sa.select(m).where(m.status == FINISHED,
                                                   m.updated_at < cutoff)))
