"""Request schemas of POST /servers (and friends), per microversion window."""
import copy

from kumo_api.schemas import types

_network = {
    'type': 'object',
    'properties': {
        'uuid': {'type': 'string'},
        'port': {'oneOf': [types.uuid, {'type': 'null'}]},
        'fixed_ip': {'type': 'string', 'oneOf': [{'format': 'ipv4'}, {'format': 'ipv6'}]},
    },
    'additionalProperties': False,
}

# Block device mappings (nova/api/openstack/compute/schemas/servers.py and
# block_device_mapping*.py): items are closed objects.
_bdm_legacy = {
    'type': 'object',
    'properties': {
        'virtual_name': {'type': 'string', 'maxLength': 255},
        'volume_id': types.uuid,
        'snapshot_id': types.uuid,
        'volume_size': {'type': ['integer', 'string'], 'pattern': '^[0-9]+$',
                        'minimum': 1, 'maximum': 2147483647},
        'device_name': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                        'pattern': '^[a-zA-Z0-9._/-]*$'},
        'delete_on_termination': types.boolean,
        'no_device': {},
        'connection_info': {'type': 'string', 'maxLength': 16777215},
    },
    'additionalProperties': False,
}
_bdm_v2 = copy.deepcopy(_bdm_legacy)
_bdm_v2['properties'].update({
    'source_type': {'type': 'string', 'enum': ['volume', 'image', 'snapshot', 'blank']},
    'uuid': {'type': 'string', 'minLength': 1, 'maxLength': 255,
             'pattern': '^[a-zA-Z0-9._-]*$'},
    'image_id': types.uuid,
    'destination_type': {'type': 'string', 'enum': ['local', 'volume']},
    'guest_format': {'type': 'string', 'maxLength': 255},
    'device_type': {'type': 'string', 'maxLength': 255},
    'disk_bus': {'type': 'string', 'maxLength': 255},
    'boot_index': {'type': ['integer', 'string', 'null'], 'pattern': '^-?[0-9]+$'},
})
_bdm_v2_tagged = copy.deepcopy(_bdm_v2)
_bdm_v2_tagged['properties']['tag'] = types.tag
_bdm_v2_267 = copy.deepcopy(_bdm_v2_tagged)
_bdm_v2_267['properties']['volume_type'] = {'type': ['string', 'null'], 'minLength': 0,
                                            'maxLength': 255}


def _bdm_v2_list(item: dict) -> dict:
    return {'block_device_mapping_v2': {'type': 'array', 'items': item}}


_server_base = {
    'type': 'object',
    'properties': {
        'name': types.name,
        'imageRef': {'oneOf': [types.uuid, {'type': 'string', 'maxLength': 0}]},
        'flavorRef': {'type': ['string', 'integer'], 'minLength': 1},
        'adminPass': {'type': 'string'},
        'metadata': types.metadata,
        'networks': {'type': 'array', 'items': _network},
        'OS-DCF:diskConfig': {'type': 'string', 'enum': ['AUTO', 'MANUAL']},
        'accessIPv4': types.accessIPv4,
        'accessIPv6': types.accessIPv6,
        'personality': {
            'type': 'array',
            'items': {
                'type': 'object',
                'properties': {
                    'path': {'type': 'string'},
                    'contents': {'type': 'string', 'format': 'base64'},
                },
                'additionalProperties': False,
            },
        },
        'availability_zone': types.name,
        'block_device_mapping': {'type': 'array', 'items': _bdm_legacy},
        'block_device_mapping_v2': {'type': 'array', 'items': _bdm_v2},
        'config_drive': types.boolean,
        'key_name': types.name,
        'min_count': types.positive_integer,
        'max_count': types.positive_integer,
        'return_reservation_id': types.boolean,
        'security_groups': {
            'type': 'array',
            'items': {
                'type': 'object',
                'properties': {'name': types.name},
                'additionalProperties': False,
            },
        },
        'user_data': {'type': 'string', 'format': 'base64', 'maxLength': 65535},
    },
    'required': ['name', 'flavorRef'],
    'additionalProperties': False,
}

_hints = {'type': 'object', 'additionalProperties': True}


def _create(server: dict) -> dict:
    return {
        'type': 'object',
        'properties': {
            'server': server,
            'os:scheduler_hints': _hints,
            'OS-SCH-HNT:scheduler_hints': _hints,
        },
        'required': ['server'],
        'additionalProperties': False,
    }


