"""Errors of the image service, in the shape Glance's webob faults take in JSON:
{"message": "...", "code": "404 Not Found", "title": "Not Found"}."""
from __future__ import annotations

from flask import jsonify
from werkzeug.http import HTTP_STATUS_CODES


class ImageAPIError(Exception):
    code = 500

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(ImageAPIError):
    code = 400


class Forbidden(ImageAPIError):
    code = 403


class NotFound(ImageAPIError):
    code = 404


class Conflict(ImageAPIError):
    code = 409


class RequestEntityTooLarge(ImageAPIError):
    code = 413


class UnsupportedMediaType(ImageAPIError):
    code = 415


def fault_response(code: int, message: str, kind: str | None = None):
    del kind  # Glance's faults do not name the error
    title = HTTP_STATUS_CODES.get(code, 'Error')
    response = jsonify({'message': message, 'code': f'{code} {title}', 'title': title})
    response.status_code = code
    return response
