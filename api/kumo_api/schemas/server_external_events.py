"""Request schema of POST /os-server-external-events, per microversion window (Nova's):
each window knows the event names of the ones before it and one more."""
import copy

from kumo_api.schemas import types

# Names known from 2.1, then one more at each of 2.51, 2.76, 2.82 and 2.93.
NAMES_21 = ('network-changed', 'network-vif-plugged', 'network-vif-unplugged',
            'network-vif-deleted')
ADDED = (((2, 51), 'volume-extended'), ((2, 76), 'power-update'),
         ((2, 82), 'accelerator-request-bound'), ((2, 93), 'volume-reimaged'))
# An event's status as the sender may give it (the answer says completed or failed).
STATUSES = ['failed', 'completed', 'in-progress']
# Events that mean nothing without a tag (a volume id, POWER_ON/POWER_OFF, an ARQ
# uuid): refused one by one (400 in the event's answer), as Nova's.
TAG_REQUIRED = ('volume-extended', 'power-update', 'accelerator-request-bound')


def _create(names: list[str]) -> dict:
    return {
        'type': 'object',
        'properties': {
            'events': {
                'type': 'array',
                'minItems': 1,
                'items': {
                    'type': 'object',
                    'properties': {
                        'name': {'type': 'string', 'enum': names},
                        'server_uuid': copy.deepcopy(types.uuid),
                        'status': {'type': 'string', 'enum': STATUSES},
                        'tag': {'type': 'string', 'maxLength': 255},
                    },
                    'required': ['name', 'server_uuid'],
                    'additionalProperties': False,
                },
            },
        },
        'required': ['events'],
        'additionalProperties': False,
    }


def _windows():
    names, low, windows = list(NAMES_21), (2, 1), []
    for since, name in ADDED:
        windows.append((low, (since[0], since[1] - 1), _create(list(names))))
        names.append(name)
        low = since
    windows.append((low, (2, 100), _create(names)))
    return windows


CREATE = _windows()
