"""The OpenAPI 3.1 description of the compute API as Kumo serves it at its maximum
microversion, generated from the application itself and served at GET /openapi.json.

* Paths and methods come from the Flask url_map (routes under /v2.1; the aliases
  under /v2.1/{project_id}, and the legacy /v2 ones, take the same requests and are
  left out).
* Request bodies and query parameters are the JSON Schemas the handlers validate
  with (kumo_api.schemas, each window at microversion MAX), named per endpoint in
  OPERATIONS. tests/unit/api/test_openapi.py fails for a route without an entry, so
  a new route cannot go undescribed, and a schema change shows up here by itself.
* Responses: the success status and the top-level key(s) of its body; every error
  is a Nova fault ({"<faultName>": {"code": N, "message": "..."}}) with one of
  ERROR_CODES, except a 404 for a request no route takes (a path parameter holding
  a slash, say), which is webob's, as Nova's router answers it (kumo_api.app).
  No 5xx is described but 501 (not implemented): any other is a bug.

The JSON Schemas are Draft 4 (as Nova's); `_to_2020` rewrites the few Draft 4 forms
(boolean exclusiveMinimum, array-form items) that OpenAPI 3.1 spells differently,
and names two formats for what the handlers accept (Python regexes, ISO 8601 times).
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Flask, current_app, jsonify, request
from oslo_log import log as logging

from kumo_api import errors, microversion, server_filters, validation
from kumo_api.microversion import APIVersion
from kumo_api.resources import aggregates, flavor_access, image_metadata, server_actions
from kumo_api.resources import migrations as migration_resources
from kumo_api.schemas import aggregates as aggregate_schemas
from kumo_api.schemas import attach_interfaces as interface_schemas
from kumo_api.schemas import flavors as flavor_schemas
from kumo_api.schemas import hosts as host_schemas
from kumo_api.schemas import hypervisors as hypervisor_schemas
from kumo_api.schemas import instance_actions as action_schemas
from kumo_api.schemas import keypairs as keypair_schemas
from kumo_api.schemas import quotas as quota_schemas
from kumo_api.schemas import remote_consoles as console_schemas
from kumo_api.schemas import scheduler as scheduler_schemas
from kumo_api.schemas import security_groups as sg_schemas
from kumo_api.schemas import server_external_events as event_schemas
from kumo_api.schemas import server_groups as group_schemas
from kumo_api.schemas import server_metadata as metadata_schemas
from kumo_api.schemas import server_tags as tag_schemas
from kumo_api.schemas import servers as server_schemas
from kumo_api.schemas import services as service_schemas
from kumo_api.schemas import simple_tenant_usage as usage_schemas
from kumo_api.schemas import volume_attachments as volume_schemas

LOG = logging.getLogger(__name__)

PATH = '/openapi.json'
# 501: an action Kumo knows but does not implement yet (notImplemented, as Nova's).
ERROR_CODES = (400, 401, 403, 404, 406, 409, 413, 414, 415, 501)

SchemaAt = Callable[[APIVersion], dict]


@dataclass(frozen=True)
class Operation:
    """What one endpoint takes and answers (at the maximum microversion)."""
    status: tuple[int, ...] = (200,)
    body: SchemaAt | None = None           # request body schema
    body_optional: bool = False
    query: SchemaAt | None = None          # {"type": "object", "properties": {name: array}}
    # Success bodies: alternatives, each {top-level key: JSON type}; () = no body,
    # ({},) = some JSON object.
    returns: tuple[dict[str, str], ...] = ()
    public: bool = False                   # answers without a token
    # The microversion from which the endpoint answers 404 (not served at MAX).
    removed: tuple[int, int] | None = None
    extra: dict = field(default_factory=dict)


def windows(schemas: validation.Windows) -> SchemaAt:
    return lambda want: validation.schema_for(schemas, want)


def fixed(schema: dict) -> SchemaAt:
    return lambda want: schema


def _one_of_actions(entries: dict[str, SchemaAt]) -> SchemaAt:
    """POST .../action: exactly one key, the action's name, with its own schema."""
    def schema(want: APIVersion) -> dict:
        return {'oneOf': [{'type': 'object', 'properties': {name: at(want)},
                           'required': [name], 'additionalProperties': False}
                          for name, at in entries.items()]}
    return schema


