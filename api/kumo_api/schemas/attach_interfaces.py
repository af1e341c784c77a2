"""Request schemas of /servers/{id}/os-interface (Nova's), per microversion: a
network or a port to attach, one fixed IP, and from 2.49 a device tag."""
from kumo_api.schemas import types

_IP = {'type': 'string', 'oneOf': [{'format': 'ipv4'}, {'format': 'ipv6'}]}
_FIXED_IPS = {'type': 'array', 'minItems': 1, 'maxItems': 1,
              'items': {'type': 'object', 'properties': {'ip_address': _IP},
                        'required': ['ip_address'], 'additionalProperties': False}}


def _body(properties: dict) -> dict:
    # Nothing is required: with neither a network nor a port, the project's only
    # network is taken (Nova's).
    return {'type': 'object',
            'properties': {'interfaceAttachment': {
                'type': 'object', 'properties': properties,
                'additionalProperties': False}},
            'additionalProperties': False}


_CREATE = {'net_id': types.uuid, 'port_id': types.uuid, 'fixed_ips': _FIXED_IPS}
CREATE = [((2, 1), (2, 48), _body(_CREATE)),
          ((2, 49), (2, 100), _body({**_CREATE, 'tag': types.tag}))]
