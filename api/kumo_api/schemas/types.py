"""Reusable schema fragments (Nova's parameter types)."""
import re

# Printable BMP characters: no control/format chars, no surrogates, no line separators,
# and nothing past U+FFFD (Nova's classes are built from the BMP only: emoji are 400s).
_PRINTABLE = (r'[^\x00-\x1f\x7f-\x9f\u00ad\u2028\u2029\ud800-\udfff\ufeff'
              r'\ufffe\uffff\U00010000-\U0010ffff]')
_NO_WS_EDGE = r'^(?![\s\u00a0])' + _PRINTABLE + r'*(?<![\s\u00a0])$'

name = {
    'type': 'string', 'minLength': 1, 'maxLength': 255,
    'pattern': _NO_WS_EDGE,
}

description = {
    'type': ['string', 'null'], 'minLength': 0, 'maxLength': 255,
    'pattern': '^' + _PRINTABLE + '*$',
}

boolean = {
    'type': ['boolean', 'string'],
    'enum': [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes',
             False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'],
}

uuid = {'type': 'string', 'format': 'uuid'}

positive_integer = {
    'type': ['integer', 'string'], 'pattern': '^[0-9]*$', 'minimum': 1, 'minLength': 1,
}

metadata = {
    'type': 'object',
    'patternProperties': {
        '^[a-zA-Z0-9-_:. ]{1,255}$': {'type': 'string', 'maxLength': 255},
    },
    'additionalProperties': False,
}

accessIPv4 = {'type': 'string', 'format': 'ipv4'}
accessIPv6 = {'type': 'string', 'format': 'ipv6'}

hostname_290 = {
    'type': 'string', 'minLength': 2, 'maxLength': 63,
    'pattern': '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$',
}
hostname_294 = {
    'type': 'string', 'minLength': 1, 'maxLength': 255, 'pattern': '^[a-zA-Z0-9-._]*$',
}

tag = {'type': 'string', 'minLength': 1, 'maxLength': 60, 'pattern': '^[^,/]*$'}

TRUE_STRINGS = {'true', '1', 'on', 'yes'}


def to_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in TRUE_STRINGS


def is_name_ok(value: str) -> bool:
    return re.match(_NO_WS_EDGE, value) is not None
