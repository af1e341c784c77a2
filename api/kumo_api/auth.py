"""Authentication middlewares: noauth2 for labs and tests, keystonemiddleware for real.

Both leave the caller's identity in the WSGI environ the way keystonemiddleware
does (X-User-Id, X-Project-Id, X-Roles), so the request context is built one way.
"""
from __future__ import annotations

import json

from oslo_config import cfg

CONF = cfg.CONF

# Paths that answer without a token (version discovery), as Nova; and the OpenAPI
# description (kumo_api.openapi), public like version discovery.
PUBLIC_PATHS = ('/', '/v2', '/v2/', '/v2.1', '/v2.1/', '/healthcheck', '/openapi.json')


def _unauthorized(start_response):
    body = json.dumps({'unauthorized': {'code': 401,
                                        'message': 'Authentication required'}}).encode()
    start_response('401 Unauthorized', [('Content-Type', 'application/json'),
                                        ('Content-Length', str(len(body)))])
    return [body]


class NoAuth2:
    """Token "<user>:<project>" is that user in that project; "admin" is an admin."""

    def __init__(self, app, public_paths: tuple[str, ...] = PUBLIC_PATHS):
        self.app = app
        self.public_paths = public_paths

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '/') in self.public_paths:
            return self.app(environ, start_response)
        token = environ.get('HTTP_X_AUTH_TOKEN', '')
        if not token:
            return _unauthorized(start_response)
        user_id, _sep, project_id = token.partition(':')
        project_id = project_id or user_id
        roles = 'admin,member,reader' if user_id == 'admin' else 'member,reader'
        environ['HTTP_X_USER_ID'] = user_id
        environ['HTTP_X_USER_NAME'] = user_id
        environ['HTTP_X_PROJECT_ID'] = project_id
        environ['HTTP_X_PROJECT_NAME'] = project_id
        environ['HTTP_X_ROLES'] = roles
        environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        return self.app(environ, start_response)


class KeystoneAuth:
    """keystonemiddleware's auth_token, letting version discovery through."""

    def __init__(self, app, public_paths: tuple[str, ...] = PUBLIC_PATHS):
        from keystonemiddleware import auth_token
        self.app = app
        self.public_paths = public_paths
        self.protected = auth_token.AuthProtocol(app, {'oslo_config_config': CONF})

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '/') in self.public_paths:
            return self.app(environ, start_response)
        return self.protected(environ, start_response)


def wrap(app, public_paths: tuple[str, ...] = PUBLIC_PATHS):
    """`app` behind [api] auth_strategy; `public_paths` answer without a token (the
    image and network services have version documents of their own)."""
    if CONF.api.auth_strategy == 'keystone':
        return KeystoneAuth(app, public_paths)
    return NoAuth2(app, public_paths)
