"""What the API does to servers beyond HTTP: resolve references, admit the request,
write the rows of a new server in one transaction, and hand work to the conductor."""
from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import string
import unicodedata
import uuid as uuidlib
from dataclasses import dataclass, field

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from kumo_api import block_devices, errors, image_fit, rpc_clients, scheduling
from kumo_api.actions import lifecycle
from kumo_common import deadlines, exceptions, objects, quota, states
from kumo_common import image as images
from kumo_common import network as network_api
from kumo_common.db import flavors as flavor_db
from kumo_common.db import instances as instance_db
from kumo_common.db import models, session, system_metadata
from kumo_common.db import networks as network_db
from kumo_common.db import ports as port_db
from kumo_common.db import server_groups as group_db

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


@dataclass
class CreateRequest:
    """A validated POST /servers, references still unresolved."""
    name: str
    flavor_ref: str
    image_ref: str
    networks: str | list | None  # None = omitted (< 2.37), 'auto', 'none' or list
    min_count: int = 1
    max_count: int = 1
    description: str | None = None
    metadata: dict = field(default_factory=dict)
    user_data: str | None = None
    admin_pass: str | None = None
    key_name: str | None = None
    availability_zone: str | None = None
    config_drive: bool = False
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    auto_disk_config: bool | None = None  # None: as the image's auto_disk_config says
    hostname: str | None = None
    tags: list = field(default_factory=list)
    trusted_certs: list | None = None
    scheduler_hints: dict = field(default_factory=dict)
    description_from_name: bool = False
    # 2.74 admin `host` / `hypervisor_hostname` (requested destination).
    requested_host: str | None = None
    requested_node: str | None = None
    # Checked item by item by block_devices.from_request.
    block_device_mappings: list = field(default_factory=list)
    security_groups: list = field(default_factory=lambda: ['default'])
    personality: list = field(default_factory=list)  # [(path, base64 contents)]


@dataclass
class CreateResult:
    instance_uuids: list[str]
    reservation_id: str
    admin_pass: str
    auto_disk_config: bool = False


def _ref_id(ref) -> str:
    """A flavor/image reference may be an id or a URL ending in the id."""
    return str(ref).rstrip('/').rsplit('/', 1)[-1]


def generate_password(length: int | None = None) -> str:
    length = CONF.password_length if length is None else length
    alphabet = [c for c in string.ascii_letters + string.digits if c not in 'lI10Oo']
    return ''.join(secrets.choice(alphabet) for _ in range(length))


def sanitize_hostname(name: str, default: str) -> str:
    """Nova's rule: latin-1 only, 63 chars, separators to '-', lower case."""
    text = unicodedata.normalize('NFKD', name).encode('latin-1', 'ignore').decode('latin-1')
    text = re.sub(r'[ _.]', '-', text)
    text = re.sub(r'[^\w.-]+', '', text, flags=re.ASCII).lower()
    text = text[:63].strip('.-')
    return text or default


def normalise_hints(hints: dict) -> dict:
    """Hints as Nova stores them: string lists, internal `_nova*` keys dropped."""
    result = {}
    for key, value in (hints or {}).items():
        if key.startswith('_nova'):
            continue
        values = value if isinstance(value, list) else [value]
        result[key] = [v if isinstance(v, str) else _json_str(v) for v in values]
    return result


def _json_str(value) -> str:
    import json
    return json.dumps(value)


def _resolve_networks(s, req: CreateRequest, ctxt) -> list[objects.NetworkRequest]:
    """The NICs a create asks for, checked against the network service's rows: a
    network the project may use, a port of the project that no server holds (it is
    reserved once the server's row exists), a fixed IP inside the network and free."""
    project_id = ctxt.project_id
    if req.networks == 'none':
        return []
    if req.networks is None or req.networks == 'auto' or req.networks == []:
        default = network_db.default_network(s, project_id)
        return [objects.NetworkRequest(network_id=default.id)] if default is not None else []
    result = []
    for item in req.networks:
        if item.get('port'):
            result.append(_requested_port(s, item['port'], ctxt, item.get('tag')))
            continue
        if 'uuid' not in item:
            raise errors.BadRequest("Bad network format: missing 'uuid'")
        try:
            network = network_db.get_network(s, item['uuid'])
        except exceptions.NetworkNotFound as exc:
            raise errors.BadRequest(f"Network {item['uuid']} could not be found.") from exc
        if not network.shared and network.project_id not in (None, project_id):
            raise errors.BadRequest(f"Network {item['uuid']} could not be found.")
        fixed_ip = item.get('fixed_ip')
        if fixed_ip:
            fixed_ip = _free_fixed_ip(s, network, fixed_ip)
        result.append(objects.NetworkRequest(network_id=network.id, fixed_ip=fixed_ip,
                                             tag=item.get('tag')))
    return result


