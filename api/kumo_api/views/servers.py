"""Server views: GET /servers, /servers/detail, /servers/{id} at every microversion."""
from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

from oslo_config import cfg

from kumo_api.microversion import APIVersion
from kumo_api.views import links, times
from kumo_common import states
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, server_views

CONF = cfg.CONF


@dataclass
class Related:
    """Rows the views need beside the instances, loaded once per request in a few
    batched queries (kumo_common.db.server_views): the instances' own relationships
    are not loaded."""
    faults: dict = field(default_factory=dict)
    addresses: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    image_properties: dict = field(default_factory=dict)
    hints: dict = field(default_factory=dict)
    services: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    security_groups: dict = field(default_factory=dict)
    links: links.Prefixes | None = None


@dataclass
class Audience:
    """What the caller may see, decided by policy once per request."""
    extended_attributes: bool = False
    host_status: bool = False


def load_related(session, instances: list[models.Instance], want: APIVersion,
                 audience: Audience, show: bool = False) -> Related:
    uuids = [i.uuid for i in instances]
    related = Related()
    related.faults = instance_db.latest_faults(
        session, [i.uuid for i in instances if _status(i) in states.FAULT_STATUSES])
    related.links = links.prefixes()
    related.addresses = server_views.addresses(session, uuids)
    extras = server_views.extras(
        session, uuids,
        image_ids={i.image_ref for i in instances if i.image_ref}
        if want.at_least(2, 98) else (),
        hints=want.at_least(2, 100), groups=show and want.at_least(2, 71))
    related.metadata = extras.metadata
    related.tags = extras.tags
    related.security_groups = extras.security_groups
    related.image_properties = extras.image_properties
    related.hints = extras.hints
    related.groups = extras.groups
    if want.at_least(2, 16) and audience.host_status:
        related.services = node_db.services_by_host(
            session, {i.host for i in instances if i.host})
    return related


def _status(instance: models.Instance) -> str:
    return states.status_from_state(instance.vm_state, instance.task_state,
                                    deleted=bool(instance.deleted))


def host_id(project_id: str, host: str | None) -> str:
    if not host:
        return ''
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def server_minimal(instance: models.Instance) -> dict:
    return {'id': instance.uuid, 'name': instance.display_name,
            'links': links.resource_links('servers', instance.uuid)}


def _addresses(instance: models.Instance, related: Related) -> dict:
    if instance.vm_state == states.BUILDING:
        return {}
    addresses: dict[str, list] = {}
    for network, mac, address in related.addresses.get(instance.uuid, ()):
        entries = addresses.setdefault(network, [])
        if address is not None:
            entries.append({'version': 6 if ':' in address else 4, 'addr': address,
                            'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': mac})
    return addresses


def _flavor(instance: models.Instance, want: APIVersion, related: Related) -> dict:
    snap = instance.flavor or {}
    if not want.at_least(2, 47):
        flavorid = snap.get('flavorid', '')
        return {'id': flavorid, 'links': links.bookmark('flavors', flavorid, related.links)}
    return {'vcpus': snap.get('vcpus', instance.vcpus),
            'ram': snap.get('memory_mb', instance.memory_mb),
            'disk': snap.get('root_gb', instance.root_gb),
            'ephemeral': snap.get('ephemeral_gb', instance.ephemeral_gb),
            'swap': snap.get('swap', 0),
            'original_name': snap.get('name', ''),
            'extra_specs': snap.get('extra_specs', {})}


def _image(instance: models.Instance, want: APIVersion, related: Related):
    if not instance.image_ref:
        return ''
    view = {'id': instance.image_ref,
            'links': links.bookmark('images', instance.image_ref, related.links)}
    if want.at_least(2, 98):
        view['properties'] = related.image_properties.get(instance.image_ref, {})
    return view


def _fault(instance: models.Instance, related: Related, audience: Audience):
    fault = related.faults.get(instance.uuid)
    if fault is None:
        return None
    view = {'code': fault.code, 'created': times.iso_z(fault.created_at),
            'message': fault.message}
    if fault.details and (audience.extended_attributes or fault.code != 500):
        view['details'] = fault.details
    return view


def _host_status(instance: models.Instance, related: Related) -> str:
    if not instance.host:
        return ''
    service = related.services.get(instance.host)
    if service is None:
        return 'UNKNOWN'
    if service.forced_down:
        return 'DOWN'
    if service.disabled:
        return 'MAINTENANCE'
    last = service.last_seen_up
    if last is None or (models.utcnow() - last) > datetime.timedelta(
            seconds=CONF.service_down_time):
        return 'UNKNOWN'
    return 'UP'


