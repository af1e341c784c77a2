"""Errors of the network service, as Neutron writes them:
{"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}}."""
from __future__ import annotations

from flask import jsonify

_TYPES = {400: 'HTTPBadRequest', 401: 'HTTPUnauthorized', 403: 'HTTPForbidden',
          404: 'HTTPNotFound', 405: 'HTTPMethodNotAllowed', 409: 'HTTPConflict',
          415: 'HTTPUnsupportedMediaType', 500: 'HTTPInternalServerError'}


class NetworkAPIError(Exception):
    code = 500

    def __init__(self, message: str, code: int | None = None, kind: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.kind = kind


class BadRequest(NetworkAPIError):
    code = 400


class Forbidden(NetworkAPIError):
    code = 403


class NotFound(NetworkAPIError):
    code = 404


class Conflict(NetworkAPIError):
    code = 409


def fault_response(code: int, message: str, kind: str | None = None):
    """Neutron's fault; `kind` is the error's name (a Kumo exception's class name is
    Neutron's: NetworkNotFound, IpAddressAlreadyAllocated, ...)."""
    response = jsonify({'NeutronError': {'type': kind or _TYPES.get(code, 'HTTPError'),
                                         'message': message, 'detail': ''}})
    response.status_code = code
    return response
