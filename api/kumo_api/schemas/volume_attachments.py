"""Request schemas of /servers/{id}/os-volume_attachments (Nova's), per microversion."""
import copy

from kumo_api import validation
from kumo_api.schemas import types

# nova/block_device.py match_device(), as Nova's schema spells it.
_DEVICE = {'type': ['string', 'null'],
           'pattern': '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'}
_NON_NEGATIVE = {'type': 'array',
                 'items': {'type': 'string', 'pattern': '^[0-9]*$', 'minLength': 1}}


def _body(properties: dict) -> dict:
    return {'type': 'object',
            'properties': {'volumeAttachment': {
                'type': 'object', 'properties': properties, 'required': ['volumeId'],
                'additionalProperties': False}},
            'required': ['volumeAttachment'], 'additionalProperties': False}


_CREATE = {'volumeId': types.uuid, 'device': _DEVICE}
_CREATE_249 = {**_CREATE, 'tag': types.tag}
_CREATE_279 = {**_CREATE_249, 'delete_on_termination': types.boolean}
CREATE = [((2, 1), (2, 48), _body(_CREATE)),
          ((2, 49), (2, 78), _body(_CREATE_249)),
          ((2, 79), (2, 100), _body(_CREATE_279))]
# Before 2.85 an update only swaps the volume (volumeId); from 2.85 it may also say
# what the attachment is (unchangeable but delete_on_termination).
UPDATE = [((2, 1), (2, 84), _body({'volumeId': types.uuid})),
          ((2, 85), (2, 100), _body({**_CREATE_279, 'serverId': types.uuid,
                                     'id': types.uuid}))]


def index_query(want) -> dict:
    return validation.query_schema({'limit': _NON_NEGATIVE, 'offset': copy.deepcopy(
        _NON_NEGATIVE)}, allow_unknown=not want.at_least(2, 75))