def _requested_port(s, port_id: str, ctxt, tag: str | None) -> objects.NetworkRequest:
    port = s.get(models.Port, port_id)
    if port is None or (port.project_id != ctxt.project_id and not ctxt.is_admin_role):
        raise errors.BadRequest(f'Port {port_id} could not be found.')
    if port.device_id:
        raise errors.Conflict(f'Port {port_id} is still in use.')
    return objects.NetworkRequest(network_id=port.network_id, port_id=port.id, tag=tag)


def _free_fixed_ip(s, network: models.Network, fixed_ip: str) -> str:
    subnet = network_db.subnet_of(network, fixed_ip)
    if subnet is None:
        raise errors.BadRequest(f'Fixed IP {fixed_ip} is not a valid ip address for network '
                                f'{network.id}.')
    address = str(ipaddress.ip_address(fixed_ip))
    holder = network_db.address_owner(s, subnet.id, address)
    if holder is not None or address == subnet.gateway_ip:
        raise errors.Conflict(f'Fixed IP address {address} is already in use on instance '
                              f'{holder.device_id if holder else "(the gateway)"}.')
    return address


def create_servers(ctxt, req: CreateRequest) -> CreateResult:
    """Admit and record a create request, then cast it to the conductor."""
    reservation_id = 'r-' + ''.join(secrets.choice(string.ascii_lowercase + string.digits)
                                    for _ in range(8))
    admin_pass = req.admin_pass or generate_password()
    scheduling.validate_hints(req.scheduler_hints or {})
    hints = normalise_hints(req.scheduler_hints)
    where = scheduling.placement(ctxt, req.availability_zone, req.requested_host,
                                 req.requested_node)
    quota.ensure_usage(ctxt.project_id, ctxt.user_id)
    if hints.get('group'):
        quota.ensure_server_group_usage(ctxt.project_id, ctxt.user_id, hints['group'][0])
    # Without imageRef, the image->local boot disk of the mappings (if any).
    image_id = _ref_id(req.image_ref) if req.image_ref \
        else block_devices.boot_image_id(req.block_device_mappings)
    # An image API's answer is read before the transaction (no call is made holding
    # locks), the local catalog's in it (no transaction of its own); either way its
    # errors are raised in the order Nova checks things, below.
    image_api = images.api()
    image_lookup = _lookup_image(ctxt, image_api, image_id) if image_api.external \
        else None
    # With an external Neutron the NICs are checked through its API, here, for the
    # same reason; with the local service, in the transaction below.
    networks = network_api.api()
    nics_lookup = _lookup_networks(ctxt, networks, req) if networks.external else None
    unknown_groups = networks.unknown_security_groups(ctxt, req.security_groups)
    with session.transaction() as s:
        if not image_api.external:
            image_lookup = _lookup_image(ctxt, image_api, image_id, s)
        group = scheduling.resolve_group(s, ctxt, hints)
        scheduling.check_enabled(hints, group)
        scheduling.check_destination(s, where)
        try:
            # Another project's private flavor does not exist for this caller.
            flavor = flavor_db.get_visible(s, _ref_id(req.flavor_ref), ctxt.project_id,
                                           ctxt.is_admin_role)
        except exceptions.FlavorNotFound as exc:
            raise errors.BadRequest('Invalid flavorRef provided.') from exc
        if flavor.disabled:
            raise errors.BadRequest('Invalid flavorRef provided.')
        if not image_id:
            if not req.block_device_mappings:
                raise errors.BadRequest('Missing imageRef attribute')
            raise errors.BadRequest(block_devices.NOTHING_TO_BOOT)
        if isinstance(image_lookup, Exception):
            # Another project's private image does not exist for this caller.
            raise errors.BadRequest('Can not find requested image') from image_lookup
        image = image_lookup
        bdms = block_devices.check(s, req.block_device_mappings, image_id, flavor)
        auto_disk_config = _auto_disk_config(req.auto_disk_config, image)
        if image.status != 'active':
            raise errors.BadRequest(f'Image {image.id} is not active.')
        image_fit.check(image, flavor.memory_mb, flavor.root_gb)
        key_data = None
        if req.key_name:
            keypair = s.scalars(sa.select(models.KeyPair).where(
                models.KeyPair.user_id == ctxt.user_id,
                models.KeyPair.name == req.key_name)).first()
            if keypair is None:
                raise errors.BadRequest('Invalid key_name provided.')
            key_data = keypair.public_key
        if where.availability_zone:
            if where.availability_zone not in scheduling.known_zones(s):
                raise errors.BadRequest('The requested availability zone is not available')
        # The project's limits, read once for the checks and the admission below.
        limits = quota.get_limits(s, ctxt.project_id)
        quota.check_metadata_items(s, ctxt.project_id, len(req.metadata), limits)
        quota.check_injected_files(s, ctxt.project_id, ctxt.user_id, req.personality,
                                   limits)
        if unknown_groups:
            # Nova's SecurityGroupNotFound, in the words of Neutron's lookup.
            raise errors.BadRequest(f'Unable to find security_group with name or id '
                                    f"'{unknown_groups[0]}'")
        if isinstance(nics_lookup, Exception):
            raise nics_lookup
        nics = nics_lookup if networks.external else _resolve_networks(s, req, ctxt)
        # Atomic: charged in this transaction, so concurrent creates cannot overshoot.
        count = quota.admit_instances(s, ctxt.project_id, ctxt.user_id, flavor.vcpus,
                                      flavor.memory_mb, req.min_count, req.max_count,
                                      project_limits=limits)

        image_props = image.properties
        flavor_snapshot = flavor_db.snapshot(flavor)
        spec = objects.RequestSpec(
            instance_uuids=[], project_id=ctxt.project_id, user_id=ctxt.user_id,
            flavor=objects.FlavorSpec(
                flavorid=flavor.flavorid, name=flavor.name, vcpus=flavor.vcpus,
                memory_mb=flavor.memory_mb, root_gb=flavor.root_gb,
                ephemeral_gb=flavor.ephemeral_gb, swap=flavor.swap,
                extra_specs=flavor_snapshot['extra_specs']),
            image=image.spec(),
            scheduler_hints=hints, requested_networks=[n.network_id for n in nics],
            network_requests=nics, **where.spec_fields())
        uuids = []
        for index in range(count):
            uuid = str(uuidlib.uuid4())
            uuids.append(uuid)
            multi = count > 1
            name = f'{req.name}-{index + 1}' if multi else req.name
            hostname = req.hostname or sanitize_hostname(req.name, f'Server-{uuid}')
            if multi and not req.hostname:
                hostname = f'{hostname}-{index + 1}'
            instance = models.Instance(
                uuid=uuid, project_id=ctxt.project_id, user_id=ctxt.user_id,
                display_name=name,
                display_description=name if req.description_from_name else req.description,
                hostname=hostname, reservation_id=reservation_id, launch_index=index,
                image_ref=image.id, kernel_id=image_props.get('kernel_id'),
                ramdisk_id=image_props.get('ramdisk_id'), instance_type_id=flavor.id,
                flavor=flavor_snapshot, vcpus=flavor.vcpus, memory_mb=flavor.memory_mb,
                root_gb=flavor.root_gb, ephemeral_gb=flavor.ephemeral_gb,
                key_name=req.key_name, key_data=key_data, user_data=req.user_data,
                admin_password=admin_pass,
                config_drive='True' if (req.config_drive or CONF.force_config_drive)
                else '',
                auto_disk_config=auto_disk_config, access_ip_v4=req.access_ip_v4,
                access_ip_v6=req.access_ip_v6, trusted_certs=req.trusted_certs,
                vm_state=states.BUILDING, task_state=states.task.SCHEDULING,
                task_deadline=deadlines.deadline_for(states.task.SCHEDULING),
                power_state=states.power.NOSTATE, progress=0,
                availability_zone=where.availability_zone or CONF.default_availability_zone,
                pinned_availability_zone=where.availability_zone,
                root_device_name='/dev/vda', os_type=image_props.get('os_type'),
                architecture=image_props.get('architecture'))
            instance.metadata_items = [models.InstanceMetadata(key=k, value=v)
                                       for k, v in req.metadata.items()]
            instance.system_metadata = [
                models.InstanceSystemMetadata(key=f'image_{k}', value=v)
                for k, v in image_props.items()] + system_metadata.rows(
                    req.security_groups, req.personality)
            instance.tags = [models.Tag(tag=t) for t in dict.fromkeys(req.tags)]
            s.add(instance)
            s.flush()
            s.add_all(block_devices.rows(uuid, bdms))
            instance_spec = objects.RequestSpec(**{**spec.__dict__, 'instance_uuids': [uuid]})
            s.add(models.RequestSpecRecord(instance_uuid=uuid,
                                           spec=instance_spec.to_primitive(),
                                           scheduler_hints=hints))
            instance_db.start_action(s, uuid, 'create', ctxt)
            for nic in nics:
                # Taken now, in the server's transaction: two creates cannot share it.
                # (A Neutron port is taken when the conductor binds it.)
                if nic.port_id and not networks.external \
                        and not port_db.reserve(s, nic.port_id, uuid):
                    raise errors.Conflict(f'Port {nic.port_id} is still in use.')
        spec.instance_uuids = uuids
        if group is not None:
            # Membership is written with the servers, charged to the user's
            # server_group_members quota; the scheduler's claim checks the policy under
            # a lock on the group (kumo_common.db.scheduling.claim). The lock taken
            # here also keeps a concurrent delete of the group out.
            if not group_db.lock_existing(s, group.id):
                raise errors.BadRequest(f'Instance group {group.uuid} could not be found.')
            quota.admit_group_members(s, ctxt.project_id, ctxt.user_id, group.uuid,
                                      len(uuids))
            group_db.add_members(s, group, uuids)
    LOG.info('Accepted %d server(s) %s, reservation %s', len(uuids), ', '.join(uuids),
             reservation_id)
    rpc_clients.conductor().build_instances(ctxt, spec)
    return CreateResult(uuids, reservation_id, admin_pass, auto_disk_config)


