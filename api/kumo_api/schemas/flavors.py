"""Request schemas of flavors, flavor extra specs and flavor access, per microversion."""
import copy

from kumo_api import validation
from kumo_api.schemas import types
from kumo_common.db.flavors import SORT_KEYS

MAX_INT = 2147483647

_positive = {'type': ['integer', 'string'], 'pattern': '^[0-9]+$', 'minimum': 1,
             'maximum': MAX_INT}
_non_negative = {'type': ['integer', 'string'], 'pattern': '^[0-9]+$', 'minimum': 0,
                 'maximum': MAX_INT}

_flavor = {
    'type': 'object',
    'properties': {
        'name': types.name,
        # No leading/trailing spaces; numbers accepted for old clients.
        'id': {'type': ['string', 'number', 'null'], 'minLength': 1, 'maxLength': 255,
               'pattern': '^(?! )[a-zA-Z0-9. _-]+(?<! )$'},
        'ram': _positive,
        'vcpus': _positive,
        'disk': _non_negative,
        'OS-FLV-EXT-DATA:ephemeral': _non_negative,
        'swap': _non_negative,
        # A positive float: close to 0 is fine, 0 itself is not.
        'rxtx_factor': {'type': ['number', 'string'], 'pattern': r'^[0-9]+(\.[0-9]+)?$',
                        'minimum': 0, 'exclusiveMinimum': True, 'maximum': 3.40282e+38},
        'os-flavor-access:is_public': types.boolean,
    },
    'required': ['name', 'ram', 'vcpus', 'disk'],
    'additionalProperties': False,
}

# 2.55: a description of up to 64 KiB of printable characters.
_description = {'type': ['string', 'null'], 'minLength': 0, 'maxLength': 65535,
                'pattern': types.description['pattern']}

_flavor_255 = copy.deepcopy(_flavor)
_flavor_255['properties']['description'] = _description


def _body(key: str, inner: dict) -> dict:
    return {'type': 'object', 'properties': {key: inner}, 'required': [key],
            'additionalProperties': False}


CREATE = [
    ((2, 1), (2, 54), _body('flavor', _flavor)),
    ((2, 55), (2, 100), _body('flavor', _flavor_255)),
]

UPDATE = [
    ((2, 55), (2, 100), _body('flavor', {
        'type': 'object', 'properties': {'description': _description},
        'required': ['description'], 'additionalProperties': False})),
]


def _param(schema: dict) -> dict:
    """A query parameter (every value of it) as Nova's multi_params."""
    return {'type': 'array', 'items': schema}


_list_query = {
    'limit': _param({'type': 'string', 'pattern': '^[0-9]*$'}),
    'marker': _param({'type': 'string'}),
    'is_public': _param({'type': 'string'}),
    'minRam': _param({'type': 'string'}),
    'minDisk': _param({'type': 'string'}),
    'sort_key': _param({'type': 'string', 'enum': list(SORT_KEYS)}),
    'sort_dir': _param({'type': 'string', 'enum': ['asc', 'desc']}),
}


def list_query(want) -> dict:
    """GET /flavors[/detail]: unknown parameters ignored before 2.75, 400 from 2.75."""
    return validation.query_schema(_list_query, allow_unknown=not want.at_least(2, 75))


# --- extra specs -------------------------------------------------------------------------

# Keys as server metadata keys; values strings or numbers (stored as strings).
_spec_key = '^[a-zA-Z0-9-_:. ]{1,255}$'
_specs = {
    'type': 'object',
    'patternProperties': {_spec_key: {'type': ['string', 'number'], 'maxLength': 255}},
    'additionalProperties': False,
}

EXTRA_SPECS_CREATE = _body('extra_specs', _specs)
EXTRA_SPECS_UPDATE = dict(copy.deepcopy(_specs), minProperties=1, maxProperties=1)

# --- access actions ----------------------------------------------------------------------

_tenant = {'type': 'object',
           'properties': {'tenant': {'type': 'string', 'minLength': 1, 'maxLength': 255}},
           'required': ['tenant'], 'additionalProperties': False}
ADD_TENANT_ACCESS = [((2, 1), (2, 100), _tenant)]
REMOVE_TENANT_ACCESS = [((2, 1), (2, 100), _tenant)]
