"""Brokers and databases of their own, for fault tests that stop and restart them.

Restarting the machine's RabbitMQ (`rabbitmqctl stop_app`) or PostgreSQL would break
every other test using them at the same time (make test runs two workers). So these
tests run their own: a RabbitMQ node with its own node name, ports, Mnesia directory
and Erlang cookie (`DedicatedRabbit`), and a PostgreSQL cluster made with initdb in a
temporary directory on a free port (`DedicatedPostgres`). Restarting them is the real
thing (`rabbitmqctl stop_app; start_app`, `pg_ctl stop; start`) and touches nothing
else. Both are fixtures (no testtools needed: benchmarks/faults.py uses them too) and
remove everything they made on cleanup.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import fixtures
import sqlalchemy as sa

from tests.fixtures import stack

RABBIT_BIN = '/usr/lib/rabbitmq/bin'
_CTL_TIMEOUT = 60


class InfraUnavailable(Exception):
    """What a dedicated server needs is missing (binaries, root)."""


# --- RabbitMQ --------------------------------------------------------------------------

def rabbit_unavailable() -> str | None:
    """Why a dedicated RabbitMQ node cannot be run here, or None."""
    for name in ('rabbitmq-server', 'rabbitmqctl'):
        if not os.access(os.path.join(RABBIT_BIN, name), os.X_OK):
            return f'{RABBIT_BIN}/{name} is not installed (Debian package rabbitmq-server)'
    if os.geteuid() != 0:
        return 'a RabbitMQ node of its own is started as root in these tests'
    return None


class DedicatedRabbit(fixtures.Fixture):
    """A RabbitMQ node for one test: `url` is its transport_url (vhost "/")."""

    def __init__(self):
        super().__init__()
        self.url: str | None = None
        self.node: str | None = None
        self.port: int | None = None
        self.dir: str | None = None
        self._proc: subprocess.Popen | None = None

    def _env(self) -> dict[str, str]:
        d = self.dir
        return {**os.environ,
                'HOME': d,   # the Erlang cookie of this node, for server and ctl alike
                'RABBITMQ_CONF_ENV_FILE': os.path.join(d, 'rabbitmq-env.conf'),
                'RABBITMQ_NODENAME': self.node,
                'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
                'RABBITMQ_NODE_PORT': str(self.port),
                'RABBITMQ_DIST_PORT': str(self._dist_port),
                'RABBITMQ_CONFIG_FILE': os.path.join(d, 'rabbitmq.conf'),
                'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(d, 'enabled_plugins'),
                'RABBITMQ_MNESIA_BASE': os.path.join(d, 'mnesia'),
                'RABBITMQ_LOG_BASE': os.path.join(d, 'log'),
                'RABBITMQ_PID_FILE': os.path.join(d, 'rabbit.pid'),
                'ERL_EPMD_ADDRESS': '127.0.0.1'}

    def _setUp(self) -> None:
        reason = rabbit_unavailable()
        if reason:
            raise InfraUnavailable(reason)
        self.dir = tempfile.mkdtemp(prefix='kumo_rabbit_')
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.node = f'kumo_test_{uuid.uuid4().hex[:8]}@localhost'
        self.port, self._dist_port = stack.free_port(), stack.free_port()
        files = {'rabbitmq-env.conf': '',
                 'rabbitmq.conf': f'listeners.tcp.local = 127.0.0.1:{self.port}\n',
                 'enabled_plugins': '[].\n'}
        for name, text in files.items():
            with open(os.path.join(self.dir, name), 'w') as f:
                f.write(text)
        cookie = os.path.join(self.dir, '.erlang.cookie')
        with open(cookie, 'w') as f:
            f.write(uuid.uuid4().hex.upper())
        os.chmod(cookie, 0o400)
        with open(os.path.join(self.dir, 'server.out'), 'wb') as out:
            self._proc = subprocess.Popen(
                [os.path.join(RABBIT_BIN, 'rabbitmq-server')], env=self._env(),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=stack._die_with_parent)
        self.addCleanup(self._shutdown)
        self.ctl('wait', os.path.join(self.dir, 'rabbit.pid'), '--timeout', '60')
        self.url = f'rabbit://guest:guest@127.0.0.1:{self.port}/'

    def ctl(self, *args: str) -> str:
        proc = subprocess.run([os.path.join(RABBIT_BIN, 'rabbitmqctl'), '-q', '-n',
                               self.node, *args], env=self._env(), capture_output=True,
                              text=True, timeout=_CTL_TIMEOUT, check=False)
        if proc.returncode != 0:
            raise InfraUnavailable(f'rabbitmqctl {" ".join(args)} failed '
                                   f'({proc.returncode}): {proc.stderr or proc.stdout}')
        return proc.stdout

    def stop_app(self) -> None:
        self.ctl('stop_app')

    def start_app(self) -> None:
        self.ctl('start_app')

    def _shutdown(self) -> None:
        try:
            self.ctl('shutdown')
        except (InfraUnavailable, subprocess.TimeoutExpired):
            pass
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._proc.wait(10)


# --- PostgreSQL ------------------------------------------------------------------------

def _pg_bindir() -> str | None:
    dirs = sorted(glob.glob('/usr/lib/postgresql/*/bin'),
                  key=lambda d: int(d.split('/')[-2]) if d.split('/')[-2].isdigit() else 0)
    return next((d for d in reversed(dirs)
                 if os.access(os.path.join(d, 'pg_ctl'), os.X_OK)), None)


def postgres_unavailable() -> str | None:
    """Why a dedicated PostgreSQL cluster cannot be run here, or None."""
    if _pg_bindir() is None:
        return 'no /usr/lib/postgresql/*/bin/pg_ctl (Debian package postgresql)'
    if os.geteuid() == 0:
        try:
            pwd.getpwnam('postgres')
        except KeyError:
            return 'running as root, and there is no postgres user to run initdb as'
        if shutil.which('runuser') is None:
            return 'runuser is missing (util-linux)'
    return None


class DedicatedPostgres(fixtures.Fixture):
    """A PostgreSQL cluster for one test with one database, synced to head.

    `url` is the database's SQLAlchemy URL; `stop()` and `start()` restart the server
    on the same port (`pg_ctl stop -m fast`: connections are cut, as in a crash).
    """

    def __init__(self, database: str = 'kumo'):
        super().__init__()
        self.database = database
        self.url: str | None = None
        self.port: int | None = None
        self.dir: str | None = None

    def _run(self, *argv: str, timeout: float = 120) -> str:
        if os.geteuid() == 0:
            argv = ('runuser', '-u', 'postgres', '--', *argv)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False, cwd=self.dir)
        if proc.returncode != 0:
            raise InfraUnavailable(f'{" ".join(argv)} failed ({proc.returncode}): '
                                   f'{proc.stderr or proc.stdout}')
        return proc.stdout

    def _setUp(self) -> None:
        reason = postgres_unavailable()
        if reason:
            raise InfraUnavailable(reason)
        self._bin = _pg_bindir()
        self.dir = tempfile.mkdtemp(prefix='kumo_pg_')
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        if os.geteuid() == 0:
            pg = pwd.getpwnam('postgres')
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)
        self._data = os.path.join(self.dir, 'data')
        self._run(os.path.join(self._bin, 'initdb'), '-D', self._data, '-A', 'trust',
                  '-U', 'postgres', '-E', 'UTF8', '--no-sync')
        self.port = stack.free_port()
        self.addCleanup(self._stop_quietly)
        self.start()
        admin = sa.create_engine(
            f'postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres',
            poolclass=sa.pool.NullPool, isolation_level='AUTOCOMMIT')
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{self.database}" ENCODING \'UTF8\' '
                                     f'TEMPLATE template0')
        finally:
            admin.dispose()
        self.url = f'postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{self.database}'
        from kumo_common.db import migration
        migration.db_sync(self.url)

    def start(self) -> None:
        options = (f'-p {self.port} -k {self._data} -c listen_addresses=127.0.0.1 '
                   f'-c fsync=off -c max_connections=200')
        self._run(os.path.join(self._bin, 'pg_ctl'), '-D', self._data, '-l',
                  os.path.join(self.dir, 'postgres.log'), '-w', '-t', '60', '-o', options,
                  'start')

    def stop(self, mode: str = 'fast') -> None:
        self._run(os.path.join(self._bin, 'pg_ctl'), '-D', self._data, '-w', '-t', '60',
                  '-m', mode, 'stop')

    def _stop_quietly(self) -> None:
        try:
            self.stop('immediate')
        except InfraUnavailable:
            pass  # not running


def wait_for(predicate, timeout: float, interval: float = 0.2, what: str = 'condition'):
    """Poll `predicate` until it returns a true value (returned); TimeoutError after."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f'{what} not reached within {timeout}s')
        time.sleep(interval)
