"""Errors of the image service, in the shape Glance's webob faults take in JSON:
{"message": "...", "code": "404 Not Found", "title": "Not Found"}."""
from __future__ import annotations

from flask import jsonify
from werkzeug.http import HTTP_STATUS_CODES

from kumo_api import errors

# The image service raises the compute API's error classes (one hierarchy); only the
# rendering differs, done by fault_response below.
ImageAPIError = errors.APIError
BadRequest = errors.BadRequest
Forbidden = errors.Forbidden
NotFound = errors.NotFound
Conflict = errors.Conflict
UnsupportedMediaType = errors.UnsupportedMediaType


class RequestEntityTooLarge(errors.APIError):
    code = 413


def fault_response(code: int, message: str, kind: str | None = None):
    del kind  # Glance's faults do not name the error
    title = HTTP_STATUS_CODES.get(code, 'Error')
    response = jsonify({'message': message, 'code': f'{code} {title}', 'title': title})
    response.status_code = code
    return response
