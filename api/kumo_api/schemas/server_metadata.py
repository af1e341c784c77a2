"""Request schemas of server metadata (metadata.inc)."""
import copy

from kumo_api.schemas import types

# POST and PUT /servers/{id}/metadata.
METADATA = {
    'type': 'object',
    'properties': {'metadata': types.metadata},
    'required': ['metadata'],
    'additionalProperties': False,
}

_one_item = copy.deepcopy(types.metadata)
_one_item.update({'minProperties': 1, 'maxProperties': 1})

# PUT /servers/{id}/metadata/{key}.
META = {
    'type': 'object',
    'properties': {'meta': _one_item},
    'required': ['meta'],
    'additionalProperties': False,
}
