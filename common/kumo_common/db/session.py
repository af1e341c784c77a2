"""Engine and sessions: one engine per process, built from [database] connection."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import event, orm

CONF = cfg.CONF

_LOCK = threading.Lock()
_ENGINE: sa.Engine | None = None
_SESSIONMAKER: orm.sessionmaker | None = None
_READER_SESSIONMAKER: orm.sessionmaker | None = None


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
                      pool_timeout=CONF.database.pool_timeout,
                      pool_pre_ping=True, pool_recycle=3600)
    if parsed.get_backend_name() == 'mysql':
        kwargs.setdefault('connect_args', {})['charset'] = 'utf8mb4'
    engine = sa.create_engine(url, **kwargs)
    if parsed.get_backend_name() == 'sqlite':
        _configure_sqlite(engine)
    return engine


def get_engine() -> sa.Engine:
    global _ENGINE, _SESSIONMAKER, _READER_SESSIONMAKER
    with _LOCK:
        if _ENGINE is None:
            _ENGINE = create_engine()
            _SESSIONMAKER = orm.sessionmaker(bind=_ENGINE, expire_on_commit=False)
            _READER_SESSIONMAKER = orm.sessionmaker(
                bind=_ENGINE.execution_options(kumo_reader=True), expire_on_commit=False)
        return _ENGINE


def dispose() -> None:
    """Forget the engine (tests switch databases; forked workers reconnect)."""
    global _ENGINE, _SESSIONMAKER, _READER_SESSIONMAKER
    with _LOCK:
        if _ENGINE is not None:
            _ENGINE.dispose()
        _ENGINE = None
        _SESSIONMAKER = None
        _READER_SESSIONMAKER = None


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
