"""The Flask application factory: middleware order and request hooks, in one place.

WSGI order, outermost first, and why:
  1. RequestId  - every response, errors from auth included, carries
                  x-openstack-request-id (and Nova's x-compute-request-id).
  1b. limits    - request_limits: oversized bodies (413) and bad URLs (400/414) are
                  refused before anything reads or trusts them, as Nova's sizelimit
                  sits before auth.
  2. healthcheck - /healthcheck answers before auth, so load balancers need no token.
  3. auth       - noauth2 or keystonemiddleware: identity into the environ.
  4. Flask      - per request: build the RequestContext (it carries the request id
                  into every log line), negotiate the microversion, then dispatch to
                  a resource; errors become Nova-format faults.
"""
from __future__ import annotations

import sqlalchemy.exc as sa_exc
from flask import Flask, g, request
from oslo_config import cfg
from oslo_log import log as logging
from oslo_middleware import healthcheck, request_id
from werkzeug.exceptions import HTTPException

from kumo_api import auth, errors, microversion, openapi, request_limits
from kumo_api.resources import (
    aggregates,
    availability_zones,
    flavor_access,
    flavor_extra_specs,
    flavors,
    hypervisors,
    images,
    instance_actions,
    keypairs,
    limits,
    migrations,
    quota_class_sets,
    quota_sets,
    scheduler,
    server_actions,
    server_groups,
    server_metadata,
    server_tags,
    servers,
    services,
    versions,
)
from kumo_common import context as kumo_context
from kumo_common import exceptions

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Blueprints served under /v2.1 and /v2.1/{project_id}.
API_BLUEPRINTS = (servers.bp, server_actions.bp, images.bp, flavors.bp, flavor_access.bp,
                  flavor_extra_specs.bp, keypairs.bp, limits.bp, quota_sets.bp,
                  scheduler.bp, services.bp, hypervisors.bp, availability_zones.bp,
                  aggregates.bp, instance_actions.bp, server_metadata.bp, server_tags.bp,
                  server_groups.bp, quota_class_sets.bp, migrations.bp)
_JSON_TYPES = ('application/json', 'application/vnd.openstack.compute+json')


class ComputeRequestId(request_id.RequestId):
    """oslo.middleware's RequestId plus Nova's x-compute-request-id header."""
    compat_headers = ['x-compute-request-id']


def create_app() -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False
    app.url_map.strict_slashes = False

    app.register_blueprint(versions.bp)
    app.register_blueprint(openapi.bp)  # GET /openapi.json
    for bp in API_BLUEPRINTS:
        app.register_blueprint(bp, url_prefix='/v2.1')
        app.register_blueprint(bp, url_prefix='/v2.1/<project_id>',
                               name=f'{bp.name}_with_project')

    @app.url_value_preprocessor
    def _pop_project_id(endpoint, values):
        g.url_project_id = (values or {}).pop('project_id', None)

    app.before_request(_before_request)
    app.after_request(_after_request)
    app.register_error_handler(errors.APIError, _api_error)
    app.register_error_handler(exceptions.KumoException, _kumo_error)
    app.register_error_handler(HTTPException, _http_error)
    for db_error in _DB_UNAVAILABLE:
        app.register_error_handler(db_error, _db_unavailable)
    app.register_error_handler(Exception, _unexpected_error)

    app.wsgi_app = ComputeRequestId(request_limits.RequestLimits(
        _healthcheck_at('/healthcheck', auth.wrap(app.wsgi_app))))
    return app


def _healthcheck_at(path: str, app):
    """oslo.middleware's Healthcheck answers EVERY request it sees (it has no path
    option; Nova mounts it with a paste urlmap), so only `path` is routed to it."""
    health = healthcheck.Healthcheck(None, {})

    def dispatch(environ, start_response):
        if environ.get('PATH_INFO') == path:
            return health(environ, start_response)
        return app(environ, start_response)
    return dispatch


def _before_request():
    g.want = microversion.MIN
    g.context = kumo_context.RequestContext.from_environ(request.environ, overwrite=True)
    if request.path.startswith('/v2.1/') and request.path.rstrip('/') != '/v2.1':
        try:
            g.want = microversion.from_headers(request.headers)
        except microversion.MalformedVersion as exc:
            raise errors.BadRequest(str(exc)) from exc
        except microversion.UnsupportedVersion as exc:
            raise errors.NotAcceptable(str(exc)) from exc
        g.microversioned = True
    url_project = getattr(g, 'url_project_id', None)
    if url_project is not None and url_project != g.context.project_id:
        # Nova's check (wsgi.Resource): another project's id in the URL is a 400 for
        # everyone, admins included.
        raise errors.BadRequest(f"Malformed request URL: URL's project_id '{url_project}' "
                                "doesn't match Context's project_id "
                                f"'{g.context.project_id}'")
    if request.method in ('POST', 'PUT', 'PATCH') and request.content_length:
        ctype = (request.mimetype or '').lower()
        if ctype and ctype not in _JSON_TYPES and ctype != 'text/plain':
            raise errors.UnsupportedMediaType('Unsupported Content-Type')


def _after_request(response):
    if getattr(g, 'microversioned', False):
        for key, value in microversion.response_headers(g.want).items():
            response.headers[key] = value
    return response


def _api_error(exc: errors.APIError):
    if exc.code >= 500:
        LOG.error('%s', exc.message)
    return errors.fault_response(exc.code, exc.message)


def _kumo_error(exc: exceptions.KumoException):
    if exc.code == 503:
        # A service Kumo depends on (the image API) is down: not a bug, say which.
        LOG.error('%s', exc.msg)
        response = errors.fault_response(503, exc.msg)
        response.headers['Retry-After'] = '5'
        return response
    if exc.code >= 500:
        LOG.exception('Unexpected error')
        return errors.fault_response(500, 'Unexpected API Error. Please report this at '
                                     'http://bugs.launchpad.net/nova/ and attach the Nova '
                                     'API log if possible.')
    return errors.fault_response(exc.code, exc.msg)


def _http_error(exc: HTTPException):
    messages = {404: 'The resource could not be found.',
                405: 'The method specified is not allowed for this resource.'}
    return errors.fault_response(exc.code or 500,
                                 messages.get(exc.code, exc.description or exc.name))


# The database is unreachable (down, restarting, the pool exhausted): 503, so
# clients retry, and the API recovers by itself (pool_pre_ping reconnects).
_DB_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError,
                   sa_exc.DisconnectionError, sa_exc.TimeoutError)


def _db_unavailable(exc: Exception):
    LOG.error('Database unavailable: %s', str(exc).splitlines()[0] if str(exc) else exc)
    response = errors.fault_response(503, 'The database is unavailable. Please try again '
                                          'later.')
    response.headers['Retry-After'] = '5'
    return response


def _unexpected_error(exc: Exception):
    LOG.exception('Unexpected API error')
    return errors.fault_response(
        500, "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ "
             "and attach the Nova API log if possible.\n<class '%s'>" % type(exc).__name__)
