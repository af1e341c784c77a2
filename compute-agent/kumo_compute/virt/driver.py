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

    # --- lifecycle (kumo_common.lifecycle names these as each action's driver_call) ---
    @abc.abstractmethod
    def power_off(self, instance_uuid: str) -> None:
        """Shut the guest down (it keeps its disks)."""

    @abc.abstractmethod
    def power_on(self, instance_uuid: str) -> None:
        """Start a shut-down guest."""

    @abc.abstractmethod
    def reboot_soft(self, instance_uuid: str) -> None:
        """Ask the guest to reboot."""

    @abc.abstractmethod
    def reboot_hard(self, instance_uuid: str) -> None:
        """Reset the guest, whatever its state."""

    @abc.abstractmethod
    def pause(self, instance_uuid: str) -> None:
        """Freeze the guest's vCPUs in memory."""

    @abc.abstractmethod
    def unpause(self, instance_uuid: str) -> None:
        """Let a paused guest run again."""

    @abc.abstractmethod
    def suspend(self, instance_uuid: str) -> None:
        """Save the guest's memory to disk and stop it."""

    @abc.abstractmethod
    def resume(self, instance_uuid: str) -> None:
        """Restore a suspended guest."""
