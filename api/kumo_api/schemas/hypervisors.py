"""Query schemas of os-hypervisors, per microversion (values are lists of strings)."""
from kumo_api.schemas import types

_non_negative_integer = {'type': 'array', 'minItems': 1, 'maxItems': 1,
                         'items': {'type': 'string', 'pattern': '^[0-9]*$',
                                   'minLength': 1}}
_string = {'type': 'array', 'minItems': 1, 'maxItems': 1, 'items': {'type': 'string'}}
_hostname = {'type': 'array', 'minItems': 1, 'maxItems': 1,
             'items': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                       'pattern': '^[a-zA-Z0-9-._]*$'}}
# Nova's boolean, JSON true/false included: its 400 lists the whole enum.
_boolean = {'type': 'array', 'minItems': 1, 'maxItems': 1, 'items': types.boolean}

# GET /os-hypervisors and /detail: paging from 2.33 (unknown parameters ignored),
# hostname pattern and with_servers from 2.53 (unknown parameters rejected).
INDEX_233 = {'type': 'object',
             'properties': {'limit': _non_negative_integer, 'marker': _string},
             'additionalProperties': True}
INDEX_253 = {'type': 'object',
             'properties': {'limit': _non_negative_integer, 'marker': _string,
                            'hypervisor_hostname_pattern': _hostname,
                            'with_servers': _boolean},
             'additionalProperties': False}
# GET /os-hypervisors/{id} from 2.53.
SHOW_253 = {'type': 'object', 'properties': {'with_servers': _boolean},
            'additionalProperties': False}
