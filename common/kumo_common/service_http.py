"""Calls to another OpenStack service's API (Glance, Neutron) as Nova makes them.

One keystoneauth1 session per option group ([glance], [neutron]: cafile, insecure,
timeout..., and an auth plugin when auth_type is set). Each call carries the
requesting user's token (X-Auth-Token: the given context's, else the current
thread's, i.e. the RPC request being handled); with a service auth plugin its token
goes along as X-Service-Token, and a call with no user token at all authenticates as
the service user, as does a call made `as_service` (what only a service may do, e.g.
binding a port to a host: Nova's admin client). No database here: compute agents use it too.
"""
from __future__ import annotations

import threading

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_context import context as oslo_context

from kumo_common.conf import keystoneauth as keystoneauth_conf

CONF = cfg.CONF

_RETRIABLE = [502, 503, 504]
_lock = threading.Lock()
_sessions: dict[str, object] = {}


class Unreachable(Exception):
    """No answer (connection refused, timeout, TLS failure...)."""


def session_for(group: str):
    with _lock:
        if group not in _sessions:
            # keystoneauth's options are registered on first use (see
            # kumo_common.conf.keystoneauth); registering them again is harmless.
            keystoneauth_conf.register_opts(CONF, group)
            auth = ks_loading.load_auth_from_conf_options(CONF, group)
            _sessions[group] = ks_loading.load_session_from_conf_options(CONF, group,
                                                                        auth=auth)
        return _sessions[group]


def reset(group: str | None = None) -> None:
    """Forget the sessions (tests change the options)."""
    with _lock:
        if group is None:
            _sessions.clear()
        else:
            _sessions.pop(group, None)


def _auth(ctxt, session, as_service: bool = False) -> tuple[dict, bool]:
    """(headers, whether the session's own auth plugin authenticates the call).
    `as_service`: the service user's own call (Nova's admin client), when the group
    has an auth plugin; without one, the user's as any other."""
    if as_service and session.auth is not None:
        return {}, True
    ctxt = ctxt if ctxt is not None else oslo_context.get_current()
    token = getattr(ctxt, 'auth_token', None)
    if token:
        headers = {'X-Auth-Token': token}
        if session.auth is not None:
            headers['X-Service-Token'] = session.get_token()
        return headers, False
    return {}, session.auth is not None


def request(group: str, ctxt, method: str, url: str, *, json=None, data=None,
            headers: dict | None = None, stream: bool = False, retries: int = 0,
            as_service: bool = False):
    """One call; the response whatever its status (raises Unreachable when none)."""
    session = session_for(group)
    auth_headers, authenticated = _auth(ctxt, session, as_service)
    try:
        return session.request(
            url, method, json=json, data=data, stream=stream,
            headers={**auth_headers, **(headers or {})}, authenticated=authenticated,
            raise_exc=False, connect_retries=retries, status_code_retries=retries,
            retriable_status_codes=_RETRIABLE,
            # Image data is not for the debug log.
            log=not (stream or data is not None))
    except ks_exc.ClientException as exc:
        raise Unreachable(f'{method} {url}: {exc}') from exc


def error_text(resp) -> str:
    """A service's error body (HTML or JSON) as one short plain line."""
    try:
        body = resp.text
    except Exception:  # noqa: BLE001 - a body we cannot decode says nothing useful
        return str(resp.status_code)
    lines = [line.strip() for line in body.replace('<br />', '\n').splitlines()]
    text = ' '.join(line for line in lines if line and not line.startswith('<'))
    return text[:300] or str(resp.status_code)