def _evolve(base: dict, add: dict | None = None, remove: tuple = (),
            required: list | None = None) -> dict:
    server = copy.deepcopy(base)
    server['properties'].update(copy.deepcopy(add or {}))
    for key in remove:
        server['properties'].pop(key, None)
    if required is not None:
        server['required'] = required
    return server


_s_2_1 = _server_base
_s_2_19 = _evolve(_s_2_1, {'description': types.description})
_network_tagged = copy.deepcopy(_network)
_network_tagged['properties']['tag'] = types.tag
_s_2_33 = _evolve(_s_2_19, {'networks': {'type': 'array', 'items': _network_tagged}})
# 2.32 only: tags on both; 2.33 lost the BDM one (a bug Nova kept), 2.42 restores it.
_s_2_32 = _evolve(_s_2_33, _bdm_v2_list(_bdm_v2_tagged))
_network_237 = copy.deepcopy(_network)
_network_237['properties']['uuid'] = types.uuid
_s_2_37 = _evolve(_s_2_19, {'networks': {'oneOf': [
    {'type': 'array', 'items': _network_237},
    {'type': 'string', 'enum': ['none', 'auto']},
]}}, required=['name', 'flavorRef', 'networks'])
_network_242 = copy.deepcopy(_network_237)
_network_242['properties']['tag'] = types.tag
_s_2_42 = _evolve(_s_2_37, {'networks': {'oneOf': [
    {'type': 'array', 'items': _network_242},
    {'type': 'string', 'enum': ['none', 'auto']},
]}, **_bdm_v2_list(_bdm_v2_tagged)})
_s_2_52 = _evolve(_s_2_42, {'tags': {'type': 'array', 'items': types.tag, 'maxItems': 50}})
_s_2_57 = _evolve(_s_2_52, remove=('personality',))
_s_2_63 = _evolve(_s_2_57, {'trusted_image_certificates': {
    'type': ['array', 'null'], 'minItems': 1, 'maxItems': 50, 'uniqueItems': True,
    'items': {'type': 'string', 'minLength': 1}}})
_s_2_67 = _evolve(_s_2_63, _bdm_v2_list(_bdm_v2_267))
_host = {'type': 'string', 'minLength': 1, 'maxLength': 255, 'pattern': '^[a-zA-Z0-9-._]*$'}
_s_2_74 = _evolve(_s_2_67, {'host': _host, 'hypervisor_hostname': _host})
_s_2_90 = _evolve(_s_2_74, {'hostname': types.hostname_290})
_s_2_94 = _evolve(_s_2_74, {'hostname': types.hostname_294})

CREATE = [
    ((2, 1), (2, 18), _create(_s_2_1)),
    ((2, 19), (2, 31), _create(_s_2_19)),
    ((2, 32), (2, 32), _create(_s_2_32)),
    ((2, 33), (2, 36), _create(_s_2_33)),
    ((2, 37), (2, 41), _create(_s_2_37)),
    ((2, 42), (2, 51), _create(_s_2_42)),
    ((2, 52), (2, 56), _create(_s_2_52)),
    ((2, 57), (2, 62), _create(_s_2_57)),
    ((2, 63), (2, 66), _create(_s_2_63)),
    ((2, 67), (2, 73), _create(_s_2_67)),
    ((2, 74), (2, 89), _create(_s_2_74)),
    ((2, 90), (2, 93), _create(_s_2_90)),
    ((2, 94), (2, 100), _create(_s_2_94)),
]


def _update(extra: dict) -> dict:
    server = {
        'type': 'object',
        'properties': {
            'name': types.name,
            'OS-DCF:diskConfig': {'type': 'string', 'enum': ['AUTO', 'MANUAL']},
            'accessIPv4': types.accessIPv4,
            'accessIPv6': types.accessIPv6,
            **extra,
        },
        'additionalProperties': False,
    }
    return {'type': 'object', 'properties': {'server': server}, 'required': ['server'],
            'additionalProperties': False}


UPDATE = [
    ((2, 1), (2, 18), _update({})),
    ((2, 19), (2, 89), _update({'description': types.description})),
    ((2, 90), (2, 93), _update({'description': types.description,
                                'hostname': types.hostname_290})),
    ((2, 94), (2, 100), _update({'description': types.description,
                                 'hostname': types.hostname_294})),
]
