"""The compute agent's RPC endpoint: build and destroy guests, report results."""
from __future__ import annotations

import threading
from collections import defaultdict

import oslo_messaging as messaging
from oslo_log import log as logging

from kumo_common import lifecycle, objects
from kumo_common.rpcapi import conductor as conductor_rpcapi
from kumo_compute.virt.driver import ComputeDriver

LOG = logging.getLogger(__name__)


class ComputeManager:
    """Answers kumo_common.rpcapi.compute.ComputeAPI for one host."""

    target = messaging.Target(version='1.1')

    def __init__(self, host: str, driver: ComputeDriver,
                 conductor: conductor_rpcapi.ConductorAPI):
        self.host = host
        self.driver = driver
        self.conductor = conductor
        # One operation at a time per instance: a delete that arrives during a build
        # waits for it, then destroys what was built.
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()
        self._terminated: set[str] = set()

    def _lock(self, uuid: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks[uuid]

    def build_and_run_instance(self, ctxt, build: objects.InstanceBuild) -> None:
        with self._lock(build.uuid):
            if build.uuid in self._terminated:
                LOG.info('Instance %s was deleted before its build started', build.uuid)
                return
            LOG.info('Spawning instance %s (%s)', build.uuid, build.name)
            try:
                self.driver.spawn(build)
            except Exception as exc:
                LOG.exception('Spawn of %s failed', build.uuid)
                self.driver.destroy(build.uuid)
                result = objects.BuildResult(instance_uuid=build.uuid, host=self.host,
                                             success=False, error=str(exc))
            else:
                result = objects.BuildResult(instance_uuid=build.uuid, host=self.host,
                                             success=True,
                                             power_state=self.driver.power_state(build.uuid))
        self.conductor.build_finished(ctxt, result)

    def terminate_instance(self, ctxt, instance_uuid: str) -> None:
        with self._lock(instance_uuid):
            LOG.info('Destroying instance %s', instance_uuid)
            self._terminated.add(instance_uuid)
            self.driver.destroy(instance_uuid)
        self.conductor.instance_destroyed(ctxt, instance_uuid, self.host)

    def perform_action(self, ctxt, instance_uuid: str, action: str) -> None:
        """Run one lifecycle action on the guest and report the outcome."""
        spec = lifecycle.get(action)
        with self._lock(instance_uuid):
            LOG.info('Running %s on instance %s', action, instance_uuid)
            try:
                getattr(self.driver, spec.driver_call)(instance_uuid)
                error = None
            except Exception as exc:
                LOG.exception('%s of %s failed', action, instance_uuid)
                error = str(exc)
            power_state = self.driver.power_state(instance_uuid)
        self.conductor.action_finished(ctxt, instance_uuid, self.host, action,
                                       error is None, power_state, error)
