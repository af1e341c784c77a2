"""Reusable schema fragments (Nova's parameter types)."""
import functools
import re
import unicodedata


@functools.cache
def _bmp_categories() -> list[str]:
    return [unicodedata.category(chr(code)) for code in range(0xFFFF)]


@functools.cache
def _char_class(ws: bool = True, invert: bool = False, exclude: str = '') -> str:
    """The inside of a [...] class of the printable BMP characters, as Nova's
    parameter_types._build_regex_range writes it: runs of U+0000..U+FFFE as `a-b`,
    each end re.escape'd. Printable: no C* category, no Z* but Zs (space separators;
    none either when not `ws`). Built the same way because Nova's error messages quote
    the pattern, and from this Python's unicodedata, as Nova's is."""
    def wanted(code: int, category: str) -> bool:
        ok = (chr(code) not in exclude and category[0] != 'C'
              and (category[0] != 'Z' or (ws and category == 'Zs')))
        return ok != invert

    runs, start = [], None
    for code, category in enumerate(_bmp_categories()):
        if wanted(code, category):
            start = code if start is None else start
        elif start is not None:
            runs.append(re.escape(chr(start)) + (
                '' if start == code - 1 else '-' + re.escape(chr(code - 1))))
            start = None
    if start is not None:
        # Nova closes the last run with its end even when it is one character long.
        runs.append(re.escape(chr(start)) + '-' + re.escape(chr(0xFFFE)))
    return ''.join(runs)


def _no_ws_edges(inner: str) -> str:
    edge = _char_class(ws=False, invert=True)
    return f'^(?![{edge}])[{inner}]*(?<![{edge}])$'


def _ws_allowed_at_edges(exclude: str = '') -> str:
    ws, no_ws = _char_class(exclude=exclude), _char_class(ws=False, exclude=exclude)
    return (f'^[{ws}]*[{no_ws}]+[{ws}]*$|'
            f'^[{ws}]*[{no_ws}][{no_ws}{ws}]+[{no_ws}][{ws}]*$')


# format -> (regex, what Nova's InvalidName says a name must be). kumo_api.validation
# checks these formats; a failure is a 400 with Nova's sentence, no field path.
NAME_FORMATS = {
    'name': (_no_ws_edges(_char_class()),
             'printable characters. Can not start or end with whitespace.'),
    'name_with_leading_trailing_spaces': (
        _ws_allowed_at_edges(),
        'printable characters with at least one non space character'),
    'az_name': (_no_ws_edges(_char_class(exclude=':')),
                'printable characters except :.Can not start or end with whitespace.'),
    'az_name_with_leading_trailing_spaces': (
        _ws_allowed_at_edges(exclude=':'),
        'printable characters except :, with at least one non space character'),
}

name = {'type': 'string', 'format': 'name', 'minLength': 1, 'maxLength': 255}
# Stripped by the handler (Nova's normalize_name), as where Nova takes it.
name_with_leading_trailing_spaces = {
    'type': 'string', 'format': 'name_with_leading_trailing_spaces',
    'minLength': 1, 'maxLength': 255,
}
az_name = {'type': 'string', 'format': 'az_name', 'minLength': 1, 'maxLength': 255}

description = {
    'type': ['string', 'null'], 'minLength': 0, 'maxLength': 255,
    'pattern': f'^[{_char_class()}]*$',
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
    return re.search(NAME_FORMATS['name'][0], value) is not None
