"""Shelve, shelveOffload and unshelve: the conductor's part (issue 7).

* shelve ends SHELVED with its "<name>-shelved" image active and the server's
  system_metadata saying shelved_at / shelved_image_id / shelved_host; or, when the
  agent offloaded it in the same go ([DEFAULT] shelved_offload_time 0),
  SHELVED_OFFLOADED as below. A failed shelve deletes its image (as createImage).
* an offload (shelveOffload, or the periodic offload of servers shelved longer than
  shelved_offload_time) ends SHELVED_OFFLOADED: no host, node or claim, ports
  unbound; quota stays counted, as Nova's.
* unshelve of a SHELVED server ends ACTIVE on its host; of a SHELVED_OFFLOADED one,
  the conductor schedules it (its request spec, with the AZ/host the API wrote),
  records the host and has it spawn the server from the shelve image. Either way the
  shelve image is deleted once the server is ACTIVE. A failed unshelve of an
  offloaded server goes back to SHELVED_OFFLOADED with its claim given back.
"""
from __future__ import annotations

import datetime

import oslo_messaging as messaging
import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import uuidutils

from kumo_common import context, exceptions, lifecycle, objects, states
from kumo_common import image as image_api
from kumo_common.db import aggregates as aggregate_db
from kumo_common.db import block_devices as bdm_db
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, network_cache, recovery, session, system_metadata
from kumo_common.db import snapshots as snapshot_db
from kumo_conductor import images, move_specs, snapshots
from kumo_conductor import ports as server_ports

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
task = states.task

ACTIONS = ('shelve', 'shelve_offload', 'unshelve')
SHELVED_AT = 'shelved_at'
SHELVED_IMAGE_ID = 'shelved_image_id'
SHELVED_HOST = 'shelved_host'
SYSMETA_KEYS = (SHELVED_AT, SHELVED_IMAGE_ID, SHELVED_HOST)
# Nova's conductor events of an offloaded server's unshelve (kumo_common.lifecycle).
IMAGE_EVENT = lifecycle.UNSHELVE_IMAGE_EVENT
SCHEDULE_EVENT = lifecycle.UNSHELVE_SCHEDULE_EVENT
UNPLACED = {'host': None, 'node': None, 'compute_node_uuid': None}


# --- system_metadata ----------------------------------------------------------------------
def _sysmeta(s, instance_uuid: str) -> dict[str, models.InstanceSystemMetadata]:
    rows = s.scalars(sa.select(models.InstanceSystemMetadata).where(
        models.InstanceSystemMetadata.instance_uuid == instance_uuid,
        models.InstanceSystemMetadata.key.in_(SYSMETA_KEYS)))
    return {r.key: r for r in rows}


def _set_sysmeta(s, instance_uuid: str, values: dict[str, str]) -> None:
    existing = _sysmeta(s, instance_uuid)
    for key, value in values.items():
        if key in existing:
            existing[key].value = value
        else:
            s.add(models.InstanceSystemMetadata(instance_uuid=instance_uuid, key=key,
                                                value=value))


def _clear_sysmeta(s, instance_uuid: str) -> None:
    for row in _sysmeta(s, instance_uuid).values():
        s.delete(row)


def shelved_image_id(s, instance_uuid: str) -> str | None:
    row = _sysmeta(s, instance_uuid).get(SHELVED_IMAGE_ID)
    return row.value if row is not None and row.value else None


def _bind_ports(s, ctxt, instance_uuid: str, host: str) -> list[objects.PortSpec]:
    """The server's ports (its network info cache), bound to `host`."""
    server_ports.bind(s, instance_uuid, host, ctxt)
    return network_cache.ports(s, instance_uuid)


def _offloaded(s, ctxt, instance_uuid: str) -> None:
    """The guest left its host: its claim goes; its ports stay its own, bound to no
    host (as Nova's)."""
    node_db.free_allocations(s, instance_uuid)
    server_ports.bind(s, instance_uuid, None, ctxt)


