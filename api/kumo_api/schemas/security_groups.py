"""Request schemas of the security group proxies (os-security-groups,
os-security-group-rules) and of a server's os-security-groups, as Nova's: extra
keys are allowed (these APIs were frozen before Nova tightened its schemas)."""
from kumo_api import validation

_group = {
    'type': 'object',
    'properties': {
        'name': {'type': 'string', 'minLength': 0, 'maxLength': 255},
        'description': {'type': 'string', 'minLength': 0, 'maxLength': 255},
    },
    'required': ['name', 'description'],
    'additionalProperties': True,
}
GROUP = {'type': 'object', 'properties': {'security_group': _group},
         'required': ['security_group'], 'additionalProperties': True}

RULE = {
    'type': 'object',
    'properties': {'security_group_rule': {
        'type': 'object',
        'properties': {
            'group_id': {'type': ['string', 'null'], 'format': 'uuid'},
            'parent_group_id': {'type': 'string', 'format': 'uuid'},
            # Nova never checked these in its schema: its rule code does.
            'to_port': {}, 'from_port': {}, 'ip_protocol': {}, 'cidr': {},
        },
        'required': ['parent_group_id'],
        'additionalProperties': True,
    }},
    'required': ['security_group_rule'],
    'additionalProperties': True,
}

# Nova's non_negative_integer, once per repetition of the parameter.
_non_negative = {'type': 'array',
                 'items': {'type': 'string', 'pattern': '^[0-9]*$', 'minLength': 1}}

INDEX_QUERY = validation.query_schema(
    {'limit': _non_negative, 'offset': _non_negative,
     'all_tenants': {'type': 'array', 'items': {'type': 'string'}}}, allow_unknown=True)


def server_query(want) -> dict:
    """GET /servers/{id}/os-security-groups: no parameters; unknown ones ignored
    before 2.102, 400 from it."""
    return validation.query_schema({}, allow_unknown=not want.at_least(2, 102))
