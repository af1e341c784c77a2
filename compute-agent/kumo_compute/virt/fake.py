"""The fake driver: guests that live in memory, for scale tests and labs without
libvirt. It behaves like a hypervisor that always succeeds, quickly."""
from __future__ import annotations

import threading
import time

from oslo_config import cfg

from kumo_common import objects
from kumo_common.states import power
from kumo_compute.virt.driver import ComputeDriver, HostResources

CONF = cfg.CONF


class FakeDriver(ComputeDriver):
    def __init__(self, host: str):
        self.host = host
        self._guests: dict[str, int] = {}
        self._lock = threading.Lock()

    def host_resources(self) -> HostResources:
        return HostResources(vcpus=CONF.compute.fake_vcpus,
                             memory_mb=CONF.compute.fake_memory_mb,
                             local_gb=CONF.compute.fake_local_gb,
                             hypervisor_type='fake', hypervisor_version=1000,
                             hypervisor_hostname=self.host)

    def spawn(self, build: objects.InstanceBuild) -> None:
        if CONF.compute.fake_spawn_delay:
            time.sleep(CONF.compute.fake_spawn_delay)
        with self._lock:
            self._guests[build.uuid] = power.RUNNING

    def destroy(self, instance_uuid: str) -> None:
        with self._lock:
            self._guests.pop(instance_uuid, None)

    def power_state(self, instance_uuid: str) -> int:
        with self._lock:
            return self._guests.get(instance_uuid, power.NOSTATE)

    def list_instances(self) -> list[str]:
        with self._lock:
            return list(self._guests)

    def _set(self, instance_uuid: str, state: int) -> None:
        with self._lock:
            if instance_uuid not in self._guests:
                raise RuntimeError(f'Guest {instance_uuid} does not exist on {self.host}')
            self._guests[instance_uuid] = state

    def power_off(self, instance_uuid: str) -> None:
        self._set(instance_uuid, power.SHUTDOWN)

    def power_on(self, instance_uuid: str) -> None:
        self._set(instance_uuid, power.RUNNING)

    def reboot_soft(self, instance_uuid: str) -> None:
        self._set(instance_uuid, power.RUNNING)

    def reboot_hard(self, instance_uuid: str) -> None:
        self._set(instance_uuid, power.RUNNING)

    def pause(self, instance_uuid: str) -> None:
        self._set(instance_uuid, power.PAUSED)

    def unpause(self, instance_uuid: str) -> None:
        self._set(instance_uuid, power.RUNNING)

    def suspend(self, instance_uuid: str) -> None:
        self._set(instance_uuid, power.SUSPENDED)

    def resume(self, instance_uuid: str) -> None:
        self._set(instance_uuid, power.RUNNING)
