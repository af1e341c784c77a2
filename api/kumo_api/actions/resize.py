"""resize, confirmResize and revertResize (issue 7), as Nova's.

resize checks what Nova's API checks, in its order (state, lock, the flavor, a disk
of zero, the quota for the growth (403), then the image's minimums (400); a smaller
disk is the source host's to refuse, after the 202, as Nova's), then in one
transaction claims the task_state (resize_prep), records the migration that takes
over the server's claim (kumo_common.db.server_migrations) and charges the growth; the
conductor schedules and drives the rest (kumo_conductor.resizing). As Nova's, any
existing flavor will do: its access list is not consulted (Nova's resize looks the
flavor up without the caller's project). confirmResize and revertResize start from
VERIFY_RESIZE (kumo_common.resize).
"""
from __future__ import annotations

import uuid as uuidlib

from flask import g
from oslo_log import log as logging

from kumo_api import compute_api, errors, image_fit, policy, rpc_clients
from kumo_api.actions import lifecycle
from kumo_common import exceptions, quota, resize, states
from kumo_common import image as images
from kumo_common import lifecycle as actions
from kumo_common.db import flavors as flavor_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_common.db import server_migrations as migration_db

LOG = logging.getLogger(__name__)
task = states.task


def _authorize(rule: str, instance: models.Instance) -> None:
    policy.authorize(g.context, f'os_compute_api:{rule}',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})


def _cannot_resize_disk(reason: str) -> errors.APIError:
    return errors.BadRequest(f'Server disk was unable to be resized because: {reason}')


def resize_server(instance: models.Instance, body: dict) -> None:
    ctxt = g.context
    _authorize('servers:resize', instance)
    spec = actions.get('resize')
    lifecycle.check(ctxt, instance, spec, 'resize')
    current = instance.flavor or {}
    # Nova's order and words (compute API resize, FlavorNotFound, CannotResizeDisk,
    # CannotResizeToSameFlavor: all 400).
    flavor_ref = str(body['flavorRef'])
    not_found = f'Flavor {flavor_ref} could not be found.'
    with session.reader() as s:
        try:
            # Nova's resize finds the flavor without regard to the caller's project:
            # a private flavor is not hidden here (unlike in create).
            flavor = flavor_db.get_by_flavorid(s, compute_api._ref_id(body['flavorRef']))
        except exceptions.FlavorNotFound as exc:
            raise errors.BadRequest(not_found) from exc
        new = flavor_db.snapshot(flavor)
    if new['root_gb'] == 0 and (current.get('root_gb') or 0) != 0:
        raise _cannot_resize_disk('Resize to zero disk flavor is not allowed.')
    same = (current.get('id') == new['id']) if current.get('id') is not None \
        else str(current.get('flavorid')) == new['flavorid']
    if flavor.disabled and not same:
        raise errors.BadRequest(not_found)
    if same:
        raise errors.BadRequest('When resizing, instances must change flavor!')
    # A smaller disk is not refused here: as Nova's, the source host refuses it (the
    # resize fails, the server stays as it was: kumo_compute's check_resize).
    # The server's image's minimums hold for the new flavor too (Nova's check, made
    # after the quota's below); an image gone since is no reason to refuse. Read
    # before the transaction (it may be an image API call).
    image = None
    if instance.image_ref:
        try:
            image = images.api().get(ctxt, instance.image_ref, visible=False)
        except (exceptions.ImageNotFound, exceptions.Forbidden):
            image = None
    if 'OS-DCF:diskConfig' in body:
        auto_disk = body['OS-DCF:diskConfig'] == 'AUTO'
    else:
        auto_disk = None
    migration_uuid = str(uuidlib.uuid4())
    quota.ensure_usage(instance.project_id, instance.user_id)
    with session.transaction() as s:
        values: dict = {'task_state': task.RESIZE_PREP}
        if auto_disk is not None:
            values['auto_disk_config'] = auto_disk
        fresh = _take_task(s, instance, spec, values, 'resize')
        instance_db.start_action(s, instance.uuid, 'resize', ctxt)
        migration = migration_db.create(s, fresh, new, flavor.id, ctxt, migration_uuid)
        # The server's owner pays for the growth (whoever asks), as Nova: charged now,
        # and last (quota rows are locked after every other row).
        migration.user_id, migration.project_id = fresh.user_id, fresh.project_id
        quota.admit_resize(s, fresh.project_id, fresh.user_id,
                           new['vcpus'] - (current.get('vcpus') or fresh.vcpus or 0),
                           new['memory_mb'] - (current.get('memory_mb')
                                               or fresh.memory_mb or 0))
        # Nova checks the quota (403) before the image (400): a refusal here rolls
        # the whole transaction back (task_state, action, migration, charge).
        image_fit.check(image, new['memory_mb'], new['root_gb'], with_size=False)
    LOG.info('Resize of instance %s to flavor %s requested (migration %s)', instance.uuid,
             new['flavorid'], migration_uuid)
    rpc_clients.conductor().migrate_server(ctxt, instance.uuid, migration_uuid)