# --- the end of an action (called by ConductorManager.action_finished) ------------------
def outcome(action: str, instance: models.Instance | None, success: bool,
            result: objects.ActionResult | None) -> dict:
    """Instance values besides vm/task/power_state at the end of a shelve action."""
    if instance is None:
        return {}
    if not success:
        if action == 'unshelve' and instance.vm_state == states.SHELVED_OFFLOADED:
            return dict(UNPLACED)
        return {}
    if action == 'shelve' and result is not None and result.offloaded:
        return {'vm_state': states.SHELVED_OFFLOADED, 'power_state': states.power.NOSTATE,
                **UNPLACED}
    if action == 'shelve_offload':
        return {'power_state': states.power.NOSTATE, **UNPLACED}
    return {}


def settle(s, action: str, instance: models.Instance, host: str, success: bool,
           result: objects.ActionResult | None, ctxt=None) -> None:
    """In the transaction that ended the action (only if it did end it); `ctxt`'s
    token unbinds the ports in an external Neutron."""
    uuid = instance.uuid
    if action == 'shelve' and success:
        if result is not None and result.image_id and not image_api.api().external:
            # Active in the transaction that shows the server SHELVED: an unshelve
            # never finds its image still saving (an external Glance's is active
            # once the agent's upload ended).
            snapshot_db.activate(s, result.image_id, result.size, result.checksum,
                                 result.os_hash_value, result.virtual_size,
                                 result.disk_format)
        _set_sysmeta(s, uuid, {
            SHELVED_AT: datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
            .isoformat(),
            SHELVED_IMAGE_ID: (result.image_id if result is not None else '') or '',
            SHELVED_HOST: host or ''})
        if result is not None and result.offloaded:
            _offloaded(s, ctxt, uuid)
    elif action == 'shelve_offload' and success:
        _offloaded(s, ctxt, uuid)
    elif action == 'unshelve':
        if success:
            _clear_sysmeta(s, uuid)
        elif instance.vm_state == states.SHELVED_OFFLOADED:
            _offloaded(s, ctxt, uuid)


def after(ctxt, action: str, instance_uuid: str, success: bool, changed: bool,
          result: objects.ActionResult | None, image_id: str | None) -> None:
    """After the transaction: the image's fate (files and image API calls are not
    transactional)."""
    if action == 'shelve':
        snapshots.finish(instance_uuid, success and changed, result, ctxt)
    elif action == 'unshelve' and success and changed and image_id:
        delete_image(ctxt, image_id)


def delete_image(ctxt, image_id: str) -> None:
    """The shelve image goes (unshelved, or the server deleted), data and all."""
    try:
        image_api.api().delete(ctxt, image_id)
    except Exception:  # the server's own change stands; a leftover image is no fault
        LOG.exception('Shelve image %s could not be deleted', image_id)
        return
    LOG.info('Shelve image %s deleted', image_id)


def forget(ctxt, instance_uuid: str) -> None:
    """A deleted server's shelve image goes with it (as Nova's), and so does one a
    shelve was still writing (asked of the image catalog: an external Glance's
    images are not in Kumo's tables)."""
    with session.reader() as s:
        image_id = shelved_image_id(s, instance_uuid)
    if image_id:
        delete_image(ctxt, image_id)
    try:
        pending = image_api.api().in_progress(ctxt, instance_uuid)
    except exceptions.KumoException:
        LOG.exception('Could not look for unfinished images of deleted instance %s',
                      instance_uuid)
        return
    if pending:
        snapshots.finish(instance_uuid, False, None, ctxt)


# --- the agent's steps ----------------------------------------------------------------------
def progress(instance_uuid: str, host: str, task_state: str) -> bool:
    """A multi-step action reached `task_state` (only forward: a late report of an
    earlier step, or one after the action ended, changes nothing)."""
    owner = next((a for a in lifecycle.ACTIONS.values()
                  if task_state in a.step_task_states), None)
    if owner is None:
        return False
    steps = owner.task_states
    earlier = steps[:steps.index(task_state)]
    with session.transaction() as s:
        moved = instance_db.update_if(s, instance_uuid, {'task_state': task_state},
                                      expected_task_state=earlier)
    if moved:
        LOG.info('Instance %s: %s on %s is at %s', instance_uuid, owner.name, host,
                 task_state)
    return moved


