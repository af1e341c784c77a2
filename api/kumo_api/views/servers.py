"""Server views: GET /servers, /servers/detail, /servers/{id} at every microversion.

A detail page builds 1,000 of these, so the work that is the same for every server
of a request is done once: the microversion and policy decisions (`_Shape`), the
link prefixes, and the parts many servers share (status of a state, hostId of a
host, the image, the flavor, the security groups), which are built once per request
and the same object put in every view that shows it (views are only serialized,
never changed).
"""
from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from oslo_config import cfg

from kumo_api.microversion import APIVersion
from kumo_api.views import links, times
from kumo_common import states
from kumo_common.db import compute_nodes as node_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, server_views, session

CONF = cfg.CONF


@dataclass
class Audience:
    """What the caller may see, decided by policy once per request."""
    extended_attributes: bool = False
    host_status: bool = False


class Related:
    """Rows the views need beside the instances, loaded once per request in a few
    batched queries (kumo_common.db.server_views), and the parts of views built once
    per request.

    `plain`: every view built with it holds only dicts, lists, strings, integers,
    booleans and None (no float or NaN from a JSON text a user wrote, e.g. a
    scheduler hint), so fast_json may encode them.
    """

    def __init__(self, rows: server_views.Related | None = None, faults=None,
                 services=None):
        rows = rows or server_views.Related()
        self.addresses = rows.addresses
        self.metadata = rows.metadata
        self.tags = rows.tags
        self.image_properties = rows.image_properties
        self.hints = rows.hints
        self.groups = rows.groups
        self.security_groups = rows.security_groups
        self.faults = faults or {}
        self.services = services or {}
        self.links = links.prefixes()
        self.plain = True
        self._shapes: dict = {}
        self._statuses: dict = {}
        self._host_ids: dict = {}
        self._images: dict = {}
        self._flavors: dict = {}
        self._security_groups: dict = {}
        self._hints: dict = {}

    def shape(self, want: APIVersion, audience: Audience, show: bool) -> _Shape:
        key = (want, audience.extended_attributes, audience.host_status, show)
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = _Shape(want, audience, show)
        return shape

    def status(self, instance) -> str:
        key = (instance.vm_state, instance.task_state, instance.deleted)
        status = self._statuses.get(key)
        if status is None:
            status = self._statuses[key] = _status(instance)
        return status

    def host_id(self, project_id: str, host: str | None) -> str:
        key = (project_id, host)
        value = self._host_ids.get(key)
        if value is None:
            value = self._host_ids[key] = host_id(project_id, host)
        return value

    def image(self, instance, with_properties: bool):
        ref = instance.image_ref
        if not ref:
            return ''
        # The properties the server was (re)built with (servers with the same ones
        # share the dict, kumo_common.db.server_views, and so the view).
        props = self.image_properties.get(instance.uuid, _NO_PROPERTIES) \
            if with_properties else None
        key = (ref, id(props))
        view = self._images.get(key)
        if view is None:
            view = {'id': ref, 'links': links.bookmark('images', ref, self.links)}
            if with_properties:
                view['properties'] = props
            self._images[key] = view
        return view

    def flavor(self, instance, embedded: bool) -> dict:
        # The same decoded snapshot (kumo_common.db.server_views) for every server
        # booted with it: one view for all of them, unless the view needs the
        # instance's own columns (a snapshot without the sizes).
        snap = instance.flavor
        key = (id(snap), embedded)
        view = self._flavors.get(key)
        if view is None:
            view = self._note(_flavor(instance, embedded, self.links))
            if snap is not None and all(k in snap for k in _SNAPSHOT_SIZES):
                self._flavors[key] = view
        return view

    def security_group_view(self, uuid: str) -> list:
        names = self.security_groups.get(uuid)
        if names is None:
            names = _DEFAULT_GROUPS
        view = self._security_groups.get(id(names))
        if view is None:
            view = self._security_groups[id(names)] = self._note(
                [{'name': name} for name in names])
        return view

    def hints_of(self, uuid: str) -> dict:
        hints = self.hints.get(uuid)
        if hints is None:
            return {}
        if id(hints) not in self._hints:
            self._hints[id(hints)] = self._note(hints)
        return hints

    def trusted_certs(self, value):
        if value is not None:
            self._note(value)
        return value

    def _note(self, value):
        """`value` (a part of a view decoded from a JSON text), noting in `plain`
        whether it holds a float."""
        if self.plain and not _is_plain(value):
            self.plain = False
        return value


_SNAPSHOT_SIZES = ('vcpus', 'memory_mb', 'root_gb', 'ephemeral_gb')
_NO_PROPERTIES: dict = {}
_DEFAULT_GROUPS = ['default']


