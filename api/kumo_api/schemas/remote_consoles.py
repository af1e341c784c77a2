"""Request schemas of remote consoles: POST /servers/{id}/remote-consoles (2.6+), the
pre-2.6 actions os-getSerialConsole, os-getVNCConsole, os-getSPICEConsole and
os-getRDPConsole, and the query of GET /os-console-auth-tokens/{token}.

The enums keep the types Nova no longer serves (xvpvnc, rdp, rdp-html5), as Nova's
do: they pass validation and are refused by the handler with Nova's message.
"""
import copy

from kumo_api import validation


def _action(types: list[str]) -> dict:
    return {'type': 'object',
            'properties': {'type': {'type': 'string', 'enum': types}},
            'required': ['type'], 'additionalProperties': False}


_MAX = (2, 100)
# The actions exist until 2.5; from 2.6 an action outside its window is a 404.
GET_VNC = [((2, 1), (2, 5), _action(['novnc', 'xvpvnc']))]
GET_SPICE = [((2, 1), (2, 5), _action(['spice-html5']))]
GET_SERIAL = [((2, 1), (2, 5), _action(['serial']))]
# Nova's schema of the removed RDP console is empty: anything, then a plain 400.
GET_RDP = [((2, 1), (2, 5), {})]

_create_2_6 = {
    'type': 'object',
    'properties': {
        'remote_console': {
            'type': 'object',
            'properties': {
                'protocol': {'type': 'string', 'enum': ['vnc', 'spice', 'serial', 'rdp']},
                'type': {'type': 'string', 'enum': ['novnc', 'xvpvnc', 'spice-html5',
                                                    'serial', 'rdp-html5']},
            },
            'required': ['protocol', 'type'],
            'additionalProperties': False,
        },
    },
    'required': ['remote_console'],
    'additionalProperties': False,
}
_create_2_8 = copy.deepcopy(_create_2_6)   # VMware's MKS console
_props = _create_2_8['properties']['remote_console']['properties']
_props['protocol']['enum'].append('mks')
_props['type']['enum'].append('webmks')
_create_2_99 = copy.deepcopy(_create_2_8)  # SPICE without the HTML5 proxy
_create_2_99['properties']['remote_console']['properties']['type']['enum'].append(
    'spice-direct')

CREATE = [((2, 6), (2, 7), _create_2_6), ((2, 8), (2, 98), _create_2_8),
          ((2, 99), _MAX, _create_2_99)]

# GET /os-console-auth-tokens/{token}: unknown query parameters ignored until 2.99.
TOKEN_QUERY = [((2, 1), (2, 98), validation.query_schema({}, allow_unknown=True)),
               ((2, 99), _MAX, validation.query_schema({}, allow_unknown=False))]