def _lookup_networks(ctxt, networks: network_api.NetworkAPI, req: CreateRequest
                     ) -> list[objects.NetworkRequest] | Exception:
    """The NICs as an external network API checks them, or why they cannot be had."""
    try:
        return networks.resolve_requests(ctxt, req.networks)
    except (exceptions.Invalid, exceptions.Conflict) as exc:
        return exc


def _lookup_image(ctxt, image_api: images.ImageAPI, image_id: str | None,
                  s=None) -> images.Image | Exception | None:
    """The image to boot as the caller may see it, or why it cannot be had (not
    found, not authorized); None without an image id. `s`: the session to read the
    local catalog in."""
    if not image_id:
        return None
    try:
        return image_api.get(ctxt, image_id, session=s)
    except (exceptions.ImageNotFound, exceptions.Forbidden) as exc:
        return exc


def _auto_disk_config(requested: bool | None, image: images.Image) -> bool:
    """Nova's rule: the image's auto_disk_config property decides when the request
    does not, and an image that says 'Disabled' refuses AUTO."""
    value = image.properties.get('auto_disk_config')
    if value == 'Disabled' and requested:
        raise errors.BadRequest(f'Requested image {image.id} has automatic disk resize '
                                'disabled.')
    if requested is None:
        return str(value).lower() in ('1', 't', 'true', 'on', 'y', 'yes')
    return requested


def delete_server(ctxt, instance: models.Instance, force: bool = False) -> None:
    """Delete a server: a soft delete when reclaim_instance_interval is set and the
    server has launched (unless forced), else mark it deleting and have the conductor
    destroy it."""
    if (not force and CONF.reclaim_instance_interval > 0 and instance.launched_at
            and instance.vm_state != states.SOFT_DELETED):
        lifecycle.run(ctxt, instance, 'soft_delete', record_as='delete', check_lock=False)
        return
    with session.transaction() as s:
        instance_db.update_if(s, instance.uuid, {'task_state': states.task.DELETING})
        instance_db.start_action(s, instance.uuid, 'delete', ctxt)
    rpc_clients.conductor().delete_instance(ctxt, instance.uuid)


def decode_user_data(value: str | None) -> None:
    if value is None:
        return
    try:
        base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise errors.BadRequest('User data needs to be valid base 64.') from exc
