"""Schema migrations: create or upgrade Kumo's database with Alembic.

``kumo-manage db sync`` calls :func:`db_sync`; tests call it on fresh databases and
:func:`compare_models_to_migrations` to prove the models and the migrations agree.
The Alembic scripts live in ``migrations/`` next to this module (found from
``__file__``, so editable and regular installs alike).
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from oslo_config import cfg

import kumo_common.conf  # noqa: F401  (registers [database])
from kumo_common.db import models

CONF = cfg.CONF

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'migrations')
ALEMBIC_INI = os.path.join(MIGRATIONS_DIR, 'alembic.ini')


def context_options(dialect_name: str) -> dict:
    """Options of Alembic's migration context, shared by env.py and the comparison."""
    return {
        'target_metadata': models.Base.metadata,
        'compare_type': True,
        # SQLite cannot ALTER most things: autogenerate batch (copy-and-move) ops.
        'render_as_batch': dialect_name == 'sqlite',
    }


def _ensure_sqlite_dir(url: sa.URL) -> None:
    database = url.database
    if url.get_backend_name() != 'sqlite' or not database or database == ':memory:' \
            or database.startswith('file:'):
        return
    directory = os.path.dirname(os.path.abspath(database))
    os.makedirs(directory, exist_ok=True)


def create_engine(url: str | sa.URL) -> sa.Engine:
    """An engine for schema work: no pool, utf8mb4 on MariaDB, the SQLite dir made."""
    parsed = sa.make_url(url)
    _ensure_sqlite_dir(parsed)
    kwargs: dict = {'poolclass': sa.pool.NullPool}
    if parsed.get_backend_name() in ('mysql', 'mariadb'):
        kwargs['connect_args'] = {'charset': 'utf8mb4'}
    return sa.create_engine(parsed, **kwargs)


def _url(url: str | None) -> str:
    url = url or CONF.database.connection
    if not url:
        raise ValueError('No database URL: set [database] connection')
    return url


def alembic_config() -> Config:
    """The Alembic config, with script_location the installed migrations directory."""
    config = Config(ALEMBIC_INI)
    config.set_main_option('script_location', MIGRATIONS_DIR)
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def db_sync(url: str | None = None, revision: str = 'head') -> None:
    """Create or upgrade the schema to `revision` (default: the newest).

    `url` defaults to [database] connection. Running it on an up-to-date database
    does nothing.
    """
    engine = create_engine(_url(url))
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes['connection'] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def db_version(url: str | None = None) -> str | None:
    """The revision the database is at, or None if it was never synced."""
    engine = create_engine(_url(url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def compare_models_to_migrations(url: str) -> list:
    """Alembic autogenerate's differences between the models and the database at `url`.

    Empty when the migrations (applied to that database) produce exactly the models'
    schema. Each item is what ``alembic.autogenerate.compare_metadata`` returns, e.g.
    ``('add_table', Table)`` or a list of ``('modify_type', ...)`` tuples.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            opts = context_options(connection.dialect.name)
            context = MigrationContext.configure(connection, opts=opts)
            return compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()
