"""Request schemas of os-aggregates."""
import copy

from kumo_api.schemas import types

# A zone name is a name without ':' (it separates zone, host and node on create).
_zone = copy.deepcopy(types.name)
_zone['pattern'] = (r'^(?![\s\u00a0])'
                    r'[^:\x00-\x1f\x7f-\x9f\u00ad\u2028\u2029\ud800-\udfff\ufeff]*'
                    r'(?<![\s\u00a0])$')
_zone_or_null = {'oneOf': [_zone, {'type': 'null'}]}

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
            'properties': {'name': types.name, 'availability_zone': _zone_or_null},
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
