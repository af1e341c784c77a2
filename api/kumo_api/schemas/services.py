"""Request schemas of os-services, per microversion window."""
import copy

_host = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'pattern': '^[a-zA-Z0-9-._]*$'}
_binary = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_reason = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_boolean = {
    'type': ['boolean', 'string'],
    'enum': [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes',
             False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'],
}

# PUT /os-services/{enable,disable,disable-log-reason,force-down} (before 2.53).
_update = {
    'type': 'object',
    'properties': {'host': _host, 'binary': _binary, 'disabled_reason': _reason},
    'required': ['host', 'binary'],
    'additionalProperties': False,
}
_update_211 = copy.deepcopy(_update)
_update_211['properties']['forced_down'] = _boolean

# PUT /os-services/{service_id} (2.53+): nothing required; the code insists on at
# least one of status and forced_down.
_update_253 = {
    'type': 'object',
    'properties': {
        'status': {'type': 'string', 'enum': ['enabled', 'disabled']},
        'disabled_reason': _reason,
        'forced_down': _boolean,
    },
    'additionalProperties': False,
}

UPDATE = [
    ((2, 1), (2, 10), _update),
    ((2, 11), (2, 52), _update_211),
    ((2, 53), (2, 100), _update_253),
]

# GET /os-services query: host and binary (unknown ones ignored before 2.75).
INDEX_QUERY = {
    'host': {'type': 'array', 'items': {'type': 'string'}},
    'binary': {'type': 'array', 'items': {'type': 'string'}},
}
