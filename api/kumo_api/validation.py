"""Request validation: JSON-Schema per microversion, Nova's error wording."""
from __future__ import annotations

import base64
import binascii
import re
import uuid as uuidlib

import jsonschema
from flask import request
from jsonschema import Draft4Validator, FormatChecker

from kumo_api import errors
from kumo_api.microversion import APIVersion

_format_checker = FormatChecker()


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
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


@_format_checker.checks('regex')
def _is_regex(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _format_error(error: jsonschema.ValidationError) -> str:
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
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise errors.BadRequest(_format_error(error))


def schema_for(schemas: list[tuple[tuple[int, int], tuple[int, int], dict]],
               want: APIVersion) -> dict:
    """Pick the schema whose [min, max] microversion window contains `want`."""
    for low, high, schema in schemas:
        if APIVersion(*low) <= want <= APIVersion(*high):
            return schema
    raise errors.NotFound('The resource could not be found.')


def json_body():
    """The request body as JSON, or a 400 'Malformed request body'."""
    data = request.get_data(cache=True)
    if not data:
        raise errors.BadRequest('Malformed request body')
    body = request.get_json(force=True, silent=True)
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
