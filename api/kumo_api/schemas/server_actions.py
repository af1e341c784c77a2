"""Request schemas of POST /servers/{id}/action, per action and microversion window."""
from kumo_api.schemas import types

_null = {'type': 'null'}
# The value of an action that takes no arguments: anything, as Nova takes it (its
# schemas leave the value open, restricting it to null is a TODO of a future
# microversion), so {"os-stop": {}}, which Tempest and other clients send, is
# accepted like {"os-stop": null}.
_ignored = {}

reboot = {
    'type': 'object',
    'properties': {'type': {'type': 'string', 'enum': ['HARD', 'Hard', 'hard', 'SOFT',
                                                       'Soft', 'soft']}},
    'required': ['type'],
    'additionalProperties': False,
}

lock_2_73 = {
    'oneOf': [
        _null,
        {'type': 'object',
         'properties': {'locked_reason': {'type': 'string', 'minLength': 1,
                                          'maxLength': 255}},
         'additionalProperties': False},
    ],
}

NO_ARGUMENTS = [((2, 1), (2, 100), _ignored)]
REBOOT = [((2, 1), (2, 100), reboot)]
LOCK = [((2, 1), (2, 72), _ignored), ((2, 73), (2, 100), lock_2_73)]
# From 2.17, and strictly null (Nova's schema for it); before, a 404.
TRIGGER_CRASH_DUMP = [((2, 17), (2, 100), _null)]


# --- issue 7: the heavier actions --------------------------------------------------------
_non_negative_integer = {
    'type': ['integer', 'string'], 'pattern': '^[0-9]*$', 'minimum': 0, 'minLength': 1,
}

change_password = {
    'type': 'object',
    'properties': {'adminPass': {'type': 'string'}},
    'required': ['adminPass'],
    'additionalProperties': False,
}

create_image = {
    'type': 'object',
    'properties': {'name': types.name, 'metadata': types.metadata},
    'required': ['name'],
    'additionalProperties': False,
}

create_backup = {
    'type': 'object',
    'properties': {'name': types.name, 'backup_type': {'type': 'string'},
                   'rotation': _non_negative_integer, 'metadata': types.metadata},
    'required': ['name', 'backup_type', 'rotation'],
    'additionalProperties': False,
}

_personality = {
    'type': 'array',
    'items': {'type': 'object',
              'properties': {'path': {'type': 'string'},
                             'contents': {'type': 'string', 'format': 'base64'}},
              'additionalProperties': False},
}
_rebuild_2_1 = {
    'type': 'object',
    'properties': {
        'name': types.name, 'imageRef': types.uuid,
        'adminPass': {'type': 'string'}, 'metadata': types.metadata,
        'preserve_ephemeral': types.boolean,
        'OS-DCF:diskConfig': {'type': 'string', 'enum': ['AUTO', 'MANUAL']},
        'accessIPv4': types.accessIPv4, 'accessIPv6': types.accessIPv6,
        'personality': _personality,
    },
    'required': ['imageRef'],
    'additionalProperties': False,
}


def _rebuild(base: dict, add: dict | None = None, remove: tuple = ()) -> dict:
    props = {k: v for k, v in base['properties'].items() if k not in remove}
    props.update(add or {})
    return {**base, 'properties': props}


_user_data = {'type': ['string', 'null'], 'format': 'base64', 'maxLength': 65535}
_rebuild_2_19 = _rebuild(_rebuild_2_1, {'description': types.description})
_rebuild_2_54 = _rebuild(_rebuild_2_19, {'key_name': {'anyOf': [types.name,
                                                                {'type': 'null'}]}})
_rebuild_2_57 = _rebuild(_rebuild_2_54, {'user_data': _user_data}, remove=('personality',))
_rebuild_2_63 = _rebuild(_rebuild_2_57, {'trusted_image_certificates': {
    'type': ['array', 'null'], 'minItems': 1, 'maxItems': 50, 'uniqueItems': True,
    'items': {'type': 'string', 'minLength': 1}}})
_rebuild_2_90 = _rebuild(_rebuild_2_63, {'hostname': types.hostname_290})
_rebuild_2_94 = _rebuild(_rebuild_2_63, {'hostname': types.hostname_294})

CHANGE_PASSWORD = [((2, 1), (2, 100), change_password)]
CREATE_IMAGE = [((2, 1), (2, 100), create_image)]
CREATE_BACKUP = [((2, 1), (2, 100), create_backup)]
REBUILD = [((2, 1), (2, 18), _rebuild_2_1), ((2, 19), (2, 53), _rebuild_2_19),
           ((2, 54), (2, 56), _rebuild_2_54), ((2, 57), (2, 62), _rebuild_2_57),
           ((2, 63), (2, 89), _rebuild_2_63), ((2, 90), (2, 93), _rebuild_2_90),
           ((2, 94), (2, 100), _rebuild_2_94)]
rescue = {
    'type': ['object', 'null'],
    'properties': {'adminPass': {'type': 'string'},
                   'rescue_image_ref': {'type': 'string', 'format': 'uuid'}},
    'additionalProperties': False,
}
RESCUE = [((2, 1), (2, 100), rescue)]
resize = {
    'type': 'object',
    'properties': {
        'flavorRef': {'type': ['string', 'integer'], 'minLength': 1},
        'OS-DCF:diskConfig': {'type': 'string', 'enum': ['AUTO', 'MANUAL']},
    },
    'required': ['flavorRef'],
    'additionalProperties': False,
}
RESIZE = [((2, 1), (2, 100), resize)]

