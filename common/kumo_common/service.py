"""Process setup shared by every Kumo command: config, logging, RPC server lifecycle."""
from __future__ import annotations

import signal
import threading
import warnings

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import conf as _conf  # noqa: F401  (registers option groups)
from kumo_common import rpc
from kumo_common.rpcapi import health as health_rpcapi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_LOGGING_READY = False

# Quiet libraries that are chatty at INFO, so a request's path reads clearly.
_DEFAULT_LOG_LEVELS = ['amqp=WARN', 'amqplib=WARN', 'oslo.messaging=INFO',
                       'oslo_messaging=INFO', 'sqlalchemy=WARN', 'kombu=WARN',
                       'stevedore=WARN', 'werkzeug=WARN', 'waitress=WARN',
                       'keystonemiddleware=WARN', 'urllib3=WARN',
                       'oslo_policy=WARN', 'routes=WARN']


def prepare(argv: list[str] | None, prog: str, default_config_files=None) -> None:
    """Parse the command line and config files, then set up logging."""
    global _LOGGING_READY
    # eventlet is only imported (never used) by oslo.service through oslo.messaging.
    warnings.filterwarnings('ignore', message='.*Eventlet.*')
    if not _LOGGING_READY:
        logging.register_options(CONF)
        logging.set_defaults(default_log_levels=_DEFAULT_LOG_LEVELS)
        _LOGGING_READY = True
    CONF(argv, project='kumo', prog=prog, default_config_files=default_config_files)
    logging.setup(CONF, 'kumo')


class RPCService:
    """An RPC server for one endpoint object on one topic (and optionally one server),
    with the periodic tasks that belong to it: started and stopped together."""

    def __init__(self, topic: str, endpoint, server: str | None = None):
        self.topic = topic
        self.endpoint = endpoint
        target = messaging.Target(topic=topic, server=server or CONF.host)
        # Every RPC server also answers the health echo (kumo_common.rpcapi.health).
        self.server = rpc.get_server(
            target, [endpoint, health_rpcapi.HealthEndpoint(topic, target.server)])
        self.tasks: list[PeriodicTask] = []

    def add_periodic(self, interval: float, func, name: str) -> None:
        self.tasks.append(PeriodicTask(interval, func, name))

    def start(self) -> None:
        self.server.start()
        for periodic in self.tasks:
            periodic.start()
        LOG.info('Listening on topic %s', self.topic)

    def stop(self) -> None:
        for periodic in self.tasks:
            periodic.stop()
        self.server.stop()
        self.server.wait()
        for periodic in self.tasks:
            periodic.join(5)


class PeriodicTask(threading.Thread):
    """Run a function every `interval` seconds until stopped; errors are logged."""

    def __init__(self, interval: float, func, name: str):
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.func = func
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.func()
            except Exception:  # a failed tick must not end the task
                LOG.exception('Periodic task %s failed', self.name)

    def stop(self) -> None:
        self._stop_event.set()


def wait_for_signal() -> None:
    """Block until SIGTERM or SIGINT."""
    stop = threading.Event()

    def _handler(signum, _frame):
        LOG.info('Caught signal %s, stopping', signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    while not stop.wait(1):
        pass


def record_up(host: str, binary: str, topic: str):
    """A function that records a DB-backed service (API, conductor, scheduler) as up;
    called once now and then periodically. Compute agents have no database; they
    heartbeat through the conductor instead."""
    from kumo_common.db import compute_nodes as node_db
    from kumo_common.db import session

    def beat():
        with session.transaction() as s:
            node_db.record_service_up(s, host, binary, topic)

    try:
        beat()
    except Exception:
        LOG.exception('Could not record %s on %s as up', binary, host)
    return beat


def start_heartbeat(host: str, binary: str, topic: str) -> PeriodicTask:
    """Heartbeat of a service that has no RPC server of its own (kumo-api)."""
    task = PeriodicTask(CONF.report_interval, record_up(host, binary, topic),
                        f'{binary}-heartbeat')
    task.start()
    return task
