"""Callers noauth2 cannot make, for policy tests: a user with only the reader role.

noauth2 gives every user but admin the member and reader roles, so "a reader cannot
write" needs another identity. `allow_role_override(app)` makes the app take the
roles from an X-Test-Roles header when a request carries one (replacing what noauth2
set, before the request context is built): what keystonemiddleware passes on for a
Keystone token with only those roles. Policy itself is untouched.
"""
from __future__ import annotations

from flask import request

from tests.fixtures import cloud

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


class OwnServerTestCase(cloud.CloudTestCase):
    """Each test gets a new project (self.token, self.project) with one ACTIVE server
    (self.server_id) on a one-agent cloud whose requests may carry X-Test-Roles."""
    COMPUTES = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        allow_role_override(cls.cloud.app)

    def setUp(self):
        super().setUp()
        self.token = self.new_token()
        self.project = self.token.split(':')[1]
        self.server_id = self.cloud.create_server(token=self.token)['id']
        self.cloud.wait_settled(self.server_id, 'ACTIVE')
