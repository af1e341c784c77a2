"""kumo-conductor: run the conductor as its own process."""
import sys

from oslo_config import cfg

from kumo_common import context, rpc, service
from kumo_conductor.manager import ConductorManager
from kumo_conductor.reaper import Reaper

CONF = cfg.CONF


def start() -> service.RPCService:
    """Start the conductor's RPC server in this process (also used by kumo-all)."""
    manager = ConductorManager()
    server = service.RPCService(CONF.conductor.topic, manager)
    server.start()
    service.start_heartbeat(CONF.host, 'kumo-conductor', CONF.conductor.topic)
    reaper = Reaper(manager)
    service.PeriodicTask(CONF.conductor.reaper_interval,
                         lambda: reaper.run_once(context.get_admin_context()),
                         'deadline-reaper').start()
    if CONF.reclaim_instance_interval > 0:
        service.PeriodicTask(
            min(60, CONF.reclaim_instance_interval),
            lambda: manager.reclaim_soft_deleted(context.get_admin_context()),
            'reclaim-soft-deleted').start()
    return server


def main(argv=None) -> None:
    service.prepare(sys.argv[1:] if argv is None else argv, 'kumo-conductor')
    rpc.init()
    server = start()
    service.wait_for_signal()
    server.stop()
