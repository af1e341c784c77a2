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

import re

import sqlalchemy.exc as sa_exc
import webob
import webob.exc
from flask import Flask, Response, g, request
from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_log import log as logging
from oslo_middleware import healthcheck, request_id
from werkzeug.exceptions import HTTPException

from kumo_api import auth, errors, microversion, openapi, request_limits
from kumo_api.resources import (
    aggregates,
    attach_interfaces,
    availability_zones,
    extensions,
    flavor_access,
    flavor_extra_specs,
    flavors,
    hosts,
    hypervisors,
    image_metadata,
    images,
    instance_actions,
    instance_usage_audit_log,
    keypairs,
    limits,
    migrations,
    network_proxies,
    quota_class_sets,
    quota_sets,
    remote_consoles,
    removed,
    scheduler,
    security_groups,
    server_actions,
    server_diagnostics,
    server_external_events,
    server_groups,
    server_ips,
    server_metadata,
    server_password,
    server_tags,
    server_topology,
    servers,
    services,
    simple_tenant_usage,
    versions,
    volume_attachments,
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
                  server_groups.bp, quota_class_sets.bp, migrations.bp, server_ips.bp,
                  image_metadata.bp, server_password.bp,
                  server_external_events.bp, simple_tenant_usage.bp,
                  server_diagnostics.bp, server_topology.bp, removed.bp,
                  instance_usage_audit_log.bp, network_proxies.bp,
                  volume_attachments.bp, hosts.bp, attach_interfaces.bp,
                  security_groups.bp, remote_consoles.bp, extensions.bp,
                  versions.api_bp)
_JSON_TYPES = ('application/json', 'application/vnd.openstack.compute+json')


_GLOBAL_REQUEST_ID = re.compile(request_id.ID_FORMAT)
_REQUEST_ID_HEADERS = (request_id.HTTP_RESP_HEADER_REQUEST_ID, 'x-compute-request-id')


class ComputeRequestId:
    """oslo.middleware's RequestId plus Nova's x-compute-request-id header, as plain
    WSGI: the same environ keys, headers and bodies, without the WebOb request and
    response objects oslo's builds around every request (about 0.05 ms of each).

    What WebOb did on the way is done here too: an inbound X-OpenStack-Request-Id of
    the right form becomes the global request id; the ids are appended after the
    app's own headers unless it set them; a relative Location is made absolute;
    a HEAD answer has no body."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        inbound = environ.get('HTTP_X_OPENSTACK_REQUEST_ID', '')
        if _GLOBAL_REQUEST_ID.match(inbound):
            environ[request_id.GLOBAL_REQ_ID] = inbound
        req_id = oslo_context.generate_request_id()
        environ[request_id.ENV_REQUEST_ID] = req_id

        def add_ids(status, headers, exc_info=None):
            if exc_info is not None:  # as WebOb: the error goes up to the server
                raise exc_info[1].with_traceback(exc_info[2])
            headers = list(headers)
            present = {name.lower() for name, _value in headers}
            if 'location' in present:
                headers = [(name, webob.Response._make_location_absolute(environ, value))
                           if name.lower() == 'location' else (name, value)
                           for name, value in headers]
            headers.extend((name, req_id) for name in _REQUEST_ID_HEADERS
                           if name not in present)
            return start_response(status, headers)

        body = self.app(environ, add_ids)
        if environ.get('REQUEST_METHOD') == 'HEAD':
            close = getattr(body, 'close', None)
            if close is not None:
                close()
            return []
        return body


def create_app() -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False
    # Nova's router takes each path as it is registered: /servers/ is not /servers.
    app.url_map.strict_slashes = True

    app.register_blueprint(versions.bp)
    app.register_blueprint(openapi.bp)  # GET /openapi.json
    for bp in API_BLUEPRINTS:
        app.register_blueprint(bp, url_prefix='/v2.1')
        app.register_blueprint(bp, url_prefix='/v2.1/<project_id>',
                               name=f'{bp.name}_with_project')
        # Nova's v2.0-compatible API: the same resources at 2.1, no microversions,
        # unknown body keys dropped instead of refused (kumo_api.validation).
        app.register_blueprint(bp, url_prefix='/v2', name=f'{bp.name}_v2')
        app.register_blueprint(bp, url_prefix='/v2/<project_id>',
                               name=f'{bp.name}_v2_with_project')

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
    # The request and g looked up once each: every use of Flask's proxies is a
    # context-variable lookup.
    req = request._get_current_object()
    state = g._get_current_object()
    state.want = microversion.MIN
    state.context = ctxt = kumo_context.RequestContext.from_environ(req.environ,
                                                                    overwrite=True)
    if req.routing_exception is not None:
        return  # answered as Nova's router answers it (_http_error): nothing to check
    path = req.path
    if path == '/v2.1' or path.startswith('/v2.1/'):  # the version document too
        try:
            state.want = microversion.from_headers(req.headers)
        except microversion.MalformedVersion as exc:
            raise errors.BadRequest(str(exc)) from exc
        except microversion.UnsupportedVersion as exc:
            raise errors.NotAcceptable(str(exc)) from exc
        state.microversioned = True
    elif path.startswith('/v2/'):
        # Nova's legacy v2.0-compatible API: version headers neither read nor answered.
        state.legacy_v2 = True
    url_project = getattr(state, 'url_project_id', None)
    if url_project is not None and url_project != ctxt.project_id:
        # Nova's check (wsgi.Resource): another project's id in the URL is a 400 for
        # everyone, admins included.
        raise errors.BadRequest(f"Malformed request URL: URL's project_id '{url_project}' "
                                "doesn't match Context's project_id "
                                f"'{ctxt.project_id}'")
    if req.method in ('POST', 'PUT', 'PATCH') and req.content_length:
        ctype = (req.mimetype or '').lower()
        if ctype and ctype not in _JSON_TYPES and ctype != 'text/plain':
            raise errors.UnsupportedMediaType('Unsupported Content-Type')


# The microversion headers of each version answered, built once.
_VERSION_HEADERS: dict[microversion.APIVersion, tuple] = {}


def _after_request(response):
    state = g._get_current_object()
    if getattr(state, 'microversioned', False):
        want = state.want
        items = _VERSION_HEADERS.get(want)
        if items is None:
            items = _VERSION_HEADERS[want] = tuple(
                microversion.response_headers(want).items())
        headers = response.headers
        for key, value in items:
            headers[key] = value
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
    if request.routing_exception is exc:
        return _no_route()
    return errors.fault_response(exc.code or 500, exc.description or exc.name)


def _no_route():
    """A request no route takes (an unknown path, a method the path does not have, a
    trailing slash): Nova's router matches paths and methods together and answers
    webob's plain 404, not a fault, in whichever of HTML, JSON or text the Accept
    header prefers; so does Kumo."""
    answer = webob.Request(request.environ).get_response(webob.exc.HTTPNotFound())
    return Response(answer.body, status=answer.status, headers=[
        (name, value) for name, value in answer.headerlist
        if name.lower() in ('content-type', 'content-length')])


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