# --- unshelve of an offloaded server -----------------------------------------------------
def _request_spec(s, instance: models.Instance, image: objects.ImageSpec
                  ) -> objects.RequestSpec:
    flavor = instance.flavor or {}
    flavor_spec = objects.FlavorSpec(
        flavorid=str(flavor.get('flavorid', '')), name=flavor.get('name', ''),
        vcpus=flavor.get('vcpus', instance.vcpus or 1),
        memory_mb=flavor.get('memory_mb', instance.memory_mb or 0),
        root_gb=flavor.get('root_gb', instance.root_gb or 0),
        ephemeral_gb=flavor.get('ephemeral_gb', 0), swap=flavor.get('swap', 0) or 0,
        extra_specs=flavor.get('extra_specs') or {})
    spec = move_specs.stored(s, instance, flavor_spec)
    spec.image = image
    spec.ignore_hosts = []
    # A create's forced host is not an unshelve's: only what the unshelve asked for.
    spec.force_hosts, spec.force_nodes = [], []
    return spec


def _fail(ctxt, instance_uuid: str, message: str, code: int = 500,
          event: str = SCHEDULE_EVENT) -> None:
    """Back to SHELVED_OFFLOADED, unplaced, with a fault (and `event` in Error)."""
    with session.transaction() as s:
        if not instance_db.update_if(
                s, instance_uuid, {'task_state': None, 'task_deadline': None, **UNPLACED},
                expected_task_state=(task.UNSHELVING,),
                expected_vm_state=(states.SHELVED_OFFLOADED,)):
            return
        node_db.free_allocations(s, instance_uuid)
        instance_db.add_fault(s, instance_uuid, code, message)
        instance_db.record_event(s, instance_uuid, ctxt.request_id, event,
                                 'Error', details=message)
    LOG.warning('Unshelve of %s failed: %s', instance_uuid, message)


def unshelve_offloaded(ctxt, conductor, instance_uuid: str) -> None:
    """Schedule an offloaded server being unshelved and send it to the chosen host."""
    with session.reader() as s:
        try:
            instance = instance_db.get_instance(s, instance_uuid, read_deleted=False)
        except exceptions.InstanceNotFound:
            return
        if instance.task_state != task.UNSHELVING \
                or instance.vm_state != states.SHELVED_OFFLOADED or instance.host:
            LOG.info('Instance %s is not waiting to be unshelved (%s/%s on %s)',
                     instance_uuid, instance.vm_state, instance.task_state, instance.host)
            return
        image_id = shelved_image_id(s, instance_uuid)
    # Read outside any transaction: with an external Glance it is an API call.
    image = images.get_spec(ctxt, image_id)
    if image is not None:
        with session.reader() as s:
            spec = _request_spec(s, instance_db.get_instance(s, instance_uuid), image)
    if image is None:
        _fail(ctxt, instance_uuid, f'Shelve image {image_id} of the server is gone; it '
                                   'cannot be unshelved', event=IMAGE_EVENT)
        return
    with session.transaction() as s:
        instance_db.record_event(s, instance_uuid, ctxt.request_id, IMAGE_EVENT,
                                 'Success')
        instance_db.record_event(s, instance_uuid, ctxt.request_id, SCHEDULE_EVENT, None)
    try:
        selection = conductor.scheduler.select_destinations(ctxt, spec)[0]
    except exceptions.NoValidHost as exc:
        # (Over RPC its text also holds the scheduler's traceback: not for users.)
        _fail(ctxt, instance_uuid, exc.args[0] if exc.args and
              isinstance(exc.args[0], str) else str(exc))
        return
    except messaging.MessagingTimeout:
        _fail(ctxt, instance_uuid, 'Timed out waiting for the scheduler.')
        return
    except Exception as exc:  # a scheduler bug must not leave the server unshelving
        LOG.exception('Scheduling the unshelve of %s failed', instance_uuid)
        _fail(ctxt, instance_uuid, f'Scheduling failed: {exc}')
        return
    host = selection.service_host
    with session.transaction() as s:
        instance = instance_db.get_instance(s, instance_uuid)
        zone = instance.pinned_availability_zone or aggregate_db.zone_of_host(s, host)
        if not instance_db.update_if(
                s, instance_uuid,
                {'host': host, 'node': selection.nodename,
                 'compute_node_uuid': selection.compute_node_uuid,
                 'availability_zone': zone, 'task_state': task.UNSHELVING},
                expected_task_state=(task.UNSHELVING,),
                expected_vm_state=(states.SHELVED_OFFLOADED,)):
            # Deleted, or given up on by the reaper, while it was being scheduled.
            recovery.free_allocation_on(s, instance_uuid, selection.compute_node_uuid)
            return
        s.refresh(instance)
        ports = _bind_ports(s, ctxt, instance_uuid, host)
        build = objects.InstanceBuild(
            uuid=instance.uuid, name=instance.display_name or '',
            hostname=instance.hostname or '', project_id=instance.project_id,
            user_id=instance.user_id, flavor=spec.flavor, image=image,
            node_uuid=selection.compute_node_uuid,
            metadata={m.key: m.value for m in instance.metadata_items},
            user_data=instance.user_data, key_data=instance.key_data,
            config_drive=bool(instance.config_drive), ports=ports,
            availability_zone=zone, instance_name='instance-%08x' % instance.id,
            key_name=instance.key_name,
            kernel=images.boot_image(instance, instance.kernel_id, ctxt),
            ramdisk=images.boot_image(instance, instance.ramdisk_id, ctxt),
            files=system_metadata.injected_files(instance),
            block_devices=bdm_db.local_specs(s, instance_uuid))
        instance_db.record_event(s, instance_uuid, ctxt.request_id, SCHEDULE_EVENT,
                                 'Success', host=host)
        instance_db.record_event(s, instance_uuid, ctxt.request_id,
                                 lifecycle.get('unshelve').event, None, host=host)
    LOG.info('Unshelving instance %s on %s from image %s', instance_uuid, host, image.id)
    conductor.compute.perform_action(ctxt, host, instance_uuid, 'unshelve',
                                     objects.ActionParams(build=build))