def _is_plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return value is None or isinstance(value, (str, int))  # bool is an int


class _Shape:
    """Which parts a view has, decided once per request from the microversion, the
    policy decisions and whether it is a show."""

    def __init__(self, want: APIVersion, audience: Audience, show: bool):
        at = want.at_least
        self.extended = audience.extended_attributes
        self.extended_2_3 = self.extended and at(2, 3)
        self.hostname = at(2, 90)
        self.locked = at(2, 9)
        self.host_status = at(2, 16) and audience.host_status
        self.description = at(2, 19)
        self.tags = at(2, 26)
        self.flavor_embedded = at(2, 47)
        self.trusted_certs = at(2, 63)
        self.server_groups = show and at(2, 71)
        self.locked_reason = at(2, 73)
        self.pinned_az = at(2, 96)
        self.image_properties = at(2, 98)
        self.hints = at(2, 100)


def load_related(bind, instances: list, want: APIVersion, audience: Audience,
                 show: bool = False) -> Related:
    """Related of `instances` (ServerRows) in two queries, plus one for faults when
    a server is in ERROR or DELETED and one for its host's service when the caller
    sees host_status."""
    uuids = [i.uuid for i in instances]
    rows = server_views.related(
        bind, uuids, images=want.at_least(2, 98),
        hints=want.at_least(2, 100), groups=show and want.at_least(2, 71))
    return complete_related(bind, instances, want, audience, rows)


def complete_related(bind, instances: list, want: APIVersion, audience: Audience,
                     rows: server_views.Related) -> Related:
    """Related from what server_views read, and the faults and services the views
    of `instances` need beside (read through `bind`, a session or a connection)."""
    faulted = [i.uuid for i in instances if _status(i) in states.FAULT_STATUSES]
    hosts = ({i.host for i in instances if i.host}
             if want.at_least(2, 16) and audience.host_status else None)
    faults, services = {}, None
    if faulted or hosts is not None:
        with session.orm_session(bind) as s:
            if faulted:
                faults = instance_db.latest_faults(s, faulted)
            if hosts is not None:
                services = node_db.services_by_host(s, hosts)
    return Related(rows, faults, services)


def _status(instance) -> str:
    return states.status_from_state(instance.vm_state, instance.task_state,
                                    deleted=bool(instance.deleted))


def host_id(project_id: str, host: str | None) -> str:
    if not host:
        return ''
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def server_minimal(instance, at: links.Prefixes | None = None) -> dict:
    return {'id': instance.uuid, 'name': instance.display_name,
            'links': links.resource_links('servers', instance.uuid, at)}


def addresses(instance, related: Related) -> dict:
    """The server's addresses by network name, as its views show them."""
    if instance.vm_state == states.BUILDING:
        return {}
    addresses: dict[str, list] = {}
    for network, mac, address in related.addresses.get(instance.uuid, ()):
        entries = addresses.get(network)
        if entries is None:
            entries = addresses[network] = []
        if address is not None:
            entries.append({'version': 6 if ':' in address else 4, 'addr': address,
                            'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': mac})
    return addresses


def _flavor(instance, embedded: bool, at: links.Prefixes) -> dict:
    snap = instance.flavor or {}
    if not embedded:
        flavorid = snap.get('flavorid', '')
        return {'id': flavorid, 'links': links.bookmark('flavors', flavorid, at)}
    return {'vcpus': snap.get('vcpus', instance.vcpus),
            'ram': snap.get('memory_mb', instance.memory_mb),
            'disk': snap.get('root_gb', instance.root_gb),
            'ephemeral': snap.get('ephemeral_gb', instance.ephemeral_gb),
            'swap': snap.get('swap', 0),
            'original_name': snap.get('name', ''),
            'extra_specs': snap.get('extra_specs', {})}


def _fault(instance, related: Related, audience: Audience):
    fault = related.faults.get(instance.uuid)
    if fault is None:
        return None
    view = {'code': fault.code, 'created': times.iso_z(fault.created_at),
            'message': fault.message}
    if fault.details and (audience.extended_attributes or fault.code != 500):
        view['details'] = fault.details
    return view


def _host_status(instance, related: Related) -> str:
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


def basic_server_view(instance, want: APIVersion, related: Related,
                      audience: Audience) -> dict:
    """The cut-down representation PUT returned before 2.75."""
    view = server_view(instance, want, related, audience, show=True)
    view = {k: v for k, v in view.items() if not k.startswith(_NOT_IN_BASIC_VIEW)}
    # And addresses without their OS-EXT-IPS* details.
    view['addresses'] = {name: [{'addr': a['addr'], 'version': a['version']} for a in items]
                         for name, items in view['addresses'].items()}
    return view


