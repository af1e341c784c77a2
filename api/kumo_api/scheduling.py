"""What the API does about scheduling: validate hints (Nova's schema, plus Kumo's
"a hint whose filter is disabled is refused"), parse forced and requested
destinations, resolve the `group` hint, and build a RequestSpec for a dry run."""
from __future__ import annotations

import ipaddress
import json
import uuid as uuidlib
from dataclasses import dataclass, field

import sqlalchemy as sa
from oslo_config import cfg

from kumo_api import errors, policy, validation
from kumo_common import exceptions, objects
from kumo_common import image as images
from kumo_common import scheduler_hints as hint_table
from kumo_common.db import flavors as flavor_db
from kumo_common.db import models
from kumo_common.db import server_groups as group_db

CONF = cfg.CONF

_uuid = {'type': 'string', 'format': 'uuid'}
# Nova's hints schema (nova/api/openstack/compute/schemas/servers.py _hints); open.
HINTS_SCHEMA = {
    'type': 'object',
    'properties': {
        'group': {'oneOf': [_uuid, {'type': 'array', 'items': _uuid}]},
        'different_host': {'oneOf': [_uuid, {'type': 'array', 'items': _uuid}]},
        'same_host': {'oneOf': [_uuid, {'type': 'array', 'items': _uuid}]},
        'query': {'type': ['string', 'object']},
        'target_cell': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        'different_cell': {'type': ['string', 'array'], 'items': {'type': 'string'}},
        'build_near_host_ip': {'type': 'string', 'oneOf': [{'format': 'ipv4'},
                                                           {'format': 'ipv6'}]},
        'cidr': {'type': 'string', 'pattern': '^/[0-9a-f.:]+$'},
    },
    'additionalProperties': True,
}

GROUP_FILTERS = hint_table.GROUP_POLICIES


def validate_hints(hints: dict) -> None:
    """Nova's schema for the known hints (400 naming the field), and a query that
    the JsonFilter could not evaluate is refused too (Nova would fail the build)."""
    validation.validate({'os:scheduler_hints': hints},
                        {'type': 'object', 'properties': {'os:scheduler_hints': HINTS_SCHEMA}})
    group = hints.get('group')
    if isinstance(group, list) and len(set(group)) > 1:
        raise errors.BadRequest('Invalid input for field/attribute os:scheduler_hints/group. '
                                'Only one server group may be given.')
    query = hints.get('query')
    if query not in (None, ''):
        try:
            parsed = hint_table.parse_query(query)
        except ValueError as exc:
            raise errors.BadRequest('Invalid input for field/attribute '
                                    'os:scheduler_hints/query. The query must be JSON: '
                                    f'{exc}') from exc
        problem = hint_table.query_problem(parsed)
        if problem:
            raise errors.BadRequest('Invalid input for field/attribute '
                                    f'os:scheduler_hints/query. {problem}')
    if 'cidr' in hints and 'build_near_host_ip' in hints:
        try:
            ipaddress.ip_network(f"{hints['build_near_host_ip']}{hints['cidr']}",
                                 strict=False)
        except ValueError as exc:
            raise errors.BadRequest('Invalid input for field/attribute '
                                    f'os:scheduler_hints/cidr. {exc}') from exc


def check_enabled(hints: dict, group: models.ServerGroup | None) -> None:
    """Beyond Nova: a hint whose filter (or weigher) is disabled is refused."""
    enabled = set(hint_table.short_names(CONF.filter_scheduler.enabled_filters))
    for hint, name in hint_table.HINT_FILTERS.items():
        if hint in hints and name not in enabled:
            raise errors.BadRequest(
                f"Scheduler hint '{hint}' needs the {name} filter, which is not enabled: "
                f'add it to [filter_scheduler] enabled_filters.')
    if group is not None and group.policy in GROUP_FILTERS:
        kind, name = GROUP_FILTERS[group.policy]
        if kind == 'filter' and name not in enabled:
            raise errors.BadRequest(
                f"Scheduler hint 'group' (policy {group.policy}) needs the {name} filter, "
                'which is not enabled: add it to [filter_scheduler] enabled_filters.')
        if kind == 'weigher':
            try:
                names = set(hint_table.weigher_names(CONF.filter_scheduler.weight_classes))
            except ValueError:
                names = set()
            if name not in names:
                raise errors.BadRequest(
                    f"Scheduler hint 'group' (policy {group.policy}) needs the {name} "
                    'weigher, which is not enabled: add it to [filter_scheduler] '
                    'weight_classes.')


def resolve_group(s, ctxt, hints: dict) -> models.ServerGroup | None:
    """The server group of the `group` hint (normalised hints), or a 400."""
    values = hints.get('group') or []
    if not values:
        return None
    try:
        group = group_db.get_by_uuid(s, values[0])
    except exceptions.InstanceGroupNotFound as exc:
        raise errors.BadRequest(str(exc)) from exc
    if group.project_id != ctxt.project_id and not ctxt.is_admin_role:
        raise errors.BadRequest(f'Instance group {values[0]} could not be found.')
    return group


@dataclass
class Placement:
    """Where the request asks to go, beyond hints."""
    availability_zone: str | None
    force_hosts: list = field(default_factory=list)
    force_nodes: list = field(default_factory=list)
    requested_destination: dict | None = None

    def spec_fields(self) -> dict:
        return {'availability_zone': self.availability_zone,
                'force_hosts': list(self.force_hosts), 'force_nodes': list(self.force_nodes),
                'requested_destination': self.requested_destination}


