"""The interface every virt driver implements."""
from __future__ import annotations

import abc
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from oslo_log import log as logging

from kumo_common import objects
from kumo_common.states import task

LOG = logging.getLogger(__name__)


@dataclass
class HostResources:
    vcpus: int
    memory_mb: int
    local_gb: int
    hypervisor_type: str
    hypervisor_version: int
    hypervisor_hostname: str
    cpu_info: str = '{}'


class ResizeError(Exception):
    """A resize the driver refuses before it touches the guest (Nova's ResizeError,
    which its drivers raise wrapped in InstanceFaultRollback: the server stays as it
    was, with its old flavor)."""

    def __init__(self, reason: str):
        super().__init__(f'Resize error: {reason}')


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

    def power_states(self, instance_uuids: list[str] | None = None
                     ) -> dict[str, int | None]:
        """{uuid: power state} of this node's guests (only `instance_uuids`, those of
        them that exist, when given); None for a guest between two states."""
        uuids = self.list_instances() if instance_uuids is None else instance_uuids
        existing = set(self.list_instances())
        return {u: self.power_state(u) for u in uuids if u in existing}

    def claims(self, instance_uuid: str) -> bool:
        """Whether the guest is certainly this agent's (not merely named like one)."""
        return instance_uuid in self.list_instances()

    def register_event_listener(self, callback) -> None:
        """Have `callback(instance_uuid)` called when a guest's power state may have
        changed (drivers without events rely on the periodic sync)."""
        return None

    def cleanup_host(self) -> None:
        """Release the hypervisor connection when the agent stops."""
        return None

    # --- lifecycle (kumo_common.lifecycle names these as each action's driver_call) ---
    @abc.abstractmethod
    def power_off(self, instance_uuid: str, timeout: float | None = None) -> None:
        """Shut the guest down (it keeps its disks): cleanly if it does so within
        `timeout` seconds ([DEFAULT] shutdown_timeout if None), else forcibly; at
        once with 0 (Nova's clean_shutdown=False)."""

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

    # --- the heavier actions (issue 7): they take objects.ActionParams ---------------
    def set_admin_password(self, instance_uuid: str, params: objects.ActionParams) -> None:
        """Set the guest's administrator password (params.admin_password)."""
        raise NotImplementedError('set_admin_password is not implemented by this driver '
                                  'or guest instance.')

    def snapshot(self, instance_uuid: str, params: objects.ActionParams
                 ) -> objects.ActionResult:
        """Write the guest's root disk as a standalone image to params.snapshot_path."""
        raise NotImplementedError('snapshot is not implemented by this driver')

    def backup(self, instance_uuid: str, params: objects.ActionParams
               ) -> objects.ActionResult:
        """A backup is a snapshot (the rotation is the conductor's)."""
        return self.snapshot(instance_uuid, params)

    def rebuild(self, instance_uuid: str, params: objects.ActionParams) -> None:
        """Recreate the guest from params.build (its new image) and start it."""
        raise NotImplementedError('rebuild is not implemented by this driver')

    def rescue(self, instance_uuid: str, params: objects.ActionParams) -> None:
        """Boot the guest from params.build.image with its own root disk attached second."""
        raise NotImplementedError('rescue is not implemented by this driver')

    def get_console_output(self, instance_uuid: str, length: int | None = None) -> str:
        """The guest's console log, its last `length` lines if given."""
        raise NotImplementedError

    def get_serial_console(self, instance_uuid: str) -> tuple[str, int]:
        """(host, port) the guest's serial console listens on; ConsoleTypeUnavailable
        when the guest has none."""
        raise NotImplementedError

    def get_vnc_console(self, instance_uuid: str) -> tuple[str, int]:
        """(host, port) of the guest's VNC server; ConsoleTypeUnavailable when none."""
        raise NotImplementedError

    def get_host_uptime(self) -> str:
        """What `uptime` says of the hypervisor host (Nova's drivers but libvirt's
        cannot tell: NotImplementedError, a 501)."""
        raise NotImplementedError

    def get_instance_diagnostics(self, instance_uuid: str) -> objects.InstanceDiagnostics:
        """What the hypervisor tells of the running guest: its vCPUs, memory, disks and
        NICs with their counters (NotImplementedError where a driver cannot: a 501)."""
        raise NotImplementedError

    def trigger_crash_dump(self, instance_uuid: str) -> None:
        """Inject a non-maskable interrupt into the running guest (Nova's crash dump;
        what its kernel does then is its own configuration's business). A guest not
        running: exceptions.InstanceNotRunning."""
        raise NotImplementedError('trigger_crash_dump is not implemented by this driver')

    def attach_interface(self, instance_uuid: str, port: objects.PortSpec) -> None:
        """Plug a NIC with the port's MAC into the guest: live if it runs, and in its
        definition for its next boot (the NIC a build would give it)."""
        raise NotImplementedError('attach_interface is not implemented by this driver')

    def detach_interface(self, instance_uuid: str, port: objects.PortSpec) -> None:
        """Unplug the port's NIC (the one with its MAC) from the guest, live and from
        its definition; no error if it has none."""
        raise NotImplementedError('detach_interface is not implemented by this driver')

    def unrescue(self, instance_uuid: str) -> None:
        """Boot the guest from its own disks again."""
        raise NotImplementedError('unrescue is not implemented by this driver')

    # --- shelve (issue 7) -------------------------------------------------------------
    def shelve(self, instance_uuid: str, params: objects.ActionParams,
               progress: Callable[[str], None] | None = None) -> objects.ActionResult:
        """Power the guest off, write its root disk to params.snapshot_path (the
        shelve image) and, with params.offload, remove it from the host. `progress`
        is told each step's task_state, as Nova's shelve shows them."""
        progress = progress or (lambda step: None)
        self.power_off(instance_uuid)
        progress(task.SHELVING_IMAGE_PENDING_UPLOAD)
        progress(task.SHELVING_IMAGE_UPLOADING)
        result = self.snapshot(instance_uuid, params)
        if params.offload:
            progress(task.SHELVING_OFFLOADING)
            self.shelve_offload(instance_uuid)
            result.offloaded = True
        return result

    def shelve_offload(self, instance_uuid: str) -> None:
        """The shelved guest leaves the host: its domain and every file of it."""
        self.destroy(instance_uuid)

    def unshelve(self, instance_uuid: str, params: objects.ActionParams) -> None:
        """A shelved guest (still here) is powered on; an offloaded one is spawned
        from params.build (its shelve image), and nothing of it stays if that fails."""
        if params.build is None:
            self.power_on(instance_uuid)
            return
        try:
            self.spawn(params.build)
        except Exception:
            try:
                self.destroy(instance_uuid)
            except Exception:  # the spawn's own error is the one to report
                LOG.exception('Cleaning up the failed unshelve of %s failed', instance_uuid)
            raise

    def evacuate(self, instance_uuid: str, params: objects.ActionParams) -> None:
        """The guest of a server whose host is down, built here from params.build (its
        image: no storage is shared, as Nova's rebuild on another host), and left off
        when params.start is False; nothing of it stays if that fails. A copy found
        here already (an earlier attempt) is replaced."""
        if params.build is None:
            raise RuntimeError(f'Evacuation of {instance_uuid} needs the server to build')
        if instance_uuid in self.list_instances():
            self.destroy(instance_uuid)
        try:
            self.spawn(params.build)
            if not params.start:
                # At once, as Nova's (its stop after the rebuild is not a clean one):
                # the guest has only begun to boot and may not answer ACPI yet.
                self.power_off(instance_uuid, timeout=0)
        except Exception:
            try:
                self.destroy(instance_uuid)
            except Exception:  # the spawn's own error is the one to report
                LOG.exception('Cleaning up the failed evacuation of %s failed',
                              instance_uuid)
            raise

    def cleanup_evacuated(self, instance_uuid: str) -> bool:
        """This host is back and the server was evacuated away meanwhile: whatever of
        it is left here goes (never what belongs to another host). True when there
        was something. Drivers that keep files of a guest without its guest (a
        libvirt host whose domains died with it) remove those too."""
        if instance_uuid not in self.list_instances():
            return False
        self.destroy(instance_uuid)
        return True

    # --- resize (compute RPC 1.5; steps named as the agent's, Nova's driver names) ----
    def check_resize(self, step: objects.MigrationStep) -> None:
        """Source, before migrate_disk_and_power_off: refuse (ResizeError) what this
        driver cannot do. A disk is grown, never shrunk: as Nova's libvirt driver, a
        new flavor with a smaller root or ephemeral disk is refused. (A conductor older
        than MigrationStep 1.1 sends no flavors: nothing to compare.)"""
        old, new = step.old_flavor, step.new_flavor
        if old is None or new is None:
            return
        if new.root_gb < old.root_gb or new.ephemeral_gb < old.ephemeral_gb:
            raise ResizeError('Unable to resize disk down.')

    def migrate_disk_and_power_off(self, instance_uuid: str,
                                   step: objects.MigrationStep) -> str | None:
        """Source: power the guest off and put its files aside for the destination;
        returns where (the destination reads them from there). On failure nothing
        is left moved: the guest is as it was."""
        raise NotImplementedError('resize is not implemented by this driver')

    def finish_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        """Destination: the guest from the files put aside, with step.build's flavor
        (root disk grown to it), started if step.start."""
        raise NotImplementedError('resize is not implemented by this driver')

    def confirm_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        """Source: drop the files put aside (the guest lives on at the destination)."""
        raise NotImplementedError('resize is not implemented by this driver')

    def destroy_migrated(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        """Destination (revert): the new guest and its files go; what the source put
        aside is left alone."""
        raise NotImplementedError('resize is not implemented by this driver')

    def finish_revert_migration(self, instance_uuid: str,
                                step: objects.MigrationStep) -> None:
        """Source (revert): the old guest back from the files put aside, with its old
        flavor and disks, started if step.start."""
        raise NotImplementedError('resize is not implemented by this driver')

    # --- live migration (compute RPC 1.13; Nova's driver names) -------------------------
    # The guest keeps running throughout; Kumo's hosts share no storage, so its disks
    # are copied with it.
    def pre_live_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        """Destination: be ready to receive the running guest that step.build
        describes (its disks' places, its config drive, its NICs' ports bound here).
        On failure nothing of it is left here."""
        raise NotImplementedError('live migration is not implemented by this driver')

    def live_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        """Source: move the running (or paused) guest to step.dest_host's hypervisor,
        and return once it runs there, its files gone from here (a clean-up that
        fails then is only logged: the guest is there). On failure, or when
        live_migration_abort stops it (LiveMigrationAborted), the guest still runs
        here as it did."""
        raise NotImplementedError('live migration is not implemented by this driver')

    def post_live_migration_at_destination(self, instance_uuid: str,
                                           step: objects.MigrationStep) -> None:
        """Destination: the guest that arrived is this host's now (defined here for
        good, as a build would leave it)."""
        raise NotImplementedError('live migration is not implemented by this driver')

    def rollback_live_migration_at_destination(self, instance_uuid: str,
                                               step: objects.MigrationStep) -> None:
        """Destination: what pre_live_migration made goes (the guest stayed at the
        source); no error when there is nothing."""
        raise NotImplementedError('live migration is not implemented by this driver')

    def live_migration_abort(self, instance_uuid: str) -> None:
        """Source: stop the guest's live migration in progress, if any; the
        live_migration call then raises LiveMigrationAborted."""
        raise NotImplementedError('aborting a live migration is not implemented by this '
                                  'driver')

    def live_migration_force_complete(self, instance_uuid: str) -> None:
        """Source: have the guest's live migration in progress finish now (Nova's
        libvirt driver pauses the guest so its memory stops changing; it runs again
        at the destination)."""
        raise NotImplementedError('forcing a live migration to complete is not '
                                  'implemented by this driver')

    def live_migration_progress(self, instance_uuid: str
                                ) -> objects.LiveMigrationProgress | None:
        """Source: how far the guest's live migration in progress has got (bytes of
        memory and disk, total, copied and left, as the hypervisor counts them);
        None when no copy runs, or this driver cannot tell. Called from another
        thread while live_migration runs."""
        return None


class LiveMigrationAborted(Exception):
    """live_migration_abort stopped the live migration: the guest stays where it was."""

    def __init__(self, instance_uuid: str):
        super().__init__(f'Live migration of {instance_uuid} was aborted')


def image_result(image_id: str, path: str, disk_format: str,
                 virtual_size: int | None = None) -> objects.ActionResult:
    """An ActionResult describing the image file just written at `path`."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha512 = hashlib.sha512()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            md5.update(chunk)
            sha512.update(chunk)
    return objects.ActionResult(image_id=image_id, size=os.path.getsize(path),
                                checksum=md5.hexdigest(), os_hash_value=sha512.hexdigest(),
                                virtual_size=virtual_size, disk_format=disk_format)
