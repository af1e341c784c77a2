"""kumo-conductor: run the conductor as its own process."""
import sys

from oslo_config import cfg

from kumo_common import context, rpc, service
from kumo_conductor.manager import ConductorManager
from kumo_conductor.prober import AgentProber
from kumo_conductor.reaper import Reaper

CONF = cfg.CONF
# Seconds between sweeps of expired console tokens: Nova's instance_delete_interval
# default, which paces the same sweep there. A token outliving its expiry is refused
# anyway (console_tokens.validate); the sweep only keeps the table small.
CLEAN_CONSOLE_TOKENS_EVERY = 300


def build() -> service.RPCService:
    """The conductor's RPC server with its periodic tasks, not yet started."""
    manager = ConductorManager()
    server = service.RPCService(CONF.conductor.topic, manager)
    server.add_periodic(CONF.report_interval,
                        service.record_up(CONF.host, 'kumo-conductor', CONF.conductor.topic),
                        'conductor-heartbeat')
    reaper = Reaper(manager)
    server.add_periodic(CONF.conductor.reaper_interval,
                        lambda: reaper.run_once(context.get_admin_context()),
                        'deadline-reaper')
    if CONF.conductor.agent_probe_interval > 0:
        prober = AgentProber()
        server.add_periodic(CONF.conductor.agent_probe_interval,
                            lambda: prober.run_once(context.get_admin_context()),
                            'agent-prober')
    server.add_periodic(CLEAN_CONSOLE_TOKENS_EVERY,
                        lambda: manager.clean_expired_console_tokens(
                            context.get_admin_context()),
                        'clean-expired-console-tokens')
    if CONF.reclaim_instance_interval > 0:
        server.add_periodic(min(60, CONF.reclaim_instance_interval),
                            lambda: manager.reclaim_soft_deleted(
                                context.get_admin_context()),
                            'reclaim-soft-deleted')
    if CONF.shelved_poll_interval > 0 and CONF.shelved_offload_time > 0:
        server.add_periodic(CONF.shelved_poll_interval,
                            lambda: manager.offload_shelved(context.get_admin_context()),
                            'offload-shelved')
    if CONF.resize_confirm_window > 0:
        server.add_periodic(min(60, CONF.resize_confirm_window),
                            lambda: manager.confirm_resizes(context.get_admin_context()),
                            'confirm-resizes')
    return server


def start() -> service.RPCService:
    """Start the conductor in this process (also used by kumo-all); stop() ends it."""
    server = build()
    server.start()
    return server


def main(argv=None) -> None:
    service.prepare(sys.argv[1:] if argv is None else argv, 'kumo-conductor')
    rpc.init()
    server = start()
    service.wait_for_signal()
    server.stop()
