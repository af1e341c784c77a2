"""This node's identity and the reports it sends: registration and heartbeats."""
from __future__ import annotations

import os
import time
import uuid as uuidlib

import oslo_messaging as messaging
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import context, objects, service
from kumo_common.rpcapi import conductor as conductor_rpcapi
from kumo_compute.virt.driver import ComputeDriver

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def stable_node_uuid(state_dir: str) -> str:
    """The node's UUID, kept on disk so that renaming the host keeps the same node."""
    path = os.path.join(state_dir, 'compute_id')
    if os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    os.makedirs(state_dir, exist_ok=True)
    node_uuid = str(uuidlib.uuid4())
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(node_uuid + '\n')
    os.replace(tmp, path)
    return node_uuid


class NodeReporter:
    """Registers the node with the conductor and heartbeats every report_interval."""

    def __init__(self, host: str, host_ip: str, cell_name: str, node_uuid: str,
                 driver: ComputeDriver, conductor: conductor_rpcapi.ConductorAPI):
        self.host = host
        self.host_ip = host_ip
        self.cell_name = cell_name
        self.node_uuid = node_uuid
        self.driver = driver
        self.conductor = conductor
        self._task: service.PeriodicTask | None = None

    def report(self) -> objects.NodeReport:
        res = self.driver.host_resources()
        return objects.NodeReport(
            host=self.host, node_uuid=self.node_uuid,
            hypervisor_hostname=res.hypervisor_hostname,
            hypervisor_type=res.hypervisor_type,
            hypervisor_version=res.hypervisor_version, host_ip=self.host_ip,
            cell_name=self.cell_name, vcpus=res.vcpus, memory_mb=res.memory_mb,
            local_gb=res.local_gb, cpu_info=res.cpu_info,
            running_instances=self.driver.list_instances(),
            cpu_allocation_ratio=CONF.cpu_allocation_ratio,
            ram_allocation_ratio=CONF.ram_allocation_ratio,
            disk_allocation_ratio=CONF.disk_allocation_ratio,
            reserved_host_cpus=CONF.reserved_host_cpus,
            reserved_host_memory_mb=CONF.reserved_host_memory_mb,
            reserved_host_disk_mb=CONF.reserved_host_disk_mb)

    def register(self, timeout: float = 300) -> None:
        """Register with the conductor, waiting for it to come up if need be."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.conductor.register_node(context.get_admin_context(), self.report())
                LOG.info('Registered node %s of host %s', self.node_uuid, self.host)
                return
            except messaging.MessagingTimeout:
                if time.monotonic() > deadline:
                    raise
                LOG.warning('Conductor did not answer the registration of %s; retrying',
                            self.host)

    def start_heartbeat(self) -> None:
        def beat():
            self.conductor.report_node(context.get_admin_context(), self.report())
        self._task = service.PeriodicTask(CONF.report_interval, beat,
                                          f'heartbeat-{self.host}')
        self._task.start()

    def stop(self) -> None:
        if self._task:
            self._task.stop()