# --- the periodic offload ----------------------------------------------------------------
def due_for_offload(s, seconds: int) -> list[models.Instance]:
    """Idle SHELVED servers shelved more than `seconds` ago."""
    cutoff = (datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
              - datetime.timedelta(seconds=seconds)).isoformat()
    meta = models.InstanceSystemMetadata
    return list(s.scalars(sa.select(models.Instance).join(
        meta, meta.instance_uuid == models.Instance.uuid).where(
        models.Instance.deleted == 0, models.Instance.vm_state == states.SHELVED,
        models.Instance.task_state.is_(None), models.Instance.host.is_not(None),
        meta.key == SHELVED_AT, meta.value <= cutoff)))


def offload_shelved(conductor) -> int:
    """Offload every server shelved longer than [DEFAULT] shelved_offload_time (> 0);
    each as a shelveOffload action of its own, as if an admin had asked."""
    seconds = CONF.shelved_offload_time
    if seconds <= 0:
        return 0
    with session.reader() as s:
        due = [(i.uuid, i.host, i.project_id) for i in due_for_offload(s, seconds)]
    started = 0
    for uuid, host, project_id in due:
        ctxt = context.RequestContext(request_id='req-' + uuidutils.generate_uuid(),
                                      project_id=project_id, is_admin=True,
                                      roles=['admin'], overwrite=False)
        spec = lifecycle.get('shelve_offload')
        with session.transaction() as s:
            # Conditional: an unshelve (or another conductor) may have come first.
            if not instance_db.update_if(s, uuid, {'task_state': spec.task_state},
                                         expected_task_state=(None,),
                                         expected_vm_state=(states.SHELVED,)):
                continue
            instance_db.start_action(s, uuid, spec.recorded_as, ctxt)
        LOG.info('Instance %s was shelved more than %ss ago; offloading it from %s', uuid,
                 seconds, host)
        conductor.compute.perform_action(ctxt, host, uuid, 'shelve_offload')
        started += 1
    return started