# Keys Nova leaves out of the PUT /servers/{id} response before 2.75.
_NOT_IN_BASIC_VIEW = ('OS-EXT-AZ:', 'config_drive', 'key_name', 'OS-SRV-USG:', 'OS-EXT-STS:',
                      'os-extended-volumes:', 'security_groups', 'OS-EXT-SRV-ATTR:',
                      'host_status')


def basic_server_view(instance: models.Instance, want: APIVersion, related: Related,
                      audience: Audience) -> dict:
    """The cut-down representation PUT returned before 2.75."""
    view = server_view(instance, want, related, audience, show=True)
    view = {k: v for k, v in view.items() if not k.startswith(_NOT_IN_BASIC_VIEW)}
    # And addresses without their OS-EXT-IPS* details.
    view['addresses'] = {name: [{'addr': a['addr'], 'version': a['version']} for a in items]
                         for name, items in view['addresses'].items()}
    return view


def server_view(instance: models.Instance, want: APIVersion, related: Related,
                audience: Audience, show: bool = False) -> dict:
    """The full representation of one server (show and detail list)."""
    status = _status(instance)
    view = {
        'id': instance.uuid,
        'name': instance.display_name,
        'status': status,
        'tenant_id': instance.project_id,
        'user_id': instance.user_id,
        'metadata': related.metadata.get(instance.uuid, {}),
        'hostId': host_id(instance.project_id, instance.host),
        'image': _image(instance, want, related),
        'flavor': _flavor(instance, want, related),
        'created': times.iso_z(instance.created_at),
        'updated': times.iso_z(instance.updated_at or instance.created_at),
        'addresses': _addresses(instance, related),
        'accessIPv4': instance.access_ip_v4 or '',
        'accessIPv6': instance.access_ip_v6 or '',
        'links': links.resource_links('servers', instance.uuid, related.links),
        'OS-DCF:diskConfig': 'AUTO' if instance.auto_disk_config else 'MANUAL',
        'OS-EXT-AZ:availability_zone': instance.availability_zone or '',
        'config_drive': instance.config_drive or '',
        'key_name': instance.key_name,
        'OS-SRV-USG:launched_at': times.iso_naive(instance.launched_at),
        'OS-SRV-USG:terminated_at': times.iso_naive(instance.terminated_at),
        'OS-EXT-STS:task_state': instance.task_state,
        'OS-EXT-STS:vm_state': instance.vm_state,
        'OS-EXT-STS:power_state': instance.power_state or 0,
        'os-extended-volumes:volumes_attached': [],
    }
    if status in states.PROGRESS_STATUSES:
        view['progress'] = instance.progress or 0
    # Shown for servers with ports only (as Nova, which reads them off Neutron's ports).
    if related.addresses.get(instance.uuid):
        view['security_groups'] = [
            {'name': name}
            for name in related.security_groups.get(instance.uuid) or ['default']]
    fault = _fault(instance, related, audience) if status in states.FAULT_STATUSES else None
    if fault:
        view['fault'] = fault
    if audience.extended_attributes:
        view['OS-EXT-SRV-ATTR:host'] = instance.host
        view['OS-EXT-SRV-ATTR:instance_name'] = 'instance-%08x' % instance.id
        view['OS-EXT-SRV-ATTR:hypervisor_hostname'] = instance.node
        if want.at_least(2, 3):
            view['OS-EXT-SRV-ATTR:reservation_id'] = instance.reservation_id
            view['OS-EXT-SRV-ATTR:launch_index'] = instance.launch_index
            view['OS-EXT-SRV-ATTR:kernel_id'] = instance.kernel_id or ''
            view['OS-EXT-SRV-ATTR:ramdisk_id'] = instance.ramdisk_id or ''
            view['OS-EXT-SRV-ATTR:hostname'] = instance.hostname
            view['OS-EXT-SRV-ATTR:root_device_name'] = instance.root_device_name
            view['OS-EXT-SRV-ATTR:user_data'] = instance.user_data
    if want.at_least(2, 90):
        view['OS-EXT-SRV-ATTR:hostname'] = instance.hostname
    if want.at_least(2, 9):
        view['locked'] = bool(instance.locked)
    if want.at_least(2, 16) and audience.host_status:
        view['host_status'] = _host_status(instance, related)
    if want.at_least(2, 19):
        view['description'] = instance.display_description
    if want.at_least(2, 26):
        view['tags'] = sorted(related.tags.get(instance.uuid, ()))
    if want.at_least(2, 63):
        view['trusted_image_certificates'] = instance.trusted_certs
    if show and want.at_least(2, 71):
        view['server_groups'] = related.groups.get(instance.uuid, [])
    if want.at_least(2, 73):
        view['locked_reason'] = instance.locked_reason
    if want.at_least(2, 96):
        view['pinned_availability_zone'] = instance.pinned_availability_zone
    if want.at_least(2, 100):
        view['scheduler_hints'] = related.hints.get(instance.uuid, {})
    return view
