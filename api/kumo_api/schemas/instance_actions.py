"""Query schemas of GET /servers/{id}/os-instance-actions (unknown ones -> 400 from 2.58)."""

_strings = {'type': 'array', 'items': {'type': 'string'}}
_non_negative_integer = {'type': 'array',
                         'items': {'type': 'string', 'pattern': '^[0-9]*$',
                                   'minLength': 1}}

LIST_258 = {
    'type': 'object',
    'properties': {'changes-since': _strings, 'limit': _non_negative_integer,
                   'marker': _strings},
    'additionalProperties': False,
}
LIST_266 = {
    'type': 'object',
    'properties': {**LIST_258['properties'], 'changes-before': _strings},
    'additionalProperties': False,
}
