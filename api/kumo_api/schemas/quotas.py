"""Request schemas of os-quota-sets, os-quota-class-sets and limits, per microversion
window."""
from kumo_api import validation
from kumo_api.schemas import types

MAX_INT = 2147483647

# -1 means unlimited; strings of digits are accepted as Nova does.
_limit = {'type': ['integer', 'string'], 'pattern': '^-?[0-9]+$', 'minimum': -1,
          'maximum': MAX_INT}

_resources_21 = ('instances', 'cores', 'ram', 'floating_ips', 'fixed_ips', 'metadata_items',
                 'key_pairs', 'security_groups', 'security_group_rules', 'injected_files',
                 'injected_file_content_bytes', 'injected_file_path_bytes', 'server_groups',
                 'server_group_members', 'networks')
# 2.36 drops the network quotas, 2.57 the personality-file ones.
_resources_236 = tuple(r for r in _resources_21 if r not in (
    'floating_ips', 'fixed_ips', 'security_groups', 'security_group_rules', 'networks'))
_resources_257 = tuple(r for r in _resources_236 if not r.startswith('injected_file'))


def _update(resources: tuple) -> dict:
    properties = dict.fromkeys(resources, _limit)
    properties['force'] = types.boolean
    return {'type': 'object',
            'properties': {'quota_set': {'type': 'object', 'properties': properties,
                                         'additionalProperties': False}},
            'required': ['quota_set'], 'additionalProperties': False}


UPDATE = [
    ((2, 1), (2, 35), _update(_resources_21)),
    ((2, 36), (2, 56), _update(_resources_236)),
    ((2, 57), (2, 100), _update(_resources_257)),
]


def _class_update(resources: tuple) -> dict:
    return {'type': 'object',
            'properties': {'quota_class_set': {
                'type': 'object', 'properties': dict.fromkeys(resources, _limit),
                'additionalProperties': False}},
            'required': ['quota_class_set'], 'additionalProperties': False}


# os-quota-class-sets moves at other microversions: 2.50 drops the network quotas
# (and "networks"), 2.57 the personality-file ones. No "force" here.
_class_resources_250 = tuple(r for r in _resources_21 if r not in (
    'floating_ips', 'fixed_ips', 'security_groups', 'security_group_rules', 'networks'))
_class_resources_257 = tuple(r for r in _class_resources_250
                             if not r.startswith('injected_file'))
CLASS_UPDATE = [
    ((2, 1), (2, 49), _class_update(_resources_21)),
    ((2, 50), (2, 56), _class_update(_class_resources_250)),
    ((2, 57), (2, 100), _class_update(_class_resources_257)),
]


def _param(schema: dict) -> dict:
    return {'type': 'array', 'items': schema}


def quota_query(want) -> dict:
    """?user_id= on show, detail, update and delete."""
    return validation.query_schema({'user_id': _param({'type': 'string'})},
                                   allow_unknown=not want.at_least(2, 75))


def limits_query(want) -> dict:
    """GET /limits?tenant_id= (admins)."""
    return validation.query_schema({'tenant_id': _param({'type': 'string'})},
                                   allow_unknown=not want.at_least(2, 75))
