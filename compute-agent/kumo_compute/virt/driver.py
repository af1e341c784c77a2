"""The interface every virt driver implements."""
from __future__ import annotations

import abc
from dataclasses import dataclass

from kumo_common import objects


@dataclass
class HostResources:
    vcpus: int
    memory_mb: int
    local_gb: int
    hypervisor_type: str
    hypervisor_version: int
    hypervisor_hostname: str
    cpu_info: str = '{}'


class ComputeDriver(abc.ABC):
    """A hypervisor as the compute agent sees it. Operations are idempotent."""

    @abc.abstractmethod
    def host_resources(self) -> HostResources:
        """Capacity of the node."""

    @abc.abstractmethod
    def spawn(self, build: objects.InstanceBuild) -> None:
        """Create and start the guest; return once it runs."""

    @abc.abstractmethod
    def destroy(self, instance_uuid: str) -> None:
        """Stop the guest and remove everything of it; no error if it is gone."""

    @abc.abstractmethod
    def power_state(self, instance_uuid: str) -> int:
        """The guest's power state (kumo_common.states.power); NOSTATE if unknown."""

    @abc.abstractmethod
    def list_instances(self) -> list[str]:
        """UUIDs of the guests the hypervisor has."""
