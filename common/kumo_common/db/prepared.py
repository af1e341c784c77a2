"""Hot read statements that PostgreSQL plans once per connection.

PostgreSQL plans every statement it receives as text. For a server show (one
instance and what hangs off it, a UNION ALL of seven branches) planning takes 0.4 ms
and running it 0.1 ms; for a page of 1,000 servers, whose uuids a text statement
spells out one by one in every branch, planning takes longer than the 0.6 ms budget
of a whole show. psycopg2 has no prepared statements of its own, so a `Statement` is
PREPAREd once on each connection (its parameters typed, a list becoming an array
compared with `= ANY`) and then EXECUTEd by name; PostgreSQL reuses the plan.

Other backends and drivers run the same statement with ordinary bind parameters (a
list in an expanding IN).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common.db.session import connection_of

# Connection info key: the names of the statements PREPAREd on that connection (a
# connection that is replaced starts with an empty info).
_INFO_KEY = 'kumo_prepared'


class Param:
    """A statement parameter, as the statement's builder uses it."""

    def __init__(self, expression, listed: bool):
        self._expression = expression
        self._listed = listed

    def equals(self, column):
        return column == self._expression

    def contains(self, column):
        """`column` is one of the values of this (list) parameter."""
        if isinstance(self._expression, sa.BindParameter):
            return column.in_(self._expression)
        return column == sa.any_(self._expression)


class Statement:
    """A SELECT built by `build(**params)` from its Params: `params` maps each
    parameter's name to its PostgreSQL type ('varchar', or 'varchar[]' for a list)."""

    def __init__(self, name: str, params: dict[str, str],
                 build: Callable[..., sa.Select]):
        self.name = name
        self.params = params
        self._build = build
        self._lock = threading.Lock()
        self._portable: sa.Select | None = None
        self._prepare_sql: str | None = None
        self._execute_sql = f"EXECUTE {name}({', '.join(f'%({p})s' for p in params)})"

    def portable(self) -> sa.Select:
        """The statement with bind parameters (lists in expanding IN)."""
        if self._portable is None:
            with self._lock:
                self._portable = self._build(**{
                    p: Param(sa.bindparam(p, expanding=t.endswith('[]')), t.endswith('[]'))
                    for p, t in self.params.items()})
        return self._portable

    def _prepare(self, dialect) -> str:
        if self._prepare_sql is None:
            with self._lock:
                statement = self._build(**{
                    p: Param(sa.literal_column(f'${n}'), t.endswith('[]'))
                    for n, (p, t) in enumerate(self.params.items(), 1)})
                sql = str(statement.compile(dialect=dialect,
                                            compile_kwargs={'literal_binds': True}))
                self._prepare_sql = (f"PREPARE {self.name}({', '.join(self.params.values())})"
                                     f' AS {sql}')
        return self._prepare_sql

    def rows(self, bind: orm.Session | sa.Connection, **values) -> Sequence:
        """The result rows (tuples) for these parameter values, read through a
        session or a Core connection."""
        conn = connection_of(bind)
        if conn.dialect.driver != 'psycopg2':
            return conn.execute(self.portable(), values).all()
        if not conn.in_transaction():
            conn.begin()  # as SQLAlchemy's own execute would: its 'begin' hooks run
        fairy = conn.connection
        prepared = fairy.info.get(_INFO_KEY)
        if prepared is None:
            prepared = fairy.info[_INFO_KEY] = set()
        if self.name not in prepared:
            conn.exec_driver_sql(self._prepare(conn.dialect))
            prepared.add(self.name)
        # Straight on psycopg2's cursor: it has read every row when execute returns,
        # and its tuples are what the rows are (no type needs converting: JSON
        # columns are read as text); SQLAlchemy's result object, built for each
        # statement, cost a tenth of a server show.
        try:
            with fairy.dbapi_connection.cursor() as cursor:
                cursor.execute(self._execute_sql, values)
                return cursor.fetchall()
        except conn.dialect.loaded_dbapi.Error:
            # Whatever went wrong, the statement again the SQLAlchemy way: it
            # raises SQLAlchemy's error for it (a lost connection is replaced and
            # answered 503 by the API) or, if the prepared statement itself was the
            # trouble, reads the rows without it.
            return conn.execute(self.portable(), values).all()
