"""The heavier server actions (issue 7): changePassword, createImage, createBackup,
rebuild, rescue/unrescue, and the out-of-scope admin actions' answers.

Each runs through kumo_api.actions.lifecycle.run with its row of kumo_common.lifecycle (the
one table of allowed states), and hands the agent an objects.ActionParams built here
in the transaction that claims the task_state.
"""
from __future__ import annotations

import uuid as uuidlib

from flask import g, jsonify, make_response
from oslo_config import cfg
from oslo_log import log as logging

from kumo_api import compute_api, errors, image_fit, policy, validation
from kumo_api.actions import lifecycle, network_info
from kumo_api.resources.servers import _audience, get_instance
from kumo_api.views import links
from kumo_api.views import servers as views
from kumo_common import exceptions, objects, states
from kumo_common import image as images
from kumo_common import lifecycle as actions
from kumo_common.db import block_devices as bdm_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, network_cache, session
from kumo_common.db import snapshots as snapshot_db
from kumo_common.image import snapshot as image_snapshot

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Hypervisors whose guests need the QEMU guest agent to have a password set (the
# libvirt driver reports QEMU or KVM; the fake driver 'fake').
_AGENT_HYPERVISORS = ('QEMU', 'KVM', 'qemu', 'kvm')
_TRUE = ('true', '1', 'yes', 'on', 'y')


def _authorize(rule: str, instance: models.Instance) -> None:
    policy.authorize(g.context, f'os_compute_api:{rule}',
                     {'project_id': instance.project_id, 'user_id': instance.user_id})


def _system_metadata(s, instance_uuid: str) -> dict[str, str | None]:
    rows = s.query(models.InstanceSystemMetadata).filter_by(instance_uuid=instance_uuid)
    return {r.key: r.value for r in rows}


# --- changePassword ------------------------------------------------------------------------
def change_password(instance: models.Instance, body: dict) -> None:
    _authorize('os-admin-password', instance)
    spec = actions.get('set_admin_password')
    lifecycle.check(g.context, instance, spec, spec.recorded_as)
    with session.reader() as s:
        node = s.query(models.ComputeNode).filter_by(
            uuid=instance.compute_node_uuid).first() if instance.compute_node_uuid else None
        agent = _system_metadata(s, instance.uuid).get('image_hw_qemu_guest_agent')
    # As Nova's libvirt driver: without the guest agent in the image there is no way
    # into the guest (QemuGuestAgentNotEnabled, a 409), said before anything starts.
    if node is not None and node.hypervisor_type in _AGENT_HYPERVISORS and \
            str(agent or '').lower() not in _TRUE:
        raise errors.Conflict('QEMU guest agent is not enabled')
    lifecycle.run(g.context, instance, 'set_admin_password',
                  params=objects.ActionParams(admin_password=body['adminPass']))


# --- createImage / createBackup ----------------------------------------------------------
def _snapshot(instance: models.Instance, action: str, name: str, image_type: str,
              extra: dict, rotation: int | None = None, backup_type: str | None = None):
    ctxt = g.context
    image_id = str(uuidlib.uuid4())
    catalog = images.api()

    def fields(server: models.Instance, s=None) -> dict:
        return image_snapshot.fields(
            name, instance_uuid=server.uuid, image_ref=server.image_ref,
            project_id=server.project_id, user_id=ctxt.user_id,
            root_gb=(server.flavor or {}).get('root_gb', 0) or 0, image_type=image_type,
            base=catalog.find(ctxt, server.image_ref, session=s), extra=extra)

    if catalog.external:
        # An image API call is never made inside the transaction that claims the
        # task: the queued image is created first (once the state allows the action)
        # and deleted again if the claim fails.
        spec = actions.get(action)
        lifecycle.check(ctxt, instance, spec, spec.recorded_as)
        catalog.create_snapshot(ctxt, image_id, fields(instance))

    def prepare(s, fresh: models.Instance) -> objects.ActionParams:
        # The local catalog: a `saving` row and the store file the agent writes, in
        # the claim's transaction; an external Glance: the agent uploads (no path).
        path = None if catalog.external else \
            catalog.create_snapshot(ctxt, image_id, fields(fresh, s), session=s)
        if rotation is not None:
            snapshot_db.set_rotation(fresh, backup_type, rotation)
        return objects.ActionParams(snapshot_id=image_id, snapshot_path=path)

    try:
        lifecycle.run(ctxt, instance, action, prepare=prepare)
    except Exception:
        if catalog.external:
            catalog.delete(ctxt, image_id)
        raise
    # 2.45+: the image id in the body; before, only the Location header (and, for a
    # backup, only if rotation keeps it).
    if g.want.at_least(2, 45):
        return make_response(jsonify({'image_id': image_id}), 202)
    response = make_response('', 202)
    if rotation is None or rotation > 0:
        response.headers['Location'] = links.collection_url(f'images/{image_id}')
    return response


def create_image(instance: models.Instance, body: dict):
    _authorize('servers:create_image', instance)
    return _snapshot(instance, 'snapshot', body['name'], 'snapshot',
                     dict(body.get('metadata') or {}))


def create_backup(instance: models.Instance, body: dict):
    _authorize('os-create-backup', instance)
    rotation = int(body['rotation'])
    extra = dict(body.get('metadata') or {})
    extra['backup_type'] = body['backup_type']
    return _snapshot(instance, 'backup', body['name'], 'backup', extra,
                     rotation=rotation, backup_type=body['backup_type'])


# --- rebuild -------------------------------------------------------------------------------
def _ports(s, instance_uuid: str) -> list[objects.PortSpec]:
    """The server's ports for its rebuilt or rescued guest (its NICs and
    network_data.json): its network info cache, whichever service holds them."""
    return network_cache.ports(s, instance_uuid)


def _boot_images(ctxt, image: images.Image) -> tuple[objects.ImageSpec | None, ...]:
    """The kernel and ramdisk an image boots with (its kernel_id / ramdisk_id), read
    before the action's transaction (they may be image API calls)."""
    catalog = images.api()
    found = (catalog.find(ctxt, image.properties.get(key))
             for key in ('kernel_id', 'ramdisk_id'))
    return tuple(i.spec() if i is not None else None for i in found)


def _flavor_spec(flavor: dict) -> objects.FlavorSpec:
    return objects.FlavorSpec(
        flavorid=str(flavor.get('flavorid', '')), name=flavor.get('name', ''),
        vcpus=flavor.get('vcpus', 1), memory_mb=flavor.get('memory_mb', 0),
        root_gb=flavor.get('root_gb', 0), ephemeral_gb=flavor.get('ephemeral_gb', 0),
        swap=flavor.get('swap', 0) or 0, extra_specs=flavor.get('extra_specs') or {})


def _build_payload(s, fresh: models.Instance, image: images.Image,
                   admin_pass: str | None,
                   boot_images: tuple[objects.ImageSpec | None, ...]
                   ) -> objects.InstanceBuild:
    """The server as the agent builds it, from `image` (rebuild, rescue)."""
    kernel, ramdisk = boot_images
    return objects.InstanceBuild(
        uuid=fresh.uuid, name=fresh.display_name or '', hostname=fresh.hostname or '',
        project_id=fresh.project_id, user_id=fresh.user_id,
        flavor=_flavor_spec(fresh.flavor or {}), image=image.spec(),
        node_uuid=fresh.compute_node_uuid or '',
        metadata={m.key: m.value for m in fresh.metadata_items},
        user_data=fresh.user_data, key_data=fresh.key_data,
        config_drive=bool(fresh.config_drive), admin_password=admin_pass,
        ports=_ports(s, fresh.uuid), availability_zone=fresh.availability_zone,
        instance_name='instance-%08x' % fresh.id, key_name=fresh.key_name,
        kernel=kernel, ramdisk=ramdisk,
        block_devices=bdm_db.local_specs(s, fresh.uuid))


def rebuild(instance: models.Instance, body: dict):
    ctxt = g.context
    want = g.want
    _authorize('servers:rebuild', instance)
    if 'trusted_image_certificates' in body:
        _authorize('servers:rebuild:trusted_certs', instance)
    spec = actions.get('rebuild')
    lifecycle.check(ctxt, instance, spec, spec.recorded_as)
    if 'user_data' in body:
        compute_api.decode_user_data(body['user_data'])
    image_id = compute_api._ref_id(body['imageRef'])
    admin_pass = body.get('adminPass') or compute_api.generate_password()
    try:
        image = images.api().get(ctxt, image_id)
    except (exceptions.ImageNotFound, exceptions.Forbidden) as exc:
        raise errors.BadRequest('Cannot find requested image') from exc
    boot_images = _boot_images(ctxt, image)
    with session.reader() as s:
        if image.status != 'active':
            raise errors.BadRequest(f'Image {image.id} is not active.')
        flavor = instance.flavor or {}
        image_fit.check(image, flavor.get('memory_mb') or 0, flavor.get('root_gb') or 0)
        image_props = image.properties
        key_data = instance.key_data
        if want.at_least(2, 54) and 'key_name' in body:
            key_data = None
            if body['key_name'] is not None:
                keypair = s.query(models.KeyPair).filter_by(
                    user_id=instance.user_id, name=body['key_name']).first()
                if keypair is None:
                    raise errors.BadRequest('Invalid key_name provided.')
                key_data = keypair.public_key
    values: dict = {'image_ref': image.id, 'kernel_id': image_props.get('kernel_id'),
                    'ramdisk_id': image_props.get('ramdisk_id'),
                    'admin_password': admin_pass}
    for field, column in (('name', 'display_name'), ('description', 'display_description'),
                          ('accessIPv4', 'access_ip_v4'), ('accessIPv6', 'access_ip_v6'),
                          ('hostname', 'hostname'), ('user_data', 'user_data')):
        if field in body:
            values[column] = body[field]
    for column in ('access_ip_v4', 'access_ip_v6'):
        if column in values:
            values[column] = validation.canonical_ip(values[column])
    if 'OS-DCF:diskConfig' in body:
        values['auto_disk_config'] = body['OS-DCF:diskConfig'] == 'AUTO'
    if want.at_least(2, 54) and 'key_name' in body:
        values['key_name'] = body['key_name']
        values['key_data'] = key_data
    preserve = str(body.get('preserve_ephemeral', False)).lower() in _TRUE
    was_stopped = instance.vm_state == states.STOPPED

    def prepare(s, fresh: models.Instance) -> objects.ActionParams:
        for column, value in values.items():
            setattr(fresh, column, value)
        if 'metadata' in body:
            fresh.metadata_items = []
            s.flush()   # the old rows go before new ones of the same keys come
            fresh.metadata_items = [models.InstanceMetadata(key=k, value=v)
                                    for k, v in body['metadata'].items()]
        # The new image's properties replace the old one's (image_* system_metadata).
        # (Updated in place: a delete and an insert of one key in one flush would
        # meet in the unique constraint.)
        wanted = {f'image_{k}': v for k, v in image_props.items()}
        for row in list(fresh.system_metadata):
            if row.key in wanted:
                row.value = wanted.pop(row.key)
            elif row.key.startswith('image_'):
                fresh.system_metadata.remove(row)
        s.flush()
        fresh.system_metadata.extend(models.InstanceSystemMetadata(key=k, value=v)
                                     for k, v in wanted.items())
        s.flush()
        return objects.ActionParams(
            build=_build_payload(s, fresh, image, admin_pass, boot_images),
            preserve_ephemeral=preserve, start=not was_stopped)

    lifecycle.run(ctxt, instance, 'rebuild', prepare=prepare)
    return _rebuild_response(instance.uuid, admin_pass)


def _rebuild_response(server_id: str, admin_pass: str):
    # As Nova's: the server view as PUT /servers/{id} returns it (basic before 2.75,
    # with key_name from 2.54), its user_data from 2.57 as a key of its own (whoever
    # asks; never as OS-EXT-SRV-ATTR:user_data), and adminPass when [api]
    # enable_instance_password.
    want = g.want
    with session.reader() as s:
        instance = get_instance(server_id, s, for_view=True)
        audience = _audience()
        related = views.load_related(s, [instance], want, audience, show=True)
        if want.at_least(2, 75):
            view = views.server_view(instance, want, related, audience, show=True)
            view.pop('OS-EXT-SRV-ATTR:user_data', None)
        else:
            view = views.basic_server_view(instance, want, related, audience)
            if want.at_least(2, 54):
                view['key_name'] = instance.key_name
    if want.at_least(2, 57):
        view['user_data'] = instance.user_data
    if CONF.api.enable_instance_password:
        view['adminPass'] = admin_pass
    return make_response(jsonify({'server': view}), 202)


# --- rescue / unrescue -------------------------------------------------------------------
def rescue(instance: models.Instance, body: dict | None):
    ctxt = g.context
    body = body or {}
    _authorize('os-rescue', instance)
    spec = actions.get('rescue')
    lifecycle.check(ctxt, instance, spec, spec.recorded_as)
    admin_pass = body.get('adminPass') or compute_api.generate_password()
    # The rescue image: the one asked for, else the server's own (as Nova).
    image_id = body.get('rescue_image_ref') or instance.image_ref
    try:
        image = images.api().get(ctxt, image_id)
    except (exceptions.ImageNotFound, exceptions.Forbidden) as exc:
        raise errors.BadRequest(f'Image {image_id} could not be found.') from exc
    if image.status != 'active':
        raise errors.BadRequest(f'Image {image.id} is not active.')
    boot_images = _boot_images(ctxt, image)

    def prepare(s, fresh: models.Instance) -> objects.ActionParams:
        return objects.ActionParams(
            build=_build_payload(s, fresh, image, admin_pass, boot_images))

    lifecycle.run(ctxt, instance, 'rescue', prepare=prepare)
    view = {'adminPass': admin_pass} if CONF.api.enable_instance_password else {}
    return make_response(jsonify(view), 200)


def unrescue(instance: models.Instance, body) -> None:
    _authorize('os-unrescue', instance)
    lifecycle.run(g.context, instance, 'unrescue')


# --- admin actions on the server's state and network info -------------------------------
# os-resetState's states -> vm_state.
_RESET_STATES = {'active': states.ACTIVE, 'error': states.ERROR}


def reset_state(instance: models.Instance, body) -> None:
    """An admin's word on what state the server is in, as Nova's: vm_state active or
    error, no task (nor its deadline), whatever it was doing; recorded as a
    resetState instance action. Nothing is asked of the agent: a step still running
    there reports to a server that no longer waits for it, and is ignored."""
    _authorize('os-admin-actions:reset_state', instance)
    state = _RESET_STATES[body['state']]
    ctxt = g.context
    with session.transaction() as s:
        action = instance_db.start_action(s, instance.uuid, 'resetState', ctxt)
        if not instance_db.update_if(s, instance.uuid, {
                'vm_state': state, 'task_state': None, 'task_deadline': None}):
            raise errors.NotFound(f'Instance {instance.uuid} could not be found.')
        action.finish_time = action.start_time
    LOG.info('State of instance %s reset to %s by %s', instance.uuid, state, ctxt.user_id)


def inject_network_info(instance: models.Instance, body) -> None:
    """As Nova's: the server's network info is read again from the network service
    (its info cache, which the views and the config drive's network data are made
    from); the guest itself is not touched (Nova's libvirt driver does nothing with
    it either). Refused for a locked server unless the caller is an admin."""
    ctxt = g.context
    _authorize('os-admin-actions:inject_network_info', instance)
    lifecycle.check_not_locked(ctxt, instance)
    network_info.refresh(ctxt, instance.uuid)
    LOG.info('Network info of instance %s read again for %s', instance.uuid,
             ctxt.user_id)
