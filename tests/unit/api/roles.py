"""Callers noauth2 cannot make, for policy tests: a user with only the reader role.

noauth2 gives every user but admin the member and reader roles, so "a reader cannot
write" needs another identity. `allow_role_override(app)` makes the app take the
roles from an X-Test-Roles header when a request carries one (replacing what noauth2
set, before the request context is built): what keystonemiddleware passes on for a
Keystone token with only those roles. Policy itself is untouched.
"""
from __future__ import annotations

from flask import request

READER = {'X-Test-Roles': 'reader'}


def _override_roles() -> None:
    roles = request.environ.get('HTTP_X_TEST_ROLES')
    if roles:
        request.environ['HTTP_X_ROLES'] = roles


def allow_role_override(app) -> None:
    hooks = app.before_request_funcs.setdefault(None, [])
    if _override_roles not in hooks:
        # First, so the request context is built from the overridden roles.
        hooks.insert(0, _override_roles)
