"""shelve, shelveOffload and unshelve (issue 7): the API's checks and the start of
each action; kumo_conductor.shelving ends them.

* shelve: the "<name>-shelved" image is recorded `saving` in the transaction that
  claims the task_state (as createImage's), and the agent powers the guest off and
  writes the image, offloading it too when [DEFAULT] shelved_offload_time is 0.
* shelveOffload: the agent removes the guest and its files; the conductor frees the
  claim and clears host and node.
* unshelve: a SHELVED server is powered on by its agent; a SHELVED_OFFLOADED one is
  scheduled by the conductor (2.77 availability_zone, 2.91 host / unpinning, with
  Nova's rules) and spawned from its shelve image.
"""
from __future__ import annotations

import uuid as uuidlib

from flask import g
from oslo_config import cfg
from oslo_log import log as logging

from kumo_api import errors, policy, rpc_clients, scheduling
from kumo_api.actions import lifecycle
from kumo_common import image as images
from kumo_common import lifecycle as actions
from kumo_common import objects, states
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session
from kumo_common.image import snapshot as image_snapshot

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _authorize(rule: str, instance: models.Instance) -> None:
    policy.authorize(g.context, f'os_compute_api:{rule}',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})


# --- shelve ----------------------------------------------------------------------------------
def shelve(instance: models.Instance, body) -> None:
    _authorize('os-shelve:shelve', instance)
    ctxt = g.context
    image_id = str(uuidlib.uuid4())
    # Read when the request is accepted, as the shelve's own terms.
    offload = CONF.shelved_offload_time == 0
    catalog = images.api()

    def fields(server: models.Instance, s=None) -> dict:
        # Nova's shelve image: a snapshot named after the server.
        return image_snapshot.fields(
            f'{server.display_name}-shelved', instance_uuid=server.uuid,
            image_ref=server.image_ref, project_id=server.project_id,
            user_id=ctxt.user_id, root_gb=(server.flavor or {}).get('root_gb', 0) or 0,
            image_type='snapshot', base=catalog.find(ctxt, server.image_ref, session=s))

    if catalog.external:
        # No image API call inside the claim's transaction (as createImage's): the
        # queued image first, once the state allows a shelve; deleted if it fails.
        spec = actions.get('shelve')
        lifecycle.check(ctxt, instance, spec, spec.recorded_as)
        catalog.create_snapshot(ctxt, image_id, fields(instance))

    def prepare(s, fresh: models.Instance) -> objects.ActionParams:
        # The local catalog: a `saving` row and the store file the agent writes, in
        # the claim's transaction; an external Glance: the agent uploads (no path).
        path = None if catalog.external else \
            catalog.create_snapshot(ctxt, image_id, fields(fresh, s), session=s)
        return objects.ActionParams(snapshot_id=image_id, snapshot_path=path,
                                    offload=offload)

    try:
        lifecycle.run(ctxt, instance, 'shelve', prepare=prepare)
    except Exception:
        if catalog.external:
            catalog.delete(ctxt, image_id)
        raise


def shelve_offload(instance: models.Instance, body) -> None:
    _authorize('os-shelve:shelve_offload', instance)
    lifecycle.run(g.context, instance, 'shelve_offload')


# --- unshelve --------------------------------------------------------------------------------
_UNSET = object()


def unshelve(instance: models.Instance, body) -> None:
    ctxt = g.context
    want = g.want
    _authorize('os-shelve:unshelve', instance)
    spec = actions.get('unshelve')
    lifecycle.check(ctxt, instance, spec, spec.recorded_as)
    args = body if isinstance(body, dict) else {}
    new_az = args.get('availability_zone', _UNSET) if want.at_least(2, 77) else _UNSET
    host = args.get('host') if want.at_least(2, 91) else None
    az_passed = new_az is not _UNSET
    with session.reader() as s:
        if host:
            _authorize('os-shelve:unshelve_to_host', instance)
            if s.query(models.ComputeNode.id).filter_by(host=host, deleted=False).first() \
                    is None:
                raise errors.BadRequest(f'Compute host {host} could not be found.')
        # Only an offloaded server goes through the scheduler: a shelved one still
        # has its guest on its host.
        if instance.vm_state == states.SHELVED and (az_passed or host):
            raise errors.Conflict(
                'Specifying an availability zone or a host when unshelving server '
                f'{instance.uuid} with status "{instance.vm_state}" is not supported. '
                'The server status must be SHELVED_OFFLOADED.')
        if az_passed and new_az is not None \
                and new_az not in scheduling.known_zones(s):
            raise errors.BadRequest('The requested availability zone is not available')
        zone = (new_az if az_passed else instance.pinned_availability_zone)
        if host and zone:
            host_zone = aggregate_db.zone_of_host(s, host)
            if host_zone != zone:
                raise errors.Conflict(f'Host "{host}" is not in the availability zone '
                                      f'"{zone}".')
    if instance.vm_state == states.SHELVED:
        lifecycle.run(ctxt, instance, 'unshelve', params=objects.ActionParams())
        return
    _unshelve_offloaded(ctxt, instance, spec, az_passed, new_az, host)


def _unshelve_offloaded(ctxt, instance: models.Instance, spec: actions.Action,
                        az_passed: bool, new_az: str | None, host: str | None) -> None:
    shown = spec.recorded_as
    with session.transaction() as s:
        if not instance_db.update_if(s, instance.uuid, {'task_state': spec.task_state},
                                     expected_task_state=spec.allowed_task_states,
                                     expected_vm_state=(states.SHELVED_OFFLOADED,)):
            fresh = instance_db.get_instance(s, instance.uuid)
            if fresh.vm_state != states.SHELVED_OFFLOADED:
                raise lifecycle.invalid_state(shown, fresh, 'vm_state', fresh.vm_state)
            raise lifecycle.invalid_state(shown, fresh, 'task_state', fresh.task_state)
        instance_db.start_action(s, instance.uuid, shown, ctxt)
        fresh = instance_db.get_instance(s, instance.uuid)
        if az_passed:
            # Pinned to the zone asked for, or (null, 2.91) to none.
            fresh.pinned_availability_zone = new_az
            if new_az is not None:
                fresh.availability_zone = new_az
        record = s.query(models.RequestSpecRecord).filter_by(
            instance_uuid=instance.uuid).first()
        if record is not None:
            request = objects.Payload.from_primitive(record.spec)
            request.availability_zone = fresh.pinned_availability_zone
            # Only this unshelve's host (a create's requested host is not kept).
            request.requested_destination = {'host': host, 'node': None} if host else None
            record.spec = request.to_primitive()
    LOG.info('unshelve of offloaded instance %s requested (zone %s, host %s)',
             instance.uuid, new_az if az_passed else 'as pinned', host or 'any')
    rpc_clients.conductor().unshelve_instance(ctxt, instance.uuid)
