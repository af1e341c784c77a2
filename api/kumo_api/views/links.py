"""Links as Nova builds them: self under /v2.1 (under /v2 for a request through the
legacy v2.0-compatible API), bookmark without the version."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import g, request
from oslo_config import cfg
from werkzeug.sansio.utils import get_current_url

CONF = cfg.CONF


def base_url() -> str:
    """The scheme://host[:port] clients reach us at (or [api] compute_link_prefix)."""
    prefix = CONF.api.compute_link_prefix
    if prefix:
        return prefix.rstrip('/')
    return _host_url(request.scheme, request.host)


@functools.lru_cache(maxsize=256)
def _host_url(scheme: str, host: str) -> str:
    # request.host_url, without working it out again for every request (IRI
    # conversion and quoting cost a tenth of a server show).
    return get_current_url(scheme, host).rstrip('/')


def api_root() -> str:
    """The API the request came through: '/v2.1', or '/v2' (Nova's v2.0-compatible
    API, kumo_api.app)."""
    return '/v2' if getattr(g, 'legacy_v2', False) else '/v2.1'


def _project_part() -> str:
    # Nova puts the project id in links only when the request URL had it.
    project = getattr(g, 'url_project_id', None)
    return f'/{project}' if project else ''


@dataclass(frozen=True)
class Prefixes:
    """This request's link prefixes, worked out once by views that make many links
    (a page of 1,000 servers makes 3,000 of them)."""
    versioned: str
    bookmark: str


def prefixes() -> Prefixes:
    base, project = base_url(), _project_part()
    return Prefixes(f'{base}{api_root()}{project}', f'{base}{project}')


def resource_links(collection: str, item_id: str, at: Prefixes | None = None) -> list[dict]:
    at = at or prefixes()
    return [
        {'href': f'{at.versioned}/{collection}/{item_id}', 'rel': 'self'},
        {'href': f'{at.bookmark}/{collection}/{item_id}', 'rel': 'bookmark'},
    ]


def bookmark(collection: str, item_id: str, at: Prefixes | None = None) -> list[dict]:
    return [{'href': f'{(at or prefixes()).bookmark}/{collection}/{item_id}',
             'rel': 'bookmark'}]


def collection_url(path: str) -> str:
    return f'{base_url()}{api_root()}{_project_part()}/{path}'
