"""Limits on what a request may carry, enforced before anything trusts it.

* Bodies: at most ``[api] max_request_body_size`` bytes (Nova's oslo.middleware
  sizelimit default). A larger Content-Length is refused with 413 before a byte of
  the body is read; a body of unknown length (chunked, behind a server that passes
  it through) is cut off with 413 as soon as it passes the limit. kumo-api's waitress
  buffers whole bodies before calling the app, so it gets the same limit
  (`waitress_options`) and answers its own 413s in Nova's format (`use_nova_faults`).
* URLs: at most MAX_URL_LENGTH bytes of path and query string (414), valid UTF-8
  once percent-decoded, and no NUL characters (400): no database can compare a
  string holding NUL (PostgreSQL refuses it), and an undecodable name finds nothing.
* JSON bodies (`load_json`): nested at most MAX_JSON_DEPTH deep, no NaN/Infinity or
  numbers beyond a double, and no string (key or value) holding NUL or a lone
  surrogate, which no database column can store. Each is a 400 naming the field.

oslo.middleware's RequestBodySizeLimiter does the body part too, but answers with
webob's own error bodies and raises webob exceptions from inside the app for chunked
bodies; Nova-format faults are the contract here, so the same checks are made below.
"""
from __future__ import annotations

import json
import math
import re
import urllib.parse

from oslo_config import cfg
from waitress import channel as waitress_channel
from waitress import server as waitress_server
from waitress import task as waitress_task
from werkzeug import exceptions as http_exceptions

from kumo_api import errors

CONF = cfg.CONF

# Bytes of PATH_INFO plus QUERY_STRING (percent-encoded). Servers in front of Nova cap
# the request line at 8-16 KiB (eventlet, Apache, uWSGI); lists of ids, tags or
# filters fit many times over.
MAX_URL_LENGTH = 16384
# Nesting of a JSON body. Nova's bodies nest at most a handful of levels (scheduler
# hints, block device mappings); past this a body is an attack, and past ~1000 the
# parser itself would fail with RecursionError.
MAX_JSON_DEPTH = 64

_BAD_CHARS = re.compile('[\x00\ud800-\udfff]')


def too_large_message(limit: int) -> str:
    return f'Request is too large. Larger than max_request_body_size ({limit}).'


def fault_body(code: int, message: str) -> bytes:
    """A Nova-format fault as bytes (for answers made outside Flask)."""
    name = errors.FAULT_NAMES.get(code, 'computeFault')
    return json.dumps({name: {'code': code, 'message': message}}).encode()


def _fault(start_response, code: int, reason: str, message: str) -> list[bytes]:
    body = fault_body(code, message)
    start_response(f'{code} {reason}', [('Content-Type', 'application/json'),
                                        ('Content-Length', str(len(body)))])
    return [body]