def server_view(instance, want: APIVersion, related: Related, audience: Audience,
                show: bool = False) -> dict:
    """The full representation of one server (show and detail list)."""
    return _view(instance, related, related.shape(want, audience, show), audience)


def server_views_of(instances: list, want: APIVersion, related: Related,
                    audience: Audience) -> list[dict]:
    """The detail list's views of `instances`."""
    shape = related.shape(want, audience, False)
    return [_view(i, related, shape, audience) for i in instances]


def _view(instance, related: Related, shape: _Shape, audience: Audience) -> dict:
    uuid = instance.uuid
    status = related.status(instance)
    at = related.links
    iso_z, iso_naive = times.iso_z, times.iso_naive
    created = instance.created_at
    view = {
        'id': uuid,
        'name': instance.display_name,
        'status': status,
        'tenant_id': instance.project_id,
        'user_id': instance.user_id,
        'metadata': related.metadata.get(uuid, {}),
        'hostId': related.host_id(instance.project_id, instance.host),
        'image': related.image(instance, shape.image_properties),
        'flavor': related.flavor(instance, shape.flavor_embedded),
        'created': iso_z(created),
        'updated': iso_z(instance.updated_at or created),
        'addresses': addresses(instance, related),
        'accessIPv4': instance.access_ip_v4 or '',
        'accessIPv6': instance.access_ip_v6 or '',
        'links': [{'href': f'{at.versioned}/servers/{uuid}', 'rel': 'self'},
                  {'href': f'{at.bookmark}/servers/{uuid}', 'rel': 'bookmark'}],
        'OS-DCF:diskConfig': 'AUTO' if instance.auto_disk_config else 'MANUAL',
        'OS-EXT-AZ:availability_zone': instance.availability_zone or '',
        'config_drive': instance.config_drive or '',
        'key_name': instance.key_name,
        'OS-SRV-USG:launched_at': iso_naive(instance.launched_at),
        'OS-SRV-USG:terminated_at': iso_naive(instance.terminated_at),
        'OS-EXT-STS:task_state': instance.task_state,
        'OS-EXT-STS:vm_state': instance.vm_state,
        'OS-EXT-STS:power_state': instance.power_state or 0,
        'os-extended-volumes:volumes_attached': [],
    }
    if status in states.PROGRESS_STATUSES:
        view['progress'] = instance.progress or 0
    # Shown for servers with ports, in groups, only (as Nova, which reads them off
    # Neutron's ports).
    if related.addresses.get(uuid):
        groups = related.security_group_view(uuid)
        if groups:
            view['security_groups'] = groups
    if status in states.FAULT_STATUSES:
        fault = _fault(instance, related, audience)
        if fault:
            view['fault'] = fault
    if shape.extended:
        view['OS-EXT-SRV-ATTR:host'] = instance.host
        view['OS-EXT-SRV-ATTR:instance_name'] = 'instance-%08x' % instance.id
        view['OS-EXT-SRV-ATTR:hypervisor_hostname'] = instance.node
        if shape.extended_2_3:
            view['OS-EXT-SRV-ATTR:reservation_id'] = instance.reservation_id
            view['OS-EXT-SRV-ATTR:launch_index'] = instance.launch_index
            view['OS-EXT-SRV-ATTR:kernel_id'] = instance.kernel_id or ''
            view['OS-EXT-SRV-ATTR:ramdisk_id'] = instance.ramdisk_id or ''
            view['OS-EXT-SRV-ATTR:hostname'] = instance.hostname
            view['OS-EXT-SRV-ATTR:root_device_name'] = instance.root_device_name
            view['OS-EXT-SRV-ATTR:user_data'] = instance.user_data
    if shape.hostname:
        view['OS-EXT-SRV-ATTR:hostname'] = instance.hostname
    if shape.locked:
        view['locked'] = bool(instance.locked)
    if shape.host_status:
        view['host_status'] = _host_status(instance, related)
    if shape.description:
        view['description'] = instance.display_description
    if shape.tags:
        view['tags'] = sorted(related.tags.get(uuid, ()))
    if shape.trusted_certs:
        view['trusted_image_certificates'] = related.trusted_certs(instance.trusted_certs)
    if shape.server_groups:
        view['server_groups'] = related.groups.get(uuid, [])
    if shape.locked_reason:
        view['locked_reason'] = instance.locked_reason
    if shape.pinned_az:
        view['pinned_availability_zone'] = instance.pinned_availability_zone
    if shape.hints:
        view['scheduler_hints'] = related.hints_of(uuid)
    return view