def _server_actions() -> SchemaAt:
    def schema(want: APIVersion) -> dict:
        # (Only the actions served at `want`: the pre-2.6 console actions end at 2.5.)
        return _one_of_actions({
            name: windows(entry[1]) for name, entry in server_actions.ACTIONS.items()
            if any(APIVersion(*low) <= want <= APIVersion(*high)
                   for low, high, _schema in entry[1])})(want)
    return schema


def _flavor_actions() -> SchemaAt:
    return _one_of_actions({name: windows(entry[2])
                            for name, entry in flavor_access.ACTIONS.items()})


def _aggregate_actions(want: APIVersion) -> dict:
    # Each entry's schema is already the whole body ({"add_host": {...}}).
    return {'oneOf': [schema for schema, _handler in aggregates._ACTIONS.values()]}


def _services_query(want: APIVersion) -> dict:
    return validation.query_schema(service_schemas.INDEX_QUERY,
                                   allow_unknown=not want.at_least(2, 75))


OBJ, LIST, STR = 'object', 'array', 'string'

OPERATIONS: dict[str, Operation] = {
    # version discovery and this document
    'versions.versions_index': Operation(returns=({'versions': LIST},), public=True),
    'versions.version_v21': Operation(returns=({'version': OBJ},), public=True),
    'versions.version_v20': Operation(returns=({'version': OBJ},), public=True),
    'openapi.openapi_document': Operation(returns=({'openapi': STR},), public=True),
    'version_show.show_version': Operation(returns=({'version': OBJ},)),
    # the fixed v2.1 extension list (kumo_api.extension_list)
    'extensions.list_extensions': Operation(returns=({'extensions': LIST},)),
    'extensions.show_extension': Operation(returns=({'extension': OBJ},)),
    # servers
    'servers.create_server': Operation(
        status=(202,), body=windows(server_schemas.CREATE),
        returns=({'server': OBJ}, {'reservation_id': STR})),
    'servers.list_servers': Operation(query=server_filters.query_schema,
                                      returns=({'servers': LIST},)),
    'servers.list_servers_detail': Operation(query=server_filters.query_schema,
                                             returns=({'servers': LIST},)),
    'servers.show_server': Operation(returns=({'server': OBJ},)),
    'servers.update_server': Operation(body=windows(server_schemas.UPDATE),
                                       returns=({'server': OBJ},)),
    'servers.delete_server': Operation(status=(204,)),
    # (evacuate answers 200, confirmResize 204, as Nova's)
    'server_actions.server_action': Operation(status=(202, 200, 204),
                                              body=_server_actions()),
    'server_metadata.list_metadata': Operation(returns=({'metadata': OBJ},)),
    'server_metadata.update_metadata': Operation(body=fixed(metadata_schemas.METADATA),
                                                 returns=({'metadata': OBJ},)),
    'server_metadata.replace_metadata': Operation(body=fixed(metadata_schemas.METADATA),
                                                  returns=({'metadata': OBJ},)),
    'server_metadata.show_metadata_item': Operation(returns=({'meta': OBJ},)),
    'server_metadata.update_metadata_item': Operation(body=fixed(metadata_schemas.META),
                                                      returns=({'meta': OBJ},)),
    'server_metadata.delete_metadata_item': Operation(status=(204,)),
    'server_tags.list_tags': Operation(returns=({'tags': LIST},)),
    'server_tags.replace_tags': Operation(body=fixed(tag_schemas.REPLACE),
                                          returns=({'tags': LIST},)),
    'server_tags.delete_all_tags': Operation(status=(204,)),
    'server_tags.check_tag': Operation(status=(204,)),
    'server_tags.add_tag': Operation(status=(201, 204), body=fixed(tag_schemas.ADD_ONE),
                                     body_optional=True),
    'server_tags.delete_tag': Operation(status=(204,)),
    'instance_actions.list_actions': Operation(query=fixed(action_schemas.LIST_266),
                                               returns=({'instanceActions': LIST},)),
    'instance_actions.show_action': Operation(returns=({'instanceAction': OBJ},)),
    'migrations.list_migrations': Operation(query=migration_resources.list_query_schema,
                                            returns=({'migrations': LIST},)),
    # a server's live migrations in progress (kumo_api.resources.migrations)
    'migrations.list_server_migrations': Operation(returns=({'migrations': LIST},)),
    'migrations.show_server_migration': Operation(returns=({'migration': OBJ},)),
    'migrations.server_migration_action': Operation(
        status=(202,), body=fixed(migration_resources.FORCE_COMPLETE)),
    'migrations.abort_server_migration': Operation(status=(202,)),
    'simple_tenant_usage.list_tenant_usages': Operation(
        query=usage_schemas.index_query, returns=({'tenant_usages': LIST},)),
    'simple_tenant_usage.show_tenant_usage': Operation(
        query=usage_schemas.show_query, returns=({'tenant_usage': OBJ},)),
    'scheduler.scheduling_report': Operation(returns=({'scheduling_report': OBJ},)),
    'scheduler.dry_run': Operation(body=windows(scheduler_schemas.DRY_RUN),
                                   returns=({'dry_run': OBJ},)),
    'scheduler.capabilities': Operation(returns=({'capabilities': OBJ},)),
    # images proxy: gone after 2.35
    'images.list_images': Operation(removed=(2, 36)),
    'images.list_images_detail': Operation(removed=(2, 36)),
    'images.show_image': Operation(removed=(2, 36)),
    'images.delete_image': Operation(status=(204,), removed=(2, 36)),
    'image_metadata.list_image_metadata': Operation(returns=({'metadata': OBJ},),
                                                    removed=(2, 39)),
    'image_metadata.update_image_metadata': Operation(
        body=fixed(image_metadata.METADATA_SCHEMA), returns=({'metadata': OBJ},),
        removed=(2, 39)),
    'image_metadata.replace_image_metadata': Operation(
        body=fixed(image_metadata.METADATA_SCHEMA), returns=({'metadata': OBJ},),
        removed=(2, 39)),
    'image_metadata.show_image_metadata_item': Operation(returns=({'meta': OBJ},),
                                                         removed=(2, 39)),
    'image_metadata.update_image_metadata_item': Operation(
        body=fixed(image_metadata.META_SCHEMA), returns=({'meta': OBJ},), removed=(2, 39)),
    'image_metadata.delete_image_metadata_item': Operation(status=(204,), removed=(2, 39)),
    # the audit of instance usage (admin): no host ever runs it in Kumo
    'instance_usage_audit_log.list_audit_logs': Operation(
        returns=({'instance_usage_audit_logs': OBJ},)),
    'instance_usage_audit_log.show_audit_log': Operation(
        returns=({'instance_usage_audit_log': OBJ},)),
    # network proxies (reads of Neutron's networks): gone after 2.35
    'network_proxies.list_networks': Operation(returns=({'networks': LIST},),
                                               removed=(2, 36)),
    'network_proxies.show_network': Operation(returns=({'network': OBJ},),
                                              removed=(2, 36)),
    'network_proxies.list_tenant_networks': Operation(returns=({'networks': LIST},),
                                                      removed=(2, 36)),
    'network_proxies.show_tenant_network': Operation(returns=({'network': OBJ},),
                                                     removed=(2, 36)),
    # security group proxies (through the network service): gone after 2.35
    'security_groups.list_security_groups': Operation(
        query=fixed(sg_schemas.INDEX_QUERY), returns=({'security_groups': LIST},),
        removed=(2, 36)),
    'security_groups.show_security_group': Operation(returns=({'security_group': OBJ},),
                                                     removed=(2, 36)),
    'security_groups.create_security_group': Operation(
        body=fixed(sg_schemas.GROUP), returns=({'security_group': OBJ},), removed=(2, 36)),
    'security_groups.update_security_group': Operation(
        body=fixed(sg_schemas.GROUP), returns=({'security_group': OBJ},), removed=(2, 36)),
    'security_groups.delete_security_group': Operation(status=(202,), removed=(2, 36)),
    'security_groups.create_security_group_rule': Operation(
        body=fixed(sg_schemas.RULE), returns=({'security_group_rule': OBJ},),
        removed=(2, 36)),
    'security_groups.delete_security_group_rule': Operation(status=(202,), removed=(2, 36)),
    'security_groups.list_server_security_groups': Operation(
        query=sg_schemas.server_query, returns=({'security_groups': LIST},)),
    'server_password.show_password': Operation(returns=({'password': STR},)),
    'server_password.clear_password': Operation(status=(204,)),
    # 2.78: Kumo's guests have no NUMA topology, so nodes is always empty.
    'server_topology.show_topology': Operation(returns=({'nodes': LIST},)),
    # No volume service: never an attachment (kumo_api.resources.volume_attachments).
    'volume_attachments.list_volume_attachments': Operation(
        query=volume_schemas.index_query, returns=({'volumeAttachments': LIST},)),
    'volume_attachments.show_volume_attachment': Operation(status=(404,)),
    'volume_attachments.attach_volume': Operation(status=(404,),
                                                  body=windows(volume_schemas.CREATE)),
    'volume_attachments.update_volume_attachment': Operation(
        status=(404,), body=windows(volume_schemas.UPDATE)),
    'volume_attachments.detach_volume': Operation(status=(404,)),
    # a server's interfaces (ports hot-plugged: kumo_api.actions.interfaces)
    'attach_interfaces.list_interfaces': Operation(
        returns=({'interfaceAttachments': LIST},)),
    'attach_interfaces.show_interface': Operation(returns=({'interfaceAttachment': OBJ},)),
    'attach_interfaces.attach_interface': Operation(
        body=windows(interface_schemas.CREATE), returns=({'interfaceAttachment': OBJ},)),
    'attach_interfaces.detach_interface': Operation(status=(202,)),
    # remote consoles (kumo_api.actions.consoles) and their tokens (admin, 2.31+)
    'remote_consoles.create_remote_console': Operation(
        body=windows(console_schemas.CREATE), returns=({'remote_console': OBJ},)),
    'remote_consoles.show_console_auth_token': Operation(
        query=windows(console_schemas.TOKEN_QUERY), returns=({'console': OBJ},)),
    # Nova's standard diagnostics at MAX (before 2.48: the driver's own keys).
    'server_diagnostics.show_diagnostics': Operation(returns=({
        'state': STR, 'driver': STR, 'config_drive': 'boolean', 'cpu_details': LIST,
        'nic_details': LIST, 'disk_details': LIST, 'memory_details': OBJ},)),
    # other services' events (admin/service): 207 when some were not accepted
    'server_external_events.create_events': Operation(
        status=(200, 207), body=windows(event_schemas.CREATE), returns=({'events': LIST},)),
    'server_ips.list_ips': Operation(returns=({'addresses': OBJ},)),
    'server_ips.show_ips': Operation(returns=({},)),  # {network label: [...]}
    # flavors
    'flavors.list_flavors': Operation(query=flavor_schemas.list_query,
                                      returns=({'flavors': LIST},)),
    'flavors.list_flavors_detail': Operation(query=flavor_schemas.list_query,
                                             returns=({'flavors': LIST},)),
    'flavors.show_flavor': Operation(returns=({'flavor': OBJ},)),
    'flavors.create_flavor': Operation(body=windows(flavor_schemas.CREATE),
                                       returns=({'flavor': OBJ},)),
    'flavors.update_flavor': Operation(body=windows(flavor_schemas.UPDATE),
                                       returns=({'flavor': OBJ},)),
    'flavors.delete_flavor': Operation(status=(202,)),
    'flavor_access.list_flavor_access': Operation(returns=({'flavor_access': LIST},)),
    'flavor_access.flavor_action': Operation(body=_flavor_actions(),
                                             returns=({'flavor_access': LIST},)),
    'flavor_extra_specs.list_extra_specs': Operation(returns=({'extra_specs': OBJ},)),
    'flavor_extra_specs.create_extra_specs': Operation(
        body=fixed(flavor_schemas.EXTRA_SPECS_CREATE), returns=({'extra_specs': OBJ},)),
    'flavor_extra_specs.update_extra_spec': Operation(
        body=fixed(flavor_schemas.EXTRA_SPECS_UPDATE), returns=({},)),
    'flavor_extra_specs.show_extra_spec': Operation(returns=({},)),
    'flavor_extra_specs.delete_extra_spec': Operation(),
    # key pairs, limits, quotas
    'keypairs.list_keypairs': Operation(query=keypair_schemas.index_query,
                                        returns=({'keypairs': LIST},)),
    'keypairs.create_keypair': Operation(status=(201,), body=windows(keypair_schemas.CREATE),
                                         returns=({'keypair': OBJ},)),
    'keypairs.show_keypair': Operation(query=keypair_schemas.item_query,
                                       returns=({'keypair': OBJ},)),
    'keypairs.delete_keypair': Operation(status=(204,), query=keypair_schemas.item_query),
    'limits.show_limits': Operation(query=quota_schemas.limits_query,
                                    returns=({'limits': OBJ},)),
    'quota_sets.show_quota_set': Operation(query=quota_schemas.quota_query,
                                           returns=({'quota_set': OBJ},)),
    'quota_sets.show_defaults': Operation(returns=({'quota_set': OBJ},)),
    'quota_sets.show_detail': Operation(query=quota_schemas.quota_query,
                                        returns=({'quota_set': OBJ},)),
    'quota_sets.update_quota_set': Operation(query=quota_schemas.quota_query,
                                             body=windows(quota_schemas.UPDATE),
                                             returns=({'quota_set': OBJ},)),
    'quota_sets.delete_quota_set': Operation(status=(202,), query=quota_schemas.quota_query),
    'quota_class_sets.show_quota_class_set': Operation(returns=({'quota_class_set': OBJ},)),
    'quota_class_sets.update_quota_class_set': Operation(
        body=windows(quota_schemas.CLASS_UPDATE), returns=({'quota_class_set': OBJ},)),
    # server groups
    'server_groups.list_server_groups': Operation(query=group_schemas.index_query,
                                                  returns=({'server_groups': LIST},)),
    'server_groups.show_server_group': Operation(returns=({'server_group': OBJ},)),
    'server_groups.create_server_group': Operation(body=windows(group_schemas.CREATE),
                                                   returns=({'server_group': OBJ},)),
    'server_groups.delete_server_group': Operation(status=(204,)),
    # services, hypervisors, zones, aggregates (mostly admin)
    'services.list_services': Operation(query=_services_query,
                                        returns=({'services': LIST},)),
    'services.update_service': Operation(body=windows(service_schemas.UPDATE),
                                         returns=({'service': OBJ},)),
    'services.delete_service': Operation(status=(204,)),
    'hypervisors.list_hypervisors': Operation(query=fixed(hypervisor_schemas.INDEX_253),
                                              returns=({'hypervisors': LIST},)),
    'hypervisors.list_hypervisors_detail': Operation(
        query=fixed(hypervisor_schemas.INDEX_253), returns=({'hypervisors': LIST},)),
    'hypervisors.show_hypervisor': Operation(query=fixed(hypervisor_schemas.SHOW_253),
                                             returns=({'hypervisor': OBJ},)),
    'hypervisors.hypervisor_uptime': Operation(removed=(2, 88)),
    'hypervisors.hypervisor_statistics': Operation(removed=(2, 88)),
    'hypervisors.search_hypervisors': Operation(removed=(2, 53)),
    'hypervisors.hypervisor_servers': Operation(removed=(2, 53)),
    # os-hosts (deprecated): gone from 2.43; no driver powers hosts (501).
    'hosts.list_hosts': Operation(query=fixed(host_schemas.INDEX_QUERY),
                                  returns=({'hosts': LIST},), removed=(2, 43)),
    'hosts.show_host': Operation(returns=({'host': LIST},), removed=(2, 43)),
    'hosts.update_host': Operation(body=fixed(host_schemas.UPDATE),
                                   returns=({'host': STR},), removed=(2, 43)),
    'hosts.startup_host': Operation(status=(501,), removed=(2, 43)),
    'hosts.shutdown_host': Operation(status=(501,), removed=(2, 43)),
    'hosts.reboot_host': Operation(status=(501,), removed=(2, 43)),
    'availability_zones.list_zones': Operation(returns=({'availabilityZoneInfo': LIST},)),
    'availability_zones.list_zones_detail': Operation(
        returns=({'availabilityZoneInfo': LIST},)),
    'aggregates.list_aggregates': Operation(returns=({'aggregates': LIST},)),
    'aggregates.create_aggregate': Operation(body=fixed(aggregate_schemas.CREATE),
                                             returns=({'aggregate': OBJ},)),
    'aggregates.show_aggregate': Operation(returns=({'aggregate': OBJ},)),
    'aggregates.update_aggregate': Operation(body=fixed(aggregate_schemas.UPDATE),
                                             returns=({'aggregate': OBJ},)),
    'aggregates.delete_aggregate': Operation(),
    'aggregates.aggregate_action': Operation(body=_aggregate_actions,
                                             returns=({'aggregate': OBJ},)),
    'aggregates.cache_images': Operation(status=(202,), body=fixed(aggregate_schemas.IMAGES)),
}


