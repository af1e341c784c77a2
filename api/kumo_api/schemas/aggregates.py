"""Request schemas of os-aggregates."""
import copy

from kumo_api.schemas import types

# A zone name is a name without ':' (it separates zone, host and node on create).
_zone_or_null = {'oneOf': [types.az_name, {'type': 'null'}]}

_host = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'pattern': '^[a-zA-Z0-9-._]*$'}

CREATE = {
    'type': 'object',
    'properties': {
        'aggregate': {
            'type': 'object',
            'properties': {'name': types.name, 'availability_zone': _zone_or_null},
            'required': ['name'],
            'additionalProperties': False,
        },
    },
    'required': ['aggregate'],
    'additionalProperties': False,
}

UPDATE = {
    'type': 'object',
    'properties': {
        'aggregate': {
            'type': 'object',
            # As Nova: a new name may have spaces at its ends (the handler strips them).
            'properties': {'name': types.name_with_leading_trailing_spaces,
                           'availability_zone': _zone_or_null},
            'additionalProperties': False,
            'anyOf': [{'required': ['name']}, {'required': ['availability_zone']}],
        },
    },
    'required': ['aggregate'],
    'additionalProperties': False,
}


def _host_action(name: str) -> dict:
    return {
        'type': 'object',
        'properties': {
            name: {'type': 'object', 'properties': {'host': _host}, 'required': ['host'],
                   'additionalProperties': False},
        },
        'required': [name],
        'additionalProperties': False,
    }


ADD_HOST = _host_action('add_host')
REMOVE_HOST = _host_action('remove_host')

# Metadata values may be null: that deletes the key.
_metadata_with_null = copy.deepcopy(types.metadata)
for _value in _metadata_with_null['patternProperties'].values():
    _value['type'] = ['string', 'null']

SET_METADATA = {
    'type': 'object',
    'properties': {
        'set_metadata': {
            'type': 'object',
            'properties': {'metadata': _metadata_with_null},
            'required': ['metadata'],
            'additionalProperties': False,
        },
    },
    'required': ['set_metadata'],
    'additionalProperties': False,
}

# POST /os-aggregates/{id}/images (2.81).
IMAGES = {
    'type': 'object',
    'properties': {
        'cache': {
            'type': 'array', 'minItems': 1,
            'items': {'type': 'object', 'properties': {'id': types.uuid},
                      'required': ['id'], 'additionalProperties': False},
        },
    },
    'required': ['cache'],
    'additionalProperties': False,
}
