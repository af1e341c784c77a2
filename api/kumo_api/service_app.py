"""The Flask app of a side service (the image and network services): the compute API's
middleware, in the same order and for the same reasons (kumo_api.app), around the
service's own blueprints and its own fault format.

WSGI order, outermost first:
  1. RequestId   - x-openstack-request-id on every response, auth errors included.
  2. healthcheck - /healthcheck answers before auth.
  3. auth        - noauth2 or keystonemiddleware, as [api] auth_strategy says (one
                   identity for every Kumo API); `public_paths` need no token.
  4. Flask       - the request context per request, then the blueprints; errors in
                   the service's format (`fault(code, message)`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask, Response, g, request
from oslo_log import log as logging
from oslo_middleware import request_id
from werkzeug.exceptions import HTTPException

from kumo_api import app as compute_app
from kumo_api import auth, errors
from kumo_common import context as kumo_context
from kumo_common import exceptions

LOG = logging.getLogger(__name__)

# fault(code, message, kind): kind names the error (Neutron shows it; Glance does not).
Fault = Callable[[int, str, str | None], Response]


def create(name: str, blueprints: Iterable, public_paths: tuple[str, ...],
           fault: Fault) -> Flask:
    """A Flask app serving `blueprints` at the root.

    kumo_api.errors.APIError (raised by the service and by code it shares with the
    compute API) is rendered with `fault`; Kumo exceptions escaping a handler are
    rendered with their code.
    """
    app = Flask(name, static_folder=None)
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    for bp in blueprints:
        app.register_blueprint(bp)

    @app.before_request
    def _context():
        g.context = kumo_context.RequestContext.from_environ(request.environ,
                                                             overwrite=True)

    @app.errorhandler(errors.APIError)
    def _api_error(exc):
        if exc.code >= 500:
            LOG.error('%s', exc.message)
        return fault(exc.code, exc.message, exc.kind)

    @app.errorhandler(exceptions.KumoException)
    def _kumo_error(exc):
        if exc.code >= 500:
            LOG.exception('Unexpected error')
            return fault(500, 'Internal Server Error', None)
        return fault(exc.code, exc.msg, type(exc).__name__)

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        return fault(exc.code or 500, exc.description or exc.name, None)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        LOG.exception('Unexpected error in %s', name)
        return fault(500, 'Internal Server Error', None)

    app.wsgi_app = request_id.RequestId(compute_app._healthcheck_at(
        '/healthcheck', auth.wrap(app.wsgi_app, public_paths)))
    return app
