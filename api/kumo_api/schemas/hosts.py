"""Request schemas of os-hosts (2.1 to 2.42)."""

# Nova accepts these six spellings only (its handler lower-cases them).
_switch = {'type': 'string',
           'enum': ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE']}

# PUT /os-hosts/{host_name}: the body is flat (no "host" wrapper), one or both keys.
UPDATE = {
    'type': 'object',
    'properties': {'status': _switch, 'maintenance_mode': _switch},
    'anyOf': [{'required': ['status']}, {'required': ['maintenance_mode']}],
    'additionalProperties': False,
}

# GET /os-hosts: unknown parameters are ignored at every version (the API is gone
# from 2.43, before Nova started refusing them).
INDEX_QUERY = {
    'type': 'object',
    'properties': {'zone': {'type': 'array', 'items': {'type': 'string'}}},
    'additionalProperties': True,
}
