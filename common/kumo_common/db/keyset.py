"""Keyset paging: ordering a query by several keys and taking the rows after a marker.

The page after a marker is found with a WHERE clause on the sort keys (never an
OFFSET, never by reading every row), so a list call costs the same on page 1 and on
page 1000. The primary key is always the last sort key, so the order is total.
Nullable keys are compared through COALESCE with a default that sorts where SQL
backends disagree (NULL first or last), so all three backends page alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class SortKey:
    """One sort key: the column, and the value standing in for NULL (None: NOT NULL)."""
    column: Any
    null_as: Any = None

    def expression(self):
        if self.null_as is None:
            return self.column
        return sa.func.coalesce(self.column, self.null_as)


def order(query: sa.Select, keys: list[tuple[SortKey, str]]) -> sa.Select:
    """`query` ordered by (key, 'asc'|'desc') pairs, in that order."""
    return query.order_by(*[k.expression().desc() if d == 'desc' else k.expression().asc()
                            for k, d in keys])


def after(session, query: sa.Select, keys: list[tuple[SortKey, str]], id_column,
          marker: str) -> sa.Select | None:
    """`query` restricted to the rows after the row whose id is `marker`.

    None when no row has that id (the caller answers 400 or 404, as its API does).
    `keys` must end with the id column.
    """
    values = session.execute(sa.select(*[k.expression() for k, _d in keys])
                             .where(id_column == marker)).first()
    if values is None:
        return None
    return beyond(query, keys, values)


def beyond(query: sa.Select, keys: list[tuple[SortKey, str]], values) -> sa.Select:
    """`query` restricted to the rows after the row whose sort key values are
    `values` (for a caller that read them already)."""
    alternatives = []
    for index, (key, direction) in enumerate(keys):
        equal = [k.expression() == values[i] for i, (k, _d) in enumerate(keys[:index])]
        expr = key.expression()
        past = expr < values[index] if direction == 'desc' else expr > values[index]
        alternatives.append(sa.and_(*equal, past))
    # Implied by the alternatives, and spelled out for the database: a bound on the
    # first key alone lets an index in the keys' order start at the marker rather
    # than read (and discard) every row before it.
    first, direction = keys[0]
    bound = (first.expression() <= values[0] if direction == 'desc'
             else first.expression() >= values[0])
    return query.where(bound, sa.or_(*alternatives))
