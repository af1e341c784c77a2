"""Engine and sessions: one engine per process, built from [database] connection."""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import event, orm

CONF = cfg.CONF

_LOCK = threading.Lock()
_ENGINE: sa.Engine | None = None
_SESSIONMAKER: orm.sessionmaker | None = None
_READER_SESSIONMAKER: orm.sessionmaker | None = None
_STATEMENT_READER_ENGINE: sa.Engine | None = None

# A pooled connection that answered a statement less than this many seconds ago is
# taken to be alive; one idle for longer is pinged before it is handed out. A ping on
# every checkout (pool_pre_ping) costs a round trip per request; the servers that
# went away while a connection was busy are caught anyway: the statement fails (a
# 503 for the API) and SQLAlchemy drops every pooled connection older than that.
PING_IF_IDLE_FOR = 1.0


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, 'connect')
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        # WAL lets readers run beside the one writer; busy_timeout makes writers
        # queue instead of failing with "database is locked".
        cur.execute('PRAGMA journal_mode=WAL')
        cur.execute('PRAGMA synchronous=NORMAL')
        cur.execute('PRAGMA busy_timeout=30000')
        cur.execute('PRAGMA foreign_keys=ON')
        cur.close()

    @event.listens_for(engine, 'begin')
    def _on_begin(conn):
        # Writers BEGIN IMMEDIATE: they take the write lock at once, so conditional
        # updates (claims, state transitions) queue up rather than fail at commit.
        # Readers BEGIN DEFERRED and run beside them.
        if conn.get_execution_options().get('kumo_reader'):
            conn.exec_driver_sql('BEGIN')
        else:
            conn.exec_driver_sql('BEGIN IMMEDIATE')


def create_engine(url: str | None = None) -> sa.Engine:
    url = url or CONF.database.connection
    kwargs: dict = {'echo': CONF.database.connection_debug, 'future': True}
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == 'sqlite':
        kwargs['connect_args'] = {'check_same_thread': False, 'timeout': 30,
                                  'isolation_level': None}
    else:
        kwargs.update(pool_size=CONF.database.max_pool_size,
                      max_overflow=CONF.database.max_overflow,
                      pool_timeout=CONF.database.pool_timeout, pool_recycle=3600)
    if parsed.get_backend_name() == 'mysql':
        kwargs.setdefault('connect_args', {})['charset'] = 'utf8mb4'
    engine = sa.create_engine(url, **kwargs)
    if parsed.get_backend_name() == 'sqlite':
        _configure_sqlite(engine)
    else:
        _ping_when_idle(engine)
    if engine.dialect.driver == 'psycopg2':
        _configure_psycopg2(engine)
    return engine


def _configure_psycopg2(engine: sa.Engine) -> None:
    """statement_connection()'s autocommit, set as each use of a connection begins:
    on for statement reads, off for everything else. A pooled connection keeps the
    mode of its last use, so a run of shows switches nothing. (Switching it off costs
    a round trip: psycopg2 then restores the session's default isolation level with a
    SET. SQLAlchemy's isolation_level='AUTOCOMMIT' would pay that at every checkin.)
    psycopg2's ROLLBACK at checkin is a no-op in autocommit."""
    @event.listens_for(engine, 'begin')
    def _on_begin(conn):
        wanted = bool(conn.get_execution_options().get('kumo_autocommit'))
        dbapi_conn = conn.connection.dbapi_connection
        if dbapi_conn.autocommit != wanted:
            dbapi_conn.autocommit = wanted


def _ping_when_idle(engine: sa.Engine) -> None:
    """Ping a pooled connection at checkout if it sat idle for PING_IF_IDLE_FOR
    seconds or more (a dead one is replaced, as pool_pre_ping does)."""
    @event.listens_for(engine, 'checkin')
    def _on_checkin(_dbapi_conn, record):
        record.info['kumo_idle_since'] = time.monotonic()

    @event.listens_for(engine, 'checkout')
    def _on_checkout(dbapi_conn, record, _proxy):
        since = record.info.get('kumo_idle_since')
        if since is None or time.monotonic() - since < PING_IF_IDLE_FOR:
            return  # just connected, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_conn, None):
                # The pool replaces this connection (and every older one).
                raise sa.exc.DisconnectionError(str(exc)) from exc
            raise


def get_engine() -> sa.Engine:
    global _ENGINE, _SESSIONMAKER, _READER_SESSIONMAKER, _STATEMENT_READER_ENGINE
    with _LOCK:
        if _ENGINE is None:
            _ENGINE = create_engine()
            _SESSIONMAKER = orm.sessionmaker(bind=_ENGINE, expire_on_commit=False)
            reader_engine = _ENGINE.execution_options(kumo_reader=True)
            _READER_SESSIONMAKER = orm.sessionmaker(bind=reader_engine,
                                                    expire_on_commit=False)
            if _ENGINE.dialect.driver == 'psycopg2':
                reader_engine = _ENGINE.execution_options(kumo_reader=True,
                                                          kumo_autocommit=True)
            _STATEMENT_READER_ENGINE = reader_engine
        return _ENGINE


def dispose() -> None:
    """Forget the engine (tests switch databases; forked workers reconnect)."""
    global _ENGINE, _SESSIONMAKER, _READER_SESSIONMAKER, _STATEMENT_READER_ENGINE
    with _LOCK:
        if _ENGINE is not None:
            _ENGINE.dispose()
        _ENGINE = None
        _SESSIONMAKER = None
        _READER_SESSIONMAKER = None
        _STATEMENT_READER_ENGINE = None


@contextlib.contextmanager
def transaction() -> Iterator[orm.Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    get_engine()
    assert _SESSIONMAKER is not None
    with _SESSIONMAKER() as session, session.begin():
        yield session


@contextlib.contextmanager
def reader() -> Iterator[orm.Session]:
    """A session for reads only."""
    get_engine()
    assert _READER_SESSIONMAKER is not None
    with _READER_SESSIONMAKER() as session:
        yield session


@contextlib.contextmanager
def statement_connection() -> Iterator[sa.Connection]:
    """A Core connection for reads that need no transaction around them: on
    PostgreSQL each statement runs on its own (autocommit), which saves the BEGIN and
    ROLLBACK round trips around it (a server show is one statement, so one round
    trip); each statement sees what was committed when it started, as every statement
    of a READ COMMITTED transaction does. Elsewhere, a reader()'s transaction.

    Core rather than an ORM session: the session around a show's one statement cost
    a sixth of it. orm_session() gives one on this connection where needed."""
    get_engine()
    assert _STATEMENT_READER_ENGINE is not None
    with _STATEMENT_READER_ENGINE.connect() as conn:
        yield conn


@contextlib.contextmanager
def orm_session(bind: orm.Session | sa.Connection) -> Iterator[orm.Session]:
    """An ORM session reading through `bind`: the session itself, or a session on
    that connection (statement_connection())."""
    if isinstance(bind, orm.Session):
        yield bind
        return
    with orm.Session(bind=bind, expire_on_commit=False) as session:
        yield session


def connection_of(bind: orm.Session | sa.Connection) -> sa.Connection:
    """The Core connection of a session (or the connection itself)."""
    return bind.connection() if isinstance(bind, orm.Session) else bind
