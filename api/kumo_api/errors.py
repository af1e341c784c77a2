"""API errors in Nova's format: {"<faultName>": {"code": N, "message": "..."}}."""
from __future__ import annotations

from flask import jsonify

FAULT_NAMES = {
    400: 'badRequest',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'itemNotFound',
    405: 'badMethod',
    409: 'conflictingRequest',
    413: 'overLimit',
    415: 'badMediaType',
    429: 'overLimit',
    501: 'notImplemented',
    503: 'serviceUnavailable',
}


class APIError(Exception):
    """Raised by handlers; rendered as a fault with this code, in the format of the
    API serving the request (Nova's here; Glance's or Neutron's in the side services).
    `kind` names the error where a format shows it (Neutron's "type")."""
    code = 500

    def __init__(self, message: str, code: int | None = None, kind: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.kind = kind


class BadRequest(APIError):
    code = 400


class Unauthorized(APIError):
    code = 401


class Forbidden(APIError):
    code = 403


class NotFound(APIError):
    code = 404


class Conflict(APIError):
    code = 409


class UnsupportedMediaType(APIError):
    code = 415


class NotAcceptable(APIError):
    code = 406


def fault_response(code: int, message: str):
    name = FAULT_NAMES.get(code, 'computeFault')
    response = jsonify({name: {'code': code, 'message': message}})
    response.status_code = code
    return response
