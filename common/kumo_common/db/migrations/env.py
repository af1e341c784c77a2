"""Alembic environment of Kumo's database.

The database comes, in this order, from:

* ``config.attributes['connection']``: an open SQLAlchemy Connection (what
  ``kumo_common.db.migration`` passes; the caller owns its transaction);
* ``-x url=...`` on alembic's command line;
* ``sqlalchemy.url`` of the Alembic config (``kumo_common.db.migration`` sets it when
  only a URL is at hand).
"""
from logging.config import fileConfig

from alembic import context

from kumo_common.db import migration

config = context.config

# Configure logging only from alembic's own command line: inside a service or
# kumo-manage, oslo.log owns logging.
if config.cmd_opts is not None and config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get('url') or \
        config.get_main_option('sqlalchemy.url')
    if not url:
        raise RuntimeError('No database given: pass a connection in '
                           "config.attributes['connection'], -x url=..., or "
                           'sqlalchemy.url')
    return url


def run_migrations_offline() -> None:
    """Emit the SQL to stdout (alembic upgrade --sql) instead of running it."""
    url = _url()
    dialect = url.split(':', 1)[0].split('+', 1)[0]
    context.configure(url=url, literal_binds=True,
                      dialect_opts={'paramstyle': 'named'},
                      **migration.context_options(dialect))
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection) -> None:
    context.configure(connection=connection,
                      **migration.context_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get('connection')
    if connection is not None:
        _run_with(connection)
        return
    engine = migration.create_engine(_url())
    try:
        with engine.begin() as conn:
            _run_with(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
