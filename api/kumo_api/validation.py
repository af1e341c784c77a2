"""Request validation: JSON-Schema per microversion, Nova's error wording."""
from __future__ import annotations

import base64
import binascii
import re
import uuid as uuidlib

import jsonschema
import netaddr
from flask import g, request
from jsonschema import Draft4Validator, FormatChecker

from kumo_api import errors, request_limits
from kumo_api.microversion import APIVersion
from kumo_api.schemas import types

_format_checker = FormatChecker()


class InvalidName(ValueError):
    """A name that Nova's name formats refuse: the 400 says this sentence alone."""


def _name_format(regex: str, reason: str):
    def check(value) -> bool:
        if not isinstance(value, str) or re.search(regex, value):
            return True  # a non-string is the 'type' keyword's error
        raise InvalidName(f"An invalid 'name' value was provided. The name must be: {reason}")
    return check


for _format, (_regex, _reason) in types.NAME_FORMATS.items():
    _format_checker.checks(_format, raises=InvalidName)(_name_format(_regex, _reason))


@_format_checker.checks('uuid')
def _is_uuid(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        uuidlib.UUID(value)
    except ValueError:
        return False
    return True


@_format_checker.checks('base64')
def _is_base64(value) -> bool:
    # As Nova's checker (base64.decodebytes): characters outside the alphabet, such as
    # the spaces in Nova's own personality samples, are skipped; bad padding is not.
    if not isinstance(value, str):
        return True
    try:
        base64.decodebytes(value.encode('utf-8'))
    except (binascii.Error, ValueError):
        return False
    return True


@_format_checker.checks('regex')
def _is_regex(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        re.compile(value)
    except (re.error, OverflowError, RecursionError):  # a{99999999999}, (((((...
        return False
    return True


def _format_error(error: jsonschema.ValidationError) -> str:
    if isinstance(error.cause, InvalidName):
        return str(error.cause)
    # absolute_path: best_match may pick an error from inside a oneOf/anyOf, whose
    # `path` is relative to that sub-schema (often empty), losing the field's name.
    if error.absolute_path:
        field = '/'.join(str(p) for p in error.absolute_path)
        return (f'Invalid input for field/attribute {field}. Value: {error.instance}. '
                f'{error.message}')
    return error.message


def validate(body, schema: dict) -> None:
    """Validate a body against a schema; the first error becomes a 400."""
    validator = Draft4Validator(schema, format_checker=_format_checker)
    _drop_unknown_for_legacy_v2(validator, body)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise errors.BadRequest(_format_error(error))


Windows = list[tuple[tuple[int, int], tuple[int, int], dict]]


def schema_for(schemas: Windows, want: APIVersion) -> dict:
    """Pick the schema whose [min, max] microversion window contains `want`."""
    for low, high, schema in schemas:
        if APIVersion(*low) <= want <= APIVersion(*high):
            return schema
    raise errors.NotFound('The resource could not be found.')


def validate_versioned(body, windows: Windows, want: APIVersion) -> None:
    """validate() against the window of `want`; when the error is a property this
    microversion does not know but another one does, the message says which:
    "... ('description' was unexpected) (available from microversion 2.19)"."""
    validator = Draft4Validator(schema_for(windows, want), format_checker=_format_checker)
    _drop_unknown_for_legacy_v2(validator, body)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise errors.BadRequest(_format_error(error) + _version_hint(error, windows, want))


def _drop_unknown_for_legacy_v2(validator: Draft4Validator, body) -> None:
    """Through Nova's v2.0-compatible API (/v2, kumo_api.app) a body's keys that a
    closed object does not know are dropped, not refused, as Nova's soft
    additionalProperties check does: except where the object has patternProperties
    (metadata), and except when no key is known (one branch of a oneOf)."""
    if not getattr(g, 'legacy_v2', False):
        return
    pending = list(validator.iter_errors(body))
    while pending:
        error = pending.pop()
        pending.extend(error.context or ())
        if error.validator != 'additionalProperties' \
                or not isinstance(error.instance, dict) \
                or error.schema.get('patternProperties'):
            continue
        unknown = _unexpected(error)
        if len(unknown) < len(error.instance):
            for key in unknown:
                error.instance.pop(key, None)


def _unexpected(error: jsonschema.ValidationError) -> list[str]:
    """Properties of the object in error that its schema does not know, in body order
    (for an additionalProperties error, or a missing required property that a
    property of another microversion may stand in for)."""
    if error.validator not in ('additionalProperties', 'required') \
            or not isinstance(error.instance, dict):
        return []
    known = error.schema.get('properties', {})
    patterns = error.schema.get('patternProperties', {})
    return [k for k in error.instance
            if k not in known and not any(re.search(p, k) for p in patterns)]


def _alternatives(schema: dict):
    yield schema
    for key in ('oneOf', 'anyOf', 'allOf'):
        for sub in schema.get(key, ()):
            yield from _alternatives(sub)


def _accepts(schema: dict, path: list, name: str) -> bool:
    """Whether some branch of `schema` at `path` (keys and list indexes) knows `name`."""
    return any(name in option.get('properties', {}) or any(
        re.search(p, name) for p in option.get('patternProperties', {}))
        for option in _schemas_at(schema, path))


def _schemas_at(schema: dict, path: list):
    """The sub-schemas (of any oneOf/anyOf/allOf branch) of the value at `path`."""
    for option in _alternatives(schema):
        if not path:
            yield option
            continue
        step, rest = path[0], path[1:]
        if isinstance(step, int):
            items = option.get('items')
            if isinstance(items, list):
                items = items[step] if step < len(items) else None
            if isinstance(items, dict):
                yield from _schemas_at(items, rest)
        elif step in option.get('properties', {}):
            yield from _schemas_at(option['properties'][step], rest)


def _enum_hint(error: jsonschema.ValidationError, windows: Windows,
               want: APIVersion) -> str:
    """For a value outside an enum that another microversion's schema lists (e.g. an
    event name): " (available from microversion 2.76)"."""
    path = list(error.absolute_path)

    def lists(schema: dict) -> bool:
        return any(error.instance in option.get('enum', ())
                   for option in _schemas_at(schema, path))
    newer = [APIVersion(*low) for low, _high, schema in windows
             if APIVersion(*low) > want and lists(schema)]
    older = [APIVersion(*high) for _low, high, schema in windows
             if APIVersion(*high) < want and lists(schema)]
    if newer:
        return f' (available from microversion {min(newer)})'
    if older:
        return f' (available up to microversion {max(older)})'
    return ''


def _version_hint(error: jsonschema.ValidationError, windows: Windows,
                  want: APIVersion) -> str:
    if error.validator == 'enum':
        return _enum_hint(error, windows, want)
    hints = []
    path = list(error.absolute_path)
    for name in _unexpected(error):
        newer = [APIVersion(*low) for low, _high, schema in windows
                 if APIVersion(*low) > want and _accepts(schema, path, name)]
        older = [APIVersion(*high) for _low, high, schema in windows
                 if APIVersion(*high) < want and _accepts(schema, path, name)]
        if newer:
            hints.append((name, f'available from microversion {min(newer)}'))
        elif older:
            hints.append((name, f'available up to microversion {max(older)}'))
    if not hints:
        return ''
    if len(hints) == 1 and error.validator == 'additionalProperties':
        return f' ({hints[0][1]})'
    return ' (' + '; '.join(f"'{name}' is {text}" for name, text in hints) + ')'


def json_body():
    """The request body as JSON, or a 400 'Malformed request body'."""
    data = request.get_data(cache=True)
    if not data:
        raise errors.BadRequest('Malformed request body')
    # Depth, NUL and unpaired surrogates checked too: 400s, not 500s further on.
    body = request_limits.load_json(data)
    if body is None:
        raise errors.BadRequest('Malformed request body')
    return body


def query_params() -> dict[str, list[str]]:
    """The query string as Nova's query schemas see it: every value a list."""
    return {key: request.args.getlist(key) for key in request.args}


def validate_query(schema: dict) -> dict[str, list[str]]:
    """Validate the query string (each property an array of strings); 400 on error."""
    params = query_params()
    validator = Draft4Validator(schema, format_checker=_format_checker)
    error = jsonschema.exceptions.best_match(validator.iter_errors(params))
    if error is not None:
        if error.path:
            field = error.path[0]
            raise errors.BadRequest(f'Invalid input for query parameters {field}. Value: '
                                    f'{error.instance}. {error.message}')
        raise errors.BadRequest(error.message)
    return params


def query_schema(properties: dict, allow_unknown: bool) -> dict:
    """A query schema: unknown parameters are ignored before 2.75 and 400 from 2.75."""
    return {'type': 'object', 'properties': properties,
            'additionalProperties': allow_unknown}


# A query parameter that must appear once with a non-negative integer value, etc.
single_param = {'type': 'array', 'minItems': 1, 'maxItems': 1}


def canonical_ip(value: str | None) -> str | None:
    """An accessIPv4/accessIPv6 as Nova keeps and shows it: netaddr's text of the
    address (IPv6 compressed and in lower case, an embedded IPv4 part in hex:
    '0000::babe:220.12.22.2' is shown as '::babe:dc0c:1602')."""
    if not value:
        return value
    try:
        return str(netaddr.IPAddress(value))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return value  # the schema's format check has the last word
