"""Request schemas of os-server-groups, per microversion window (Nova's)."""
import copy

from kumo_api import validation
from kumo_api.schemas import types

_POLICIES = ['anti-affinity', 'affinity']
_POLICIES_215 = _POLICIES + ['soft-anti-affinity', 'soft-affinity']

_group = {
    'type': 'object',
    'properties': {
        'name': types.name,
        # Exactly one policy in a list (2.64 makes it a plain string).
        'policies': {
            'type': 'array',
            'items': [{'type': 'string', 'enum': _POLICIES}],
            'uniqueItems': True,
            'minItems': 1,
            'maxItems': 1,
            'additionalItems': False,
        },
    },
    'required': ['name', 'policies'],
    'additionalProperties': False,
}
_group_215 = copy.deepcopy(_group)
_group_215['properties']['policies']['items'][0]['enum'] = _POLICIES_215
_group_264 = {
    'type': 'object',
    'properties': {
        'name': types.name,
        'policy': {'type': 'string', 'enum': _POLICIES_215},
        'rules': {
            'type': 'object',
            'properties': {'max_server_per_host': types.positive_integer},
            'additionalProperties': False,
        },
    },
    'required': ['name', 'policy'],
    'additionalProperties': False,
}


def _body(group: dict) -> dict:
    return {'type': 'object', 'properties': {'server_group': group},
            'required': ['server_group'], 'additionalProperties': False}


CREATE = [
    ((2, 1), (2, 14), _body(_group)),
    ((2, 15), (2, 63), _body(_group_215)),
    ((2, 64), (2, 100), _body(_group_264)),
]

# Nova's non_negative_integer, once per repetition of the parameter.
_non_negative = {'type': 'array',
                 'items': {'type': 'string', 'pattern': '^[0-9]*$', 'minLength': 1}}


def index_query(want) -> dict:
    """all_projects (presence only), limit and offset; unknown ones 400 from 2.75."""
    return validation.query_schema(
        {'all_projects': {'type': 'array', 'items': {'type': 'string'}},
         'limit': _non_negative, 'offset': _non_negative},
        allow_unknown=not want.at_least(2, 75))
