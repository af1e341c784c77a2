"""Errors of the network service, as Neutron writes them:
{"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}}."""
from __future__ import annotations

from flask import jsonify

from kumo_api import errors

_TYPES = {400: 'HTTPBadRequest', 401: 'HTTPUnauthorized', 403: 'HTTPForbidden',
          404: 'HTTPNotFound', 405: 'HTTPMethodNotAllowed', 409: 'HTTPConflict',
          415: 'HTTPUnsupportedMediaType', 500: 'HTTPInternalServerError'}


# The network service raises the compute API's error classes (one hierarchy, with an
# optional `kind`: Neutron's error type); only the rendering differs.
NetworkAPIError = errors.APIError
BadRequest = errors.BadRequest
Forbidden = errors.Forbidden
NotFound = errors.NotFound
Conflict = errors.Conflict


def fault_response(code: int, message: str, kind: str | None = None):
    """Neutron's fault; `kind` is the error's name (a Kumo exception's class name is
    Neutron's: NetworkNotFound, IpAddressAlreadyAllocated, ...)."""
    response = jsonify({'NeutronError': {'type': kind or _TYPES.get(code, 'HTTPError'),
                                         'message': message, 'detail': ''}})
    response.status_code = code
    return response