def placement(ctxt, availability_zone: str | None, host: str | None = None,
              node: str | None = None) -> Placement:
    """Nova's parse_availability_zone (az, az:host, az:host:node, az::node; admin)
    and the 2.74 host/hypervisor_hostname (admin; filters still run)."""
    az, forced_host, forced_node = availability_zone, None, None
    if availability_zone and ':' in availability_zone:
        colons = availability_zone.count(':')
        if colons == 1:
            az, forced_host = availability_zone.split(':')
        elif colons == 2:
            if '::' in availability_zone:
                az, forced_node = availability_zone.split('::')
            else:
                az, forced_host, forced_node = availability_zone.split(':')
        else:
            raise errors.BadRequest('Invalid input received: Unable to parse '
                                    'availability_zone')
    if forced_host or forced_node:
        policy.authorize(ctxt, 'os_compute_api:servers:create:forced_host', {})
    if host or node:
        policy.authorize(ctxt, 'compute:servers:create:requested_destination', {})
        if forced_host or forced_node:
            raise errors.BadRequest('The requested availability zone with host/node '
                                    'cannot be combined with host or hypervisor_hostname.')
    result = Placement(az or CONF.default_schedule_zone or None,
                       [forced_host] if forced_host else [],
                       [forced_node] if forced_node else [])
    if host or node:
        result.requested_destination = {'host': host, 'node': node}
    return result


def check_destination(s, where: Placement) -> None:
    """2.74: a requested host/node must exist (400 as Nova)."""
    dest = where.requested_destination
    if not dest:
        return
    query = sa.select(models.ComputeNode.id).where(models.ComputeNode.deleted.is_(False))
    if dest.get('host'):
        query = query.where(models.ComputeNode.host == dest['host'])
    if dest.get('node'):
        query = query.where(models.ComputeNode.hypervisor_hostname == dest['node'])
    if s.scalar(query.limit(1)) is None:
        if dest.get('host') and dest.get('node'):
            raise errors.BadRequest(f"Compute host {dest['host']} with hypervisor_hostname "
                                    f"{dest['node']} could not be found.")
        raise errors.BadRequest(f"Compute host {dest.get('host') or dest.get('node')} "
                                'could not be found.')


def known_zones(s) -> set[str]:
    """Zones a request may name: nodes' zones and aggregates' availability_zone."""
    zones = set(s.scalars(sa.select(models.ComputeNode.availability_zone).where(
        models.ComputeNode.deleted.is_(False))))
    zones |= set(s.scalars(sa.select(models.AggregateMetadata.value).where(
        models.AggregateMetadata.key == 'availability_zone')))
    zones.add(CONF.default_availability_zone)
    return {z for z in zones if z}


def _ref_id(ref) -> str:
    return str(ref).rstrip('/').rsplit('/', 1)[-1]


def dry_run_spec(s, ctxt, server: dict, hints: dict) -> objects.RequestSpec:
    """The RequestSpec POST /servers would send for this body (nothing written)."""
    try:
        flavor = flavor_db.get_by_flavorid(s, _ref_id(server['flavorRef']))
    except exceptions.FlavorNotFound as exc:
        raise errors.BadRequest('Invalid flavorRef provided.') from exc
    image_spec = None
    if server.get('imageRef'):
        try:
            image = images.api().get(ctxt, _ref_id(server['imageRef']), visible=False,
                                     session=s)
        except (exceptions.ImageNotFound, exceptions.Forbidden) as exc:
            raise errors.BadRequest('Can not find requested image') from exc
        # What a filter reads (the agent is not told where the data is).
        image_spec = image.spec()
        image_spec.location = None
    validate_hints(hints)
    from kumo_api import compute_api
    normalised = compute_api.normalise_hints(hints)
    group = resolve_group(s, ctxt, normalised)
    check_enabled(normalised, group)
    where = placement(ctxt, server.get('availability_zone'), server.get('host'),
                      server.get('hypervisor_hostname'))
    if where.availability_zone and where.availability_zone not in known_zones(s):
        raise errors.BadRequest('The requested availability zone is not available')
    check_destination(s, where)
    count = int(server.get('max_count', server.get('min_count', 1)))
    snapshot = flavor_db.snapshot(flavor)
    return objects.RequestSpec(
        instance_uuids=[str(uuidlib.uuid4()) for _ in range(count)],
        project_id=ctxt.project_id, user_id=ctxt.user_id,
        flavor=objects.FlavorSpec(
            flavorid=flavor.flavorid, name=flavor.name, vcpus=flavor.vcpus,
            memory_mb=flavor.memory_mb, root_gb=flavor.root_gb,
            ephemeral_gb=flavor.ephemeral_gb, swap=flavor.swap,
            extra_specs=snapshot['extra_specs']),
        image=image_spec, scheduler_hints=normalised, **where.spec_fields())


def hints_view() -> dict:
    """Every hint Kumo knows, the filter/weigher that honours it and whether on."""
    enabled = set(hint_table.short_names(CONF.filter_scheduler.enabled_filters))
    result = {}
    for hint, name in hint_table.HINT_FILTERS.items():
        result[hint] = {'filters': [name], 'enabled': name in enabled,
                        'schema': HINTS_SCHEMA['properties'][hint]}
    result['group'] = {
        'filters': ['ServerGroupAffinityFilter', 'ServerGroupAntiAffinityFilter'],
        'weighers': ['ServerGroupSoftAffinityWeigher', 'ServerGroupSoftAntiAffinityWeigher'],
        'enabled': {policy_name: name in enabled if kind == 'filter' else True
                    for policy_name, (kind, name) in GROUP_FILTERS.items()},
        'schema': HINTS_SCHEMA['properties']['group']}
    return result


def dumps(value) -> str:
    return json.dumps(value)