class _LimitedInput:
    """wsgi.input of unknown length: reading past `limit` bytes is a 413."""

    def __init__(self, stream, limit: int):
        self._stream = stream
        self._limit = limit
        self._read = 0

    def _count(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > self._limit:
            # werkzeug's own exception: Flask's HTTPException handler renders it.
            raise http_exceptions.RequestEntityTooLarge(
                description=too_large_message(self._limit))
        return data

    def read(self, size: int = -1) -> bytes:
        # Never more than one byte past the limit in one go, whatever was asked.
        room = self._limit - self._read + 1
        size = room if size is None or size < 0 else min(size, room)
        return self._count(self._stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        room = self._limit - self._read + 1
        size = room if size is None or size < 0 else min(size, room)
        return self._count(self._stream.readline(size))

    def __iter__(self):
        while True:
            chunk = self.read(65536)
            if not chunk:
                return
            yield chunk


def _raw(text: str) -> bytes:
    """The bytes of a WSGI string (PEP 3333: latin-1 decoded bytes)."""
    try:
        return text.encode('latin-1')
    except UnicodeEncodeError:  # a server that decoded it already
        return text.encode('utf-8', 'surrogatepass')


def url_problem(environ) -> tuple[int, str, str] | None:
    """Why the request's URL is refused, as (code, reason, message), or None."""
    path = environ.get('PATH_INFO', '') or ''
    query = environ.get('QUERY_STRING', '') or ''
    if len(path) + len(query) > MAX_URL_LENGTH:
        return (414, 'Request-URI Too Long',
                f'The request URL is longer than {MAX_URL_LENGTH} bytes.')
    for part, raw in (('path', _raw(path)),
                      ('query string', urllib.parse.unquote_to_bytes(_raw(query)))):
        try:
            raw.decode('utf-8')
        except UnicodeDecodeError:
            return 400, 'Bad Request', f'The request {part} is not valid UTF-8.'
        if b'\x00' in raw:
            return 400, 'Bad Request', f'The request {part} contains a NUL character.'
    return None


class RequestLimits:
    """WSGI middleware: refuse oversized bodies and bad URLs before anything runs."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        problem = url_problem(environ)
        if problem is not None:
            return _fault(start_response, *problem)
        limit = CONF.api.max_request_body_size
        length = (environ.get('CONTENT_LENGTH') or '').strip()
        if length:
            if not (length.isascii() and length.isdigit()):
                return _fault(start_response, 400, 'Bad Request',
                              'Invalid Content-Length header.')
            if int(length) > limit:
                return _fault(start_response, 413, 'Request Entity Too Large',
                              too_large_message(limit))
        elif environ.get('wsgi.input') is not None:
            environ['wsgi.input'] = _LimitedInput(environ['wsgi.input'], limit)
        return self.app(environ, start_response)


# --- JSON bodies ----------------------------------------------------------------------

def _no_constants(name: str):
    raise ValueError(f'{name} is not valid JSON')


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f'{text} is out of range')
    return value


def _field_error(path: list, value, problem: str) -> errors.BadRequest:
    if path:
        field = '/'.join(str(p) for p in path)
        return errors.BadRequest(f'Invalid input for field/attribute {field}. Value: '
                                 f'{value!r}. {problem}')
    return errors.BadRequest(f'Invalid input: {value!r}. {problem}')


def _check_string(path: list, text: str) -> None:
    match = _BAD_CHARS.search(text)
    if match is None:
        return
    if match.group() == '\x00':
        raise _field_error(path, text, 'NUL characters are not allowed.')
    raise _field_error(path, text, 'Unpaired surrogates are not valid Unicode.')


def check_tree(body) -> None:
    """Depth and strings of a parsed body (iterative: no recursion to exhaust)."""
    stack = [(body, 1, [])]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, str):
            _check_string(path, node)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise errors.BadRequest(f'Malformed request body: nested deeper than '
                                    f'{MAX_JSON_DEPTH} levels.')
        if isinstance(node, dict):
            for key, value in node.items():
                _check_string(path + [key], key)
                stack.append((value, depth + 1, path + [key]))
        else:
            stack.extend((value, depth + 1, path + [index])
                         for index, value in enumerate(node))


def load_json(data: bytes):
    """A request body parsed as JSON and checked (`check_tree`), or a 400."""
    try:
        body = json.loads(data, parse_constant=_no_constants, parse_float=_finite)
    except RecursionError as exc:
        raise errors.BadRequest(f'Malformed request body: nested deeper than '
                                f'{MAX_JSON_DEPTH} levels.') from exc
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        raise errors.BadRequest('Malformed request body') from exc
    check_tree(body)
    return body


# --- waitress ---------------------------------------------------------------------------

# Responses up to this size stay in memory: waitress spools bigger ones to a
# temporary file (1 MB by default) and reads them back, which cost a detail page of
# 1,000 servers (1.6 MB at 2.100) about a millisecond.
RESPONSE_BUFFER_BYTES = 16 * 1024 * 1024


def waitress_options() -> dict:
    """waitress reads a whole body before calling the app, and refuses one whose
    length reaches its max_request_body_size: so it stops reading at our limit
    (for chunked bodies, counting the chunk framing too)."""
    return {'max_request_body_size': CONF.api.max_request_body_size + 1,
            'outbuf_overflow': RESPONSE_BUFFER_BYTES}


class _FaultTask(waitress_task.ErrorTask):
    """waitress's answer to a request it refuses itself, in Nova's format."""

    def execute(self):
        error = self.request.error
        if error.code == 413:
            message = too_large_message(self.channel.adj.max_request_body_size - 1)
        else:
            message = f'{error.reason}: {error.body}'
        body = fault_body(error.code, message)
        self.status = f'{error.code} {error.reason}'
        self.response_headers.append(('Content-Type', 'application/json'))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(waitress_channel.HTTPChannel):
    error_task_class = _FaultTask


def use_nova_faults(server) -> None:
    """Make a waitress server (from waitress.create_server) answer the requests it
    refuses (body too large, bad request line, headers too large) with Nova faults."""
    listeners = [server] if isinstance(server, waitress_server.BaseWSGIServer) else [
        d for d in server.map.values() if isinstance(d, waitress_server.BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = _Channel