def _take_task(s, instance: models.Instance, spec: actions.Action, values: dict,
               action: str) -> models.Instance:
    """Set resize_prep (and `values`) if the server is still where `spec` may start
    from (409 otherwise, naming what is in the way); the server as it is now."""
    if not instance_db.update_if(s, instance.uuid, values,
                                 expected_task_state=spec.allowed_task_states,
                                 expected_vm_state=spec.allowed_vm_states):
        fresh = instance_db.get_instance(s, instance.uuid)
        if fresh.vm_state not in spec.allowed_vm_states:
            raise lifecycle.invalid_state(action, fresh, 'vm_state', fresh.vm_state)
        raise lifecycle.invalid_state(action, fresh, 'task_state', fresh.task_state)
    return instance_db.get_instance(s, instance.uuid)


def migrate_server(instance: models.Instance, body) -> None:
    """migrate: a cold migration (admin), Nova's resize to the flavor the server
    has: to another host the scheduler picks, or (2.56) to `host`, never to the one
    it is on; then VERIFY_RESIZE, confirmed or reverted like a resize. The value
    is not looked at before 2.56 (as Nova's)."""
    ctxt = g.context
    host = body.get('host') if g.want.at_least(2, 56) and isinstance(body, dict) \
        else None
    _authorize('os-migrate-server:migrate:host' if host else 'os-migrate-server:migrate',
               instance)
    spec = actions.get('resize')
    lifecycle.check(ctxt, instance, spec, 'migrate')
    if host:
        # Nova's checks and words (CannotMigrateToSameHost, ComputeHostNotFound: 400).
        if host == instance.host:
            raise errors.BadRequest('Cannot migrate to the host where the server exists.')
        with session.reader() as s:
            if s.query(models.ComputeNode.id).filter_by(host=host, deleted=False).first() \
                    is None:
                raise errors.BadRequest(f'Compute host {host} could not be found.')
    migration_uuid = str(uuidlib.uuid4())
    with session.transaction() as s:
        fresh = _take_task(s, instance, spec, {'task_state': task.RESIZE_PREP}, 'migrate')
        instance_db.start_action(s, instance.uuid, 'migrate', ctxt)
        migration = migration_db.create(s, fresh, fresh.flavor, fresh.instance_type_id,
                                        ctxt, migration_uuid, migration_type='migration',
                                        requested_host=host)
        migration.user_id, migration.project_id = fresh.user_id, fresh.project_id
    LOG.info('Cold migration of instance %s requested (migration %s%s)', instance.uuid,
             migration_uuid, f', to {host}' if host else '')
    rpc_clients.conductor().migrate_server(ctxt, instance.uuid, migration_uuid)


def _check_resized(instance: models.Instance, action: str) -> None:
    """confirmResize / revertResize: VERIFY_RESIZE with no task (409 as Nova), and a
    resize to confirm or revert (400: 'Instance has not been resized.')."""
    spec = actions.get('confirm_resize' if action == 'confirmResize' else 'revert_resize')
    lifecycle.check(g.context, instance, spec, action)
    with session.reader() as s:
        migration = migration_db.in_flight(s, instance.uuid)
    if migration is None or migration.status != migration_db.FINISHED:
        raise errors.BadRequest('Instance has not been resized.')


def confirm_resize(instance: models.Instance, body) -> tuple:
    _authorize('servers:confirm_resize', instance)
    _check_resized(instance, 'confirmResize')
    if not resize.start_confirm(g.context, rpc_clients.compute(), instance.uuid):
        _raced(instance, 'confirmResize')
    return '', 204


def revert_resize(instance: models.Instance, body) -> None:
    _authorize('servers:revert_resize', instance)
    _check_resized(instance, 'revertResize')
    if not resize.start_revert(g.context, rpc_clients.compute(), instance.uuid):
        _raced(instance, 'revertResize')


def _raced(instance: models.Instance, action: str) -> None:
    """Another request moved the server on between the checks and the update."""
    with session.reader() as s:
        fresh = instance_db.get_instance(s, instance.uuid)
    if fresh.vm_state != states.RESIZED:
        raise lifecycle.invalid_state(action, fresh, 'vm_state', fresh.vm_state)
    raise lifecycle.invalid_state(action, fresh, 'task_state', fresh.task_state)
