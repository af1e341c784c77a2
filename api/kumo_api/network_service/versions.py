"""Discovery: GET / (the API versions), GET /v2.0 (its resources) and
GET /v2.0/extensions (what clients probe before using a feature), as Neutron."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from kumo_api.network_service import errors

bp = Blueprint('network_versions', __name__)

COLLECTIONS = (('network', 'networks'), ('subnet', 'subnets'), ('port', 'ports'),
               ('security_group', 'security-groups'),
               ('security_group_rule', 'security-group-rules'), ('floatingip', 'floatingips'))

_UPDATED = '2024-01-01T00:00:00-00:00'
# The extensions Kumo implements, and only those: clients switch features on by them.
EXTENSIONS = (
    ('external-net', 'Neutron external network',
     'Adds external network attribute to network resource.'),
    ('ip-substring-filtering', 'IP address substring filtering',
     'Provides IP address substring filtering when listing ports'),
    ('filter-validation', 'Filter parameters validation',
     'Provides validation on filter parameters.'),
    ('project-id', 'project_id field enabled',
     'Extension that indicates that project_id field is enabled.'),
    ('standard-attr-description', 'standard-attr-description',
     'Extension to add descriptions to standard attributes'),
    ('standard-attr-timestamp', 'Resource timestamps',
     'Adds created_at and updated_at fields to all Neutron resources that have Neutron '
     'standard attributes.'),
    ('binding', 'Port Binding', 'Expose port bindings of a virtual port to external '
     'application'),
    ('net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'),
    ('pagination', 'Pagination support', 'Extension that indicates that pagination is '
     'enabled.'),
    ('sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.'),
    ('fields-in-list', 'Fields selection', 'Selecting the fields of listed resources '
     'with the fields query parameter.'),
    ('security-group', 'security-group', 'The security groups extension.'),
)


def _root() -> str:
    return request.host_url.rstrip('/')


@bp.get('/')
def versions():
    return jsonify({'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': [
        {'href': f'{_root()}/v2.0/', 'rel': 'self'}]}]})


@bp.get('/v2.0')
def resources():
    return jsonify({'resources': [
        {'name': name, 'collection': collection,
         'links': [{'href': f'{_root()}/v2.0/{collection}', 'rel': 'self'}]}
        for name, collection in COLLECTIONS]})


def _extension(alias: str, name: str, description: str) -> dict:
    return {'alias': alias, 'name': name, 'description': description,
            'updated': _UPDATED, 'links': []}


@bp.get('/v2.0/extensions')
def list_extensions():
    return jsonify({'extensions': [_extension(*e) for e in EXTENSIONS]})


@bp.get('/v2.0/extensions/<alias>')
def show_extension(alias: str):
    for extension in EXTENSIONS:
        if extension[0] == alias:
            return jsonify({'extension': _extension(*extension)})
    raise errors.NotFound(f'Extension with alias {alias} does not exist',
                          kind='HTTPNotFound')