def described_rules(app: Flask) -> list:
    """The url_map rules this document is about: no static files, no project or
    legacy /v2 aliases, no removed API (kumo_api.resources.removed: 410 whatever is
    sent)."""
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint != 'static' and '_with_project.' not in rule.endpoint
            and '_v2.' not in rule.endpoint and not rule.endpoint.startswith('removed.')]


def methods_of(rule) -> list[str]:
    return sorted(rule.methods - {'HEAD', 'OPTIONS'})


# --- Draft 4 -> JSON Schema 2020-12 (OpenAPI 3.1) ----------------------------------------

def _to_2020(schema):
    if isinstance(schema, list):
        return [_to_2020(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _to_2020(value) for key, value in schema.items()}
    for bound, exclusive in (('minimum', 'exclusiveMinimum'), ('maximum', 'exclusiveMaximum')):
        if isinstance(out.get(exclusive), bool):
            if out.pop(exclusive) and bound in out:
                out[exclusive] = out.pop(bound)
    if isinstance(out.get('items'), list):
        out['prefixItems'] = out.pop('items')
        extra = out.pop('additionalItems', True)
        if extra is not True:
            out['items'] = extra
    else:
        out.pop('additionalItems', None)
    # Formats named for what the handlers accept. JSON Schema's "regex" is ECMA-262;
    # the filters take Python's (and the `regex` module's) syntax, which differs both
    # ways. Its "date-time" is RFC 3339; changes-since takes any ISO 8601 time, as Nova.
    renamed = {'regex': 'python-regex', 'date-time': 'iso8601'}
    if out.get('format') in renamed:
        out['format'] = renamed[out['format']]
    return out


# --- the document ------------------------------------------------------------------------

def _fault_schema() -> dict:
    return {
        'type': 'object', 'minProperties': 1, 'maxProperties': 1,
        'propertyNames': {'enum': sorted(set(errors.FAULT_NAMES.values()))
                          + ['computeFault']},
        'additionalProperties': {
            'type': 'object', 'required': ['code', 'message'],
            'properties': {'code': {'type': 'integer'}, 'message': {'type': 'string'}},
        },
    }


def _no_route_schema() -> dict:
    """webob's 404 for a request no route takes, in JSON."""
    return {'type': 'object', 'required': ['code', 'message', 'title'],
            'properties': {'code': {'const': '404 Not Found'},
                           'message': {'type': 'string'}, 'title': {'const': 'Not Found'}}}


def _success_schema(returns: tuple[dict[str, str], ...]) -> dict:
    options = [{'type': 'object', 'required': list(keys),
                'properties': {k: {'type': t} for k, t in keys.items()}}
               for keys in returns]
    return options[0] if len(options) == 1 else {'anyOf': options}


def _responses(op: Operation) -> dict:
    responses: dict = {}
    for status in op.status:
        response: dict = {'description': 'Success'}
        if op.returns and status not in (204,):
            response['content'] = {'application/json': {
                'schema': _success_schema(op.returns)}}
        responses[str(status)] = response
    for code in ERROR_CODES:
        if code == 401 and op.public:
            continue
        fault = {'$ref': '#/components/schemas/Fault'}
        responses[str(code)] = {
            'description': errors.FAULT_NAMES.get(code, 'computeFault'),
            'content': {'application/json': {'schema': fault}}}
        if code == 404:
            responses['404']['content'] = {
                'application/json': {'schema': {'anyOf': [
                    fault, {'$ref': '#/components/schemas/NoRoute'}]}},
                'text/html': {'schema': {'type': 'string'}},
                'text/plain': {'schema': {'type': 'string'}}}
    return responses


def _query_parameters(op: Operation, want: APIVersion) -> list[dict]:
    if op.query is None:
        return []
    schema = op.query(want)
    return [{'name': name, 'in': 'query', 'required': False, 'style': 'form',
             'explode': True, 'schema': _to_2020(copy.deepcopy(prop))}
            for name, prop in sorted(schema.get('properties', {}).items())]


def _operation(endpoint: str, method: str, op: Operation, path_params: list[str],
               want: APIVersion) -> dict:
    described: dict = {'operationId': f'{endpoint}.{method.lower()}',
                       'tags': [endpoint.split('.')[0]],
                       'responses': _responses(op)}
    parameters = [{'name': name, 'in': 'path', 'required': True,
                   'schema': {'type': 'string', 'minLength': 1}} for name in path_params]
    parameters += _query_parameters(op, want)
    if parameters:
        described['parameters'] = parameters
    if op.body is not None:
        described['requestBody'] = {
            'required': not op.body_optional,
            'content': {'application/json': {
                'schema': _to_2020(copy.deepcopy(op.body(want)))}}}
    if op.public:
        described['security'] = []
    described.update(op.extra)
    return described


class UndescribedRoute(LookupError):
    """A route of the app has no entry in OPERATIONS."""


def build(app: Flask, want: APIVersion = microversion.MAX, strict: bool = True) -> dict:
    """The document for `app` at microversion `want` (without `servers`). A route
    missing from OPERATIONS raises UndescribedRoute, or (not `strict`: when serving)
    is described with no body nor query schema, so the document is never a 500."""
    paths: dict[str, dict] = {}
    for rule in sorted(described_rules(app), key=lambda r: r.rule):
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            if strict:
                raise UndescribedRoute(f'{rule.rule} ({rule.endpoint}) is not in '
                                       'kumo_api.openapi.OPERATIONS')
            LOG.warning('%s (%s) is not in kumo_api.openapi.OPERATIONS; described '
                        'without schemas', rule.rule, rule.endpoint)
            op = Operation(status=(200, 201, 202, 204), returns=({},))
        if op.removed is not None and want.at_least(*op.removed):
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f'<{argument}>', f'{{{argument}}}')
        if path != '/' and path.endswith('/') and path.rstrip('/') in paths:
            continue  # /v2.1/ next to /v2.1: one resource
        item = paths.setdefault(path, {})
        for method in methods_of(rule):
            item[method.lower()] = _operation(rule.endpoint, method, op,
                                              sorted(rule.arguments), want)
    return {
        'openapi': '3.1.0',
        'info': {
            'title': 'Kumo compute API',
            'version': str(want),
            'description': (f'The OpenStack compute API (Nova\'s) as Kumo serves it at '
                            f'microversion {want}: send "OpenStack-API-Version: compute '
                            f'{want}". Every error is a Nova fault but a 404 for a path no '
                            'route takes, which is webob\'s, as Nova\'s router answers it. '
                            'Generated from the '
                            'running application (kumo_api.openapi).'),
        },
        'paths': paths,
        'components': {
            'schemas': {'Fault': _fault_schema(), 'NoRoute': _no_route_schema()},
            'securitySchemes': {'token': {'type': 'apiKey', 'in': 'header',
                                          'name': 'X-Auth-Token'}},
        },
        'security': [{'token': []}],
    }


bp = Blueprint('openapi', __name__)


@bp.get(PATH)
def openapi_document():
    """GET /openapi.json (no token, like version discovery)."""
    cached = current_app.extensions.get('kumo_openapi')
    if cached is None:
        cached = current_app.extensions['kumo_openapi'] = build(current_app, strict=False)
    return jsonify({**cached, 'servers': [{'url': request.host_url.rstrip('/')}]})
