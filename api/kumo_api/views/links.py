"""Links as Nova builds them: self under /v2.1, bookmark without the version."""
from __future__ import annotations

from flask import g, request
from oslo_config import cfg

CONF = cfg.CONF


def base_url() -> str:
    """The scheme://host[:port] clients reach us at (or [api] compute_link_prefix)."""
    prefix = CONF.api.compute_link_prefix
    return (prefix or request.host_url).rstrip('/')


def _project_part() -> str:
    # Nova puts the project id in links only when the request URL had it.
    project = getattr(g, 'url_project_id', None)
    return f'/{project}' if project else ''


def resource_links(collection: str, item_id: str) -> list[dict]:
    base = base_url()
    project = _project_part()
    return [
        {'href': f'{base}/v2.1{project}/{collection}/{item_id}', 'rel': 'self'},
        {'href': f'{base}{project}/{collection}/{item_id}', 'rel': 'bookmark'},
    ]


def bookmark(collection: str, item_id: str) -> list[dict]:
    return [{'href': f'{base_url()}{_project_part()}/{collection}/{item_id}',
             'rel': 'bookmark'}]


def collection_url(path: str) -> str:
    return f'{base_url()}/v2.1{_project_part()}/{path}'