# migrate: no arguments before 2.56 (its value not looked at, as Nova's); a host from
# 2.56, Nova's fqdn (or null: the scheduler's choice).
migrate_2_56 = {
    'type': ['object', 'null'],
    'properties': {'host': {'type': ['string', 'null'], 'pattern': '^[a-zA-Z0-9-._]*$',
                            'minLength': 1, 'maxLength': 255}},
    'additionalProperties': False,
}
MIGRATE = [((2, 1), (2, 55), _ignored), ((2, 56), (2, 100), migrate_2_56)]

# injectNetworkInfo: no arguments (its value not looked at, as Nova's).
ANY_BODY = [((2, 1), (2, 100), {})]

reset_state = {
    'type': 'object',
    'properties': {'state': {'type': 'string', 'enum': ['active', 'error']}},
    'required': ['state'],
    'additionalProperties': False,
}
RESET_STATE = [((2, 1), (2, 100), reset_state)]

# addSecurityGroup / removeSecurityGroup: a group's name (or id).
_SECURITY_GROUP = {'type': 'object', 'properties': {'name': {'type': 'string', 'minLength': 1}},
                   'required': ['name'], 'additionalProperties': False}
SECURITY_GROUP = [((2, 1), (2, 100), _SECURITY_GROUP)]

# os-getConsoleOutput: `length` lines from the tail; -1 or null means all of it.
CONSOLE_OUTPUT = [((2, 1), (2, 100), {
    'type': 'object',
    'properties': {'length': {'type': ['integer', 'string', 'null'],
                              'pattern': '^-?[0-9]+$', 'minimum': -1}},
    'additionalProperties': False,
})]


# --- shelve / shelveOffload / unshelve -------------------------------------------------------
# Before 2.77 unshelve takes no arguments (its value is ignored, as Nova's); 2.77 an
# availability_zone (never an empty object);
# 2.91 a host too, and availability_zone null to unpin the server.
_unshelve_2_77 = {
    'type': ['object', 'null'],
    'properties': {'availability_zone': types.name},
    'required': ['availability_zone'],
    'additionalProperties': False,
}
_unshelve_2_91 = {
    'oneOf': [
        _null,
        {'type': 'object',
         'properties': {
             'availability_zone': {'oneOf': [_null, types.name]},
             'host': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                      'pattern': '^[a-zA-Z0-9_.:-]+$'}},
         'minProperties': 1, 'additionalProperties': False},
    ],
}
UNSHELVE = [((2, 1), (2, 76), _ignored), ((2, 77), (2, 90), _unshelve_2_77),
            ((2, 91), (2, 100), _unshelve_2_91)]

# evacuate (admin): Nova's schemas. onSharedStorage is required before 2.14 and gone
# after; force is there from 2.29 to 2.67 (2.95 changes the outcome, not the body).
_fqdn = {'type': 'string', 'pattern': '^[a-zA-Z0-9-._]*$', 'minLength': 1,
         'maxLength': 255}
_evacuate_2_1 = {
    'type': 'object',
    'properties': {'host': _fqdn, 'onSharedStorage': types.boolean,
                   'adminPass': {'type': 'string'}},
    'required': ['onSharedStorage'],
    'additionalProperties': False,
}
_evacuate_2_14 = {
    'type': 'object',
    'properties': {'host': _fqdn, 'adminPass': {'type': 'string'}},
    'additionalProperties': False,
}
_evacuate_2_29 = {
    'type': 'object',
    'properties': {**_evacuate_2_14['properties'], 'force': types.boolean},
    'additionalProperties': False,
}
EVACUATE = [((2, 1), (2, 13), _evacuate_2_1), ((2, 14), (2, 28), _evacuate_2_14),
            ((2, 29), (2, 67), _evacuate_2_29), ((2, 68), (2, 100), _evacuate_2_14)]

# os-migrateLive (admin): Nova's schemas. host (or null: the scheduler's choice) and
# block_migration are required throughout, disk_over_commit before 2.25;
# block_migration may be "auto" from 2.25; force from 2.30 to 2.67.
_live_host = {**_fqdn, 'type': ['string', 'null']}
_migrate_live_2_1 = {
    'type': 'object',
    'properties': {'block_migration': types.boolean, 'disk_over_commit': types.boolean,
                   'host': _live_host},
    'required': ['block_migration', 'disk_over_commit', 'host'],
    'additionalProperties': False,
}
_migrate_live_2_25 = {
    'type': 'object',
    'properties': {'block_migration': {**types.boolean,
                                       'enum': types.boolean['enum'] + ['auto']},
                   'host': _live_host},
    'required': ['block_migration', 'host'],
    'additionalProperties': False,
}
_migrate_live_2_30 = {
    **_migrate_live_2_25,
    'properties': {**_migrate_live_2_25['properties'], 'force': types.boolean},
}
MIGRATE_LIVE = [((2, 1), (2, 24), _migrate_live_2_1), ((2, 25), (2, 29), _migrate_live_2_25),
                ((2, 30), (2, 67), _migrate_live_2_30), ((2, 68), (2, 100), _migrate_live_2_25)]
