"""Request schemas of os-keypairs, per microversion window."""
import copy

from kumo_api import validation
from kumo_api.schemas import types


def _name(pattern: str) -> dict:
    """A key pair name: a name, of these characters only (Nova's
    keypair_name_special_chars: the pattern is what its error quotes)."""
    return {'allOf': [types.name, {'type': 'string', 'pattern': pattern, 'minLength': 1,
                                   'maxLength': 255}]}


_keypair = {
    'type': 'object',
    'properties': {'name': _name(r'^[_\- a-zA-Z0-9]+$'), 'public_key': {'type': 'string'}},
    'required': ['name'],
    'additionalProperties': False,
}
_keypair_22 = copy.deepcopy(_keypair)
_keypair_22['properties']['type'] = {'type': 'string', 'enum': ['ssh', 'x509']}
_keypair_210 = copy.deepcopy(_keypair_22)
_keypair_210['properties']['user_id'] = {'type': 'string'}
# 2.92: no more generated keys.
_keypair_292 = copy.deepcopy(_keypair_210)
_keypair_292['required'] = ['name', 'public_key']
_keypair_292['properties']['name'] = _name(r'^[_\-\@\. a-zA-Z0-9]+$')


def _body(keypair: dict) -> dict:
    return {'type': 'object', 'properties': {'keypair': keypair}, 'required': ['keypair'],
            'additionalProperties': False}


CREATE = [
    ((2, 1), (2, 1), _body(_keypair)),
    ((2, 2), (2, 9), _body(_keypair_22)),
    ((2, 10), (2, 91), _body(_keypair_210)),
    ((2, 92), (2, 100), _body(_keypair_292)),
]

def _param(schema: dict) -> dict:
    return {'type': 'array', 'items': schema}


_user = {'user_id': _param({'type': 'string'})}
_paging = {'limit': _param({'type': 'string', 'pattern': '^[0-9]*$'}),
           'marker': _param({'type': 'string'})}


def index_query(want) -> dict:
    props = {}
    if want.at_least(2, 10):
        props.update(_user)
    if want.at_least(2, 35):
        props.update(_paging)
    return validation.query_schema(props, allow_unknown=not want.at_least(2, 75))


def item_query(want) -> dict:
    """GET/DELETE /os-keypairs/{name}: user_id from 2.10."""
    props = dict(_user) if want.at_least(2, 10) else {}
    return validation.query_schema(props, allow_unknown=not want.at_least(2, 75))
