"""kumo-compute: run one compute agent as its own process."""
from __future__ import annotations

import os
import sys

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import context, rpc, service
from kumo_common.rpcapi import compute as compute_rpcapi
from kumo_common.rpcapi import conductor as conductor_rpcapi
from kumo_compute import node, virt
from kumo_compute.manager import ComputeManager
from kumo_compute.power_sync import PowerSync

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class ComputeAgent:
    """One compute agent: its driver, RPC server and reporter. kumo-all runs several."""

    def __init__(self, host: str, host_ip: str, cell_name: str, state_dir: str):
        self.host = host
        conductor = conductor_rpcapi.ConductorAPI()
        node_uuid = node.stable_node_uuid(state_dir)
        self.driver = virt.load_driver(CONF.compute.virt_driver, host, node_uuid)
        self.manager = ComputeManager(host, self.driver, conductor)
        self.rpc_server = service.RPCService(compute_rpcapi.TOPIC, self.manager, server=host)
        self.reporter = node.NodeReporter(host, host_ip, cell_name, node_uuid, self.driver,
                                          conductor)
        self.power_sync = PowerSync(host, self.driver, conductor, self.manager.instance_lock)

    def start(self) -> None:
        self.rpc_server.start()
        self.reporter.register()
        # Guests of servers evacuated away while this host was down go first, so the
        # power sync never sees them (kumo_conductor.evacuating).
        try:
            self.manager.destroy_evacuated(context.get_admin_context())
        except Exception:  # e.g. an older conductor: the agent runs all the same
            LOG.exception('Could not clean up after servers evacuated from %s', self.host)
        self.reporter.start_heartbeat()
        # After registering: the start-up sync is the restart reconciliation.
        self.power_sync.start()

    def stop(self) -> None:
        self.power_sync.stop()
        self.reporter.stop()
        self.rpc_server.stop()
        self.driver.cleanup_host()


def main(argv=None) -> None:
    service.prepare(sys.argv[1:] if argv is None else argv, 'kumo-compute')
    rpc.init()
    agent = ComputeAgent(CONF.host, CONF.my_ip, CONF.cell_name,
                         os.path.join(CONF.state_path, 'compute'))
    agent.start()
    service.wait_for_signal()
    agent.stop()
