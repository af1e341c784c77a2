"""Paging of list calls as Nova does it: limit (capped by [api] max_limit), marker,
and a "next" link when a page came back full."""
from __future__ import annotations

import urllib.parse

from oslo_config import cfg

from kumo_api import errors
from kumo_api.views import links

CONF = cfg.CONF


def page_limit(args) -> int:
    """The page size asked for, clamped to [api] max_limit (400 if not an integer >= 0)."""
    raw = args.get('limit')
    max_limit = CONF.api.max_limit
    if raw is None:
        return max_limit
    try:
        limit = int(raw)
    except ValueError as exc:
        raise errors.BadRequest(f'Invalid input for query parameters limit. Value: {raw}. '
                                f"'{raw}' is not a 'integer'") from exc
    if limit < 0:
        raise errors.BadRequest(f'Invalid input for query parameters limit. Value: {raw}. '
                                f'{raw} is less than the minimum of 0')
    return min(limit, max_limit)


def after_marker(rows: list, marker: str | None, key, limit: int) -> list:
    """The page of `rows` after the item whose key(row) == marker (400 if unknown)."""
    if not marker:
        return rows[:limit]
    for index, row in enumerate(rows):
        if key(row) == marker:
            return rows[index + 1:index + 1 + limit]
    raise errors.BadRequest(f'marker [{marker}] not found')


def next_links(args, items: list, limit: int, path: str, marker_of,
               link_name: str) -> dict:
    """{"<link_name>": [{"rel": "next", "href": ...}]} when the page is full, else {}."""
    if not items or len(items) < limit:
        return {}
    params = {k: v for k, v in sorted(args.items())}
    params['marker'] = marker_of(items[-1])
    href = links.collection_url(path) + '?' + urllib.parse.urlencode(sorted(params.items()))
    return {link_name: [{'rel': 'next', 'href': href}]}
