"""What every Neutron list call shares: attribute filters (a repeated attribute is an
OR), sort_key/sort_dir, limit/marker paging with a `<collection>_links` next link,
and `fields` selection.

Filters and sort keys are explicit per collection and run in SQL (keyset paging, no
OFFSET); a filter on an attribute the collection does not know is a 400, as Neutron
answers with its filter-validation extension.
"""
from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import jsonify, request
from oslo_config import cfg

from kumo_api.network_service import errors
from kumo_common.db import keyset

CONF = cfg.CONF

_CONTROL = ('fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse')


def to_bool(value: str) -> bool:
    lowered = str(value).strip().lower()
    if lowered in ('true', '1', 'yes', 'on'):
        return True
    if lowered in ('false', '0', 'no', 'off'):
        return False
    raise ValueError(value)


def to_int(value: str) -> int:
    return int(value)


@dataclasses.dataclass
class Filter:
    """A filterable attribute: the clause for its values (OR'ed), after converting
    each query-string value."""
    clause: Callable[[list], Any]
    convert: Callable[[str], Any] = str

    @classmethod
    def column(cls, column, convert: Callable[[str], Any] = str) -> Filter:
        return cls(lambda values: column.in_(values) if len(values) > 1
                   else column == values[0], convert)


@dataclasses.dataclass
class Collection:
    """A Neutron collection: its name ("networks"), id column, filters, sort keys."""
    name: str
    id_column: Any
    filters: dict[str, Filter]
    sort_keys: dict[str, keyset.SortKey]


def respond(session, collection: Collection, query: sa.Select, view: Callable[[Any], dict]):
    """The list response for `query` (visibility already applied) under the request's
    filters, sorting, paging and fields."""
    args = request.args
    query = query.where(*_filter_clauses(collection, args))
    keys = _sort_keys(collection, args)
    marker = args.get('marker')
    if marker:
        after = keyset.after(session, query, keys, collection.id_column, marker)
        if after is None:
            raise errors.BadRequest(f'Marker {marker} could not be found.')
        query = after
    limit = _limit(args)
    rows = list(session.scalars(keyset.order(query, keys).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    fields = args.getlist('fields')
    body: dict = {collection.name: [select_fields(view(r), fields) for r in rows]}
    if more and rows:
        params = [(k, v) for k, v in args.items(multi=True) if k != 'marker']
        if 'limit' not in args:
            params.append(('limit', str(limit)))
        params.append(('marker', _row_id(rows[-1], collection)))
        body[f'{collection.name}_links'] = [{
            'rel': 'next',
            'href': f'{request.base_url}?{urllib.parse.urlencode(params)}'}]
    return jsonify(body)


def select_fields(item: dict, fields: list[str]) -> dict:
    """Only the `fields` asked for (all when none is)."""
    if not fields:
        return item
    return {k: v for k, v in item.items() if k in fields}


def _row_id(row, collection: Collection) -> str:
    return getattr(row, collection.id_column.key)


def _limit(args) -> int:
    cap = CONF.network_service.pagination_max_limit
    raw = args.get('limit')
    if raw is None or raw == '':
        return cap
    try:
        limit = int(raw)
    except ValueError as exc:
        raise errors.BadRequest(f"Bad limit request: Limit must be an integer 0 or "
                                f"greater and not '{raw}'.") from exc
    if limit < 0:
        raise errors.BadRequest(f"Bad limit request: Limit must be an integer 0 or "
                                f"greater and not '{raw}'.")
    # 0 means "no limit" to Neutron; the page size is still capped.
    return min(limit, cap) if limit else cap


def _filter_clauses(collection: Collection, args) -> list:
    clauses = []
    for name in args:
        if name in _CONTROL:
            continue
        spec = collection.filters.get(name)
        if spec is None:
            raise errors.BadRequest(f'[{name}] is invalid attribute for filtering')
        try:
            values = [spec.convert(v) for v in args.getlist(name)]
        except ValueError as exc:
            raise errors.BadRequest(f"Invalid input for {name}. Reason: "
                                    f"'{args.get(name)}' is not a valid value.") from exc
        clauses.append(spec.clause(values))
    return clauses


def _sort_keys(collection: Collection, args) -> list[tuple[keyset.SortKey, str]]:
    names = args.getlist('sort_key')
    dirs = args.getlist('sort_dir')
    if len(names) != len(dirs) and dirs:
        raise errors.BadRequest('The number of sort_keys and sort_dirs must be same')
    dirs = dirs or ['asc'] * len(names)
    keys = []
    for name, direction in zip(names, dirs, strict=True):
        if name not in collection.sort_keys:
            raise errors.BadRequest(f'{name} is an invalid attribute for sort_key')
        if direction not in ('asc', 'desc'):
            raise errors.BadRequest(f"{direction} is an invalid value for sort_dir, valid "
                                    f"value is 'asc' and 'desc'")
        if name != 'id':
            keys.append((collection.sort_keys[name], direction))
    keys.append((keyset.SortKey(collection.id_column), dirs[-1] if dirs else 'asc'))
    return keys
