"""kumo-scheduler: run the filter scheduler as its own process."""
import sys

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import rpc, service
from kumo_scheduler.manager import SchedulerManager

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def build() -> service.RPCService:
    """The scheduler's RPC server with its heartbeat, not yet started."""
    server = service.RPCService(CONF.scheduler.topic, SchedulerManager())
    server.add_periodic(CONF.report_interval,
                        service.record_up(CONF.host, 'kumo-scheduler', CONF.scheduler.topic),
                        'scheduler-heartbeat')
    return server


def start() -> service.RPCService:
    """Start the scheduler in this process (also used by kumo-all); stop() ends it."""
    server = build()
    server.start()
    return server


def main(argv=None) -> None:
    service.prepare(sys.argv[1:] if argv is None else argv, 'kumo-scheduler')
    rpc.init()
    server = start()
    service.wait_for_signal()
    server.stop()
