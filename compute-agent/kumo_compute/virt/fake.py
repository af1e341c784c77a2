"""The fake driver: guests that live in memory, for scale tests and labs without
libvirt. It behaves like a hypervisor that always succeeds, quickly."""
from __future__ import annotations

import os
import tempfile
import threading
import time
import weakref

from oslo_config import cfg

from kumo_common import exceptions, objects
from kumo_common.states import power
from kumo_compute.virt import block_device
from kumo_compute.virt.driver import (
    ComputeDriver,
    HostResources,
    LiveMigrationAborted,
    image_result,
)

CONF = cfg.CONF
# This process's fake hypervisors by host, for a live migration between them.
_DRIVERS: weakref.WeakValueDictionary[str, FakeDriver] = weakref.WeakValueDictionary()


class FakeDriver(ComputeDriver):
    def __init__(self, host: str):
        self.host = host
        self._guests: dict[str, int] = {}
        self._lock = threading.Lock()
        # What the heavier actions did, for tests to look at: {uuid: password},
        # {uuid: image id the guest was last rebuilt from}, {uuid: rescue image id}.
        self.passwords: dict[str, str | None] = {}
        self.rebuilt_from: dict[str, str | None] = {}
        self.rescued: dict[str, str | None] = {}
        # The local disks each guest got ({uuid: [LocalDisk]}), laid out as the
        # libvirt driver lays them out (root, ephemeral..., swap, with device names).
        self.disks: dict[str, list[block_device.LocalDisk]] = {}
        # {uuid: image id} of guests spawned again by an unshelve.
        self.unshelved_from: dict[str, str | None] = {}
        # The flavor each guest runs with ({uuid: FlavorSpec}), and what a resize put
        # aside on this (source) host: {uuid: (flavor, power state)}.
        self.flavors: dict[str, objects.FlavorSpec] = {}
        self.resize_aside: dict[str, tuple[objects.FlavorSpec | None, int]] = {}
        # Each guest's NICs (its ports) and whether it has a config drive, for its
        # diagnostics.
        self.ports: dict[str, list[objects.PortSpec]] = {}
        self.config_drives: dict[str, bool] = {}
        # A test sets this to a message: the next interface attach fails with it (the
        # hot-plug failure whose rollback it checks).
        self.fail_next_attach: str | None = None
        # {uuid: NMIs injected} by trigger_crash_dump.
        self.crash_dumps: dict[str, int] = {}
        # Live migration: guests a pre_live_migration made ready for here
        # ({uuid: the build}), and the migrations this (source) host runs: {uuid:
        # (event that ends the copy early, 'abort' or 'complete' once set)}. A test
        # sets fail_next_live_migration to a message: the next copy fails with it.
        self.incoming: dict[str, objects.InstanceBuild | None] = {}
        self.outgoing: dict[str, tuple[threading.Event, list[str]]] = {}
        # When each of those copies began (time.monotonic()), for its progress.
        self.copy_began: dict[str, float] = {}
        self.fail_next_live_migration: str | None = None
        self.forced_complete: set[str] = set()
        _DRIVERS[host] = self

    def host_resources(self) -> HostResources:
        return HostResources(vcpus=CONF.compute.fake_vcpus,
                             memory_mb=CONF.compute.fake_memory_mb,
                             local_gb=CONF.compute.fake_local_gb,
                             hypervisor_type='fake', hypervisor_version=1000,
                             hypervisor_hostname=self.host)

    def spawn(self, build: objects.InstanceBuild) -> None:
        if CONF.compute.fake_spawn_delay:
            time.sleep(CONF.compute.fake_spawn_delay)
        disks = block_device.local_disks(
            build, (build.image.properties or {}).get('hw_disk_bus', 'virtio')
            if build.image else 'virtio')
        with self._lock:
            self._guests[build.uuid] = power.RUNNING
            self.disks[build.uuid] = disks
            self.flavors[build.uuid] = build.flavor
            self.ports[build.uuid] = list(build.ports)
            self.config_drives[build.uuid] = bool(build.config_drive)

    def destroy(self, instance_uuid: str) -> None:
        with self._lock:
            self._guests.pop(instance_uuid, None)
            self.disks.pop(instance_uuid, None)
            self.flavors.pop(instance_uuid, None)
            self.resize_aside.pop(instance_uuid, None)
            self.ports.pop(instance_uuid, None)
            self.config_drives.pop(instance_uuid, None)
            self.incoming.pop(instance_uuid, None)

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

    def power_off(self, instance_uuid: str, timeout: float | None = None) -> None:
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

    def set_admin_password(self, instance_uuid: str, params: objects.ActionParams) -> None:
        self._require(instance_uuid)
        with self._lock:
            self.passwords[instance_uuid] = params.admin_password

    def snapshot(self, instance_uuid: str, params: objects.ActionParams
                 ) -> objects.ActionResult:
        """A small file standing for the disk, so the image has real bytes and sums."""
        self._require(instance_uuid)
        path = params.snapshot_path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f'.{params.snapshot_id}.',
                                   dir=os.path.dirname(path))
        with os.fdopen(fd, 'wb') as f:
            f.write(f'fake disk of {instance_uuid} on {self.host}\n'.encode())
        os.replace(tmp, path)
        return image_result(params.snapshot_id, path, 'raw', os.path.getsize(path))

    def rebuild(self, instance_uuid: str, params: objects.ActionParams) -> None:
        if CONF.compute.fake_spawn_delay:
            time.sleep(CONF.compute.fake_spawn_delay)
        self._require(instance_uuid)
        build = params.build
        with self._lock:
            self.rebuilt_from[instance_uuid] = build.image.id if build and build.image \
                else None
            self._guests[instance_uuid] = power.RUNNING if params.start else power.SHUTDOWN

    def rescue(self, instance_uuid: str, params: objects.ActionParams) -> None:
        self._require(instance_uuid)
        with self._lock:
            self.rescued[instance_uuid] = params.build.image.id if params.build and \
                params.build.image else None
            self._guests[instance_uuid] = power.RUNNING

    def unrescue(self, instance_uuid: str) -> None:
        self._require(instance_uuid)
        with self._lock:
            self.rescued.pop(instance_uuid, None)
            self._guests[instance_uuid] = power.RUNNING

    def unshelve(self, instance_uuid: str, params: objects.ActionParams) -> None:
        super().unshelve(instance_uuid, params)
        if params.build is not None:
            with self._lock:
                self.unshelved_from[instance_uuid] = params.build.image.id \
                    if params.build.image else None

    # --- resize ------------------------------------------------------------------------
    def migrate_disk_and_power_off(self, instance_uuid: str,
                                   step: objects.MigrationStep) -> str | None:
        with self._lock:
            if instance_uuid in self.resize_aside and (
                    instance_uuid not in self._guests or step.dest_host == self.host):
                return f'fake://{self.host}/{instance_uuid}_resize'   # done already
            if instance_uuid not in self._guests:
                raise RuntimeError(f'Guest {instance_uuid} does not exist on {self.host}')
            self.resize_aside[instance_uuid] = (self.flavors.get(instance_uuid),
                                                power.SHUTDOWN)
            if step.dest_host != self.host:
                # The guest leaves this host (its files wait, put aside).
                self._guests.pop(instance_uuid)
            else:
                self._guests[instance_uuid] = power.SHUTDOWN
        return f'fake://{self.host}/{instance_uuid}_resize'

    def finish_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        if CONF.compute.fake_spawn_delay:
            time.sleep(CONF.compute.fake_spawn_delay)
        with self._lock:
            self._guests[instance_uuid] = power.RUNNING if step.start else power.SHUTDOWN
            if step.build is not None:
                self.flavors[instance_uuid] = step.build.flavor

    def confirm_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        with self._lock:
            self.resize_aside.pop(instance_uuid, None)

    def destroy_migrated(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        with self._lock:
            if step.source_host != self.host:
                self._guests.pop(instance_uuid, None)
                self.flavors.pop(instance_uuid, None)
                self.disks.pop(instance_uuid, None)

    def finish_revert_migration(self, instance_uuid: str,
                                step: objects.MigrationStep) -> None:
        with self._lock:
            aside = self.resize_aside.pop(instance_uuid, None)
            if aside is None and instance_uuid not in self._guests:
                raise RuntimeError(f'Nothing of {instance_uuid} was put aside on '
                                   f'{self.host}')
            flavor = step.build.flavor if step.build is not None else \
                (aside[0] if aside else None)
            if flavor is not None:
                self.flavors[instance_uuid] = flavor
            self._guests[instance_uuid] = power.RUNNING if step.start else power.SHUTDOWN

    # --- live migration: the guest moves between FakeDrivers of one process ------------
    # (the fake hypervisors of a process's agents, by host: the source hands the
    # guest to the destination's, as a hypervisor's memory copy would).
    def pre_live_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        with self._lock:
            self.incoming[instance_uuid] = step.build

    def live_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        with self._lock:
            if instance_uuid not in self._guests:
                raise RuntimeError(f'Guest {instance_uuid} does not exist on {self.host}')
            failure, self.fail_next_live_migration = self.fail_next_live_migration, None
            ended, how = self.outgoing.setdefault(instance_uuid, (threading.Event(), []))
            self.copy_began.setdefault(instance_uuid, time.monotonic())
        try:
            if failure:
                raise RuntimeError(failure)
            ended.wait(CONF.compute.fake_live_migration_delay)
            if 'abort' in how:
                raise LiveMigrationAborted(instance_uuid)
            dest = _DRIVERS.get(step.dest_host)
            with self._lock:
                state = self._guests[instance_uuid]
                if 'complete' in how:
                    self.forced_complete.add(instance_uuid)
            if dest is not None:
                dest.receive(instance_uuid, state, self.flavors.get(instance_uuid))
            with self._lock:
                for table in (self._guests, self.flavors, self.disks, self.ports,
                              self.config_drives):
                    table.pop(instance_uuid, None)
        finally:
            with self._lock:
                self.outgoing.pop(instance_uuid, None)
                self.copy_began.pop(instance_uuid, None)

    def receive(self, instance_uuid: str, state: int | None, flavor=None) -> None:
        """The guest arrives here, in the power state it had at the source."""
        with self._lock:
            build = self.incoming.pop(instance_uuid, None)
            self._guests[instance_uuid] = power.RUNNING if state is None else state
            flavor = build.flavor if build is not None else flavor
            if flavor is not None:
                self.flavors[instance_uuid] = flavor
            if build is not None:
                self.ports[instance_uuid] = list(build.ports)
                self.config_drives[instance_uuid] = build.config_drive

    def post_live_migration_at_destination(self, instance_uuid: str,
                                           step: objects.MigrationStep) -> None:
        if instance_uuid not in self._guests:
            if instance_uuid not in self.incoming:
                raise RuntimeError(f'Guest {instance_uuid} did not arrive on {self.host}')
            # The source's fake hypervisor is in another process: the guest is
            # taken to run here, as most do.
            self.receive(instance_uuid, None)

    def rollback_live_migration_at_destination(self, instance_uuid: str,
                                               step: objects.MigrationStep) -> None:
        with self._lock:
            self.incoming.pop(instance_uuid, None)

    def live_migration_abort(self, instance_uuid: str) -> None:
        self._end_copy(instance_uuid, 'abort')

    def live_migration_force_complete(self, instance_uuid: str) -> None:
        self._end_copy(instance_uuid, 'complete')

    def live_migration_progress(self, instance_uuid: str
                                ) -> objects.LiveMigrationProgress | None:
        """Made-up counts that move as a copy would: the guest's memory (its flavor's)
        and root disk as the totals, copied in proportion to the time the copy has
        taken of [compute] fake_live_migration_delay."""
        with self._lock:
            began = self.copy_began.get(instance_uuid)
            flavor = self.flavors.get(instance_uuid)
        if began is None:
            return None
        delay = CONF.compute.fake_live_migration_delay
        done = min(1.0, (time.monotonic() - began) / delay) if delay > 0 else 1.0
        memory = (flavor.memory_mb if flavor else 512) * 1024 ** 2
        disk = (flavor.root_gb if flavor else 1) * 1024 ** 3
        memory_done, disk_done = int(memory * done), int(disk * done)
        return objects.LiveMigrationProgress(
            memory_total=memory, memory_processed=memory_done,
            memory_remaining=memory - memory_done, disk_total=disk,
            disk_processed=disk_done, disk_remaining=disk - disk_done)

    def _end_copy(self, instance_uuid: str, how: str) -> None:
        with self._lock:
            if instance_uuid not in self.outgoing:
                raise RuntimeError(f'No live migration of {instance_uuid} runs on '
                                   f'{self.host}')
            ended, hows = self.outgoing[instance_uuid]
            hows.append(how)
            ended.set()

    def attach_interface(self, instance_uuid: str, port: objects.PortSpec) -> None:
        with self._lock:
            if instance_uuid not in self._guests:
                raise RuntimeError(f'Guest {instance_uuid} does not exist on {self.host}')
            error, self.fail_next_attach = self.fail_next_attach, None
            if error:
                raise RuntimeError(error)
            nics = self.ports.setdefault(instance_uuid, [])
            if all(p.mac_address != port.mac_address for p in nics):
                nics.append(port)

    def detach_interface(self, instance_uuid: str, port: objects.PortSpec) -> None:
        with self._lock:
            if instance_uuid not in self._guests:
                raise RuntimeError(f'Guest {instance_uuid} does not exist on {self.host}')
            self.ports[instance_uuid] = [p for p in self.ports.get(instance_uuid, [])
                                         if p.mac_address != port.mac_address]

    def trigger_crash_dump(self, instance_uuid: str) -> None:
        # As libvirt: an NMI reaches a guest whose domain is active (running or
        # paused); any other is not running.
        with self._lock:
            if instance_uuid not in self._guests:
                raise RuntimeError(f'Guest {instance_uuid} does not exist on {self.host}')
            if self._guests[instance_uuid] not in (power.RUNNING, power.PAUSED):
                raise exceptions.InstanceNotRunning(instance_id=instance_uuid)
            self.crash_dumps[instance_uuid] = self.crash_dumps.get(instance_uuid, 0) + 1

    def _require(self, instance_uuid: str) -> None:
        with self._lock:
            if instance_uuid not in self._guests:
                raise RuntimeError(f'Guest {instance_uuid} does not exist on {self.host}')

    def get_console_output(self, instance_uuid: str, length: int | None = None) -> str:
        with self._lock:
            if instance_uuid not in self._guests:
                raise RuntimeError(f'Guest {instance_uuid} does not exist on {self.host}')
        lines = ['FAKE CONSOLE OUTPUT\n', 'ANOTHER\n', 'LAST LINE']
        if length is not None:
            lines = lines[-length:] if length > 0 else []
        return ''.join(lines)

    # Consoles: fixed answers (Nova's fake driver's), nothing listens there.
    def get_serial_console(self, instance_uuid: str) -> tuple[str, int]:
        self._require(instance_uuid)
        return '127.0.0.1', 6999

    def get_vnc_console(self, instance_uuid: str) -> tuple[str, int]:
        self._require(instance_uuid)
        return 'fakevncconsole.com', 6969

    def get_instance_diagnostics(self, instance_uuid: str) -> objects.InstanceDiagnostics:
        """Counters in the spirit of Nova's fake driver (fixed, plausible numbers), laid
        over what this guest really has: its flavor's vCPUs and memory, its disks and
        its ports. It calls itself 'libvirt', as Nova's fake does: the 2.48 `driver`
        is an enum of real drivers that clients (Tempest) check."""
        with self._lock:
            if instance_uuid not in self._guests:
                raise RuntimeError(f'Guest {instance_uuid} does not exist on {self.host}')
            flavor = self.flavors.get(instance_uuid)
            disks = list(self.disks.get(instance_uuid, []))
            ports = list(self.ports.get(instance_uuid, []))
            config_drive = self.config_drives.get(instance_uuid, False)
            state = self._guests[instance_uuid]
        memory_kib = (flavor.memory_mb if flavor else 512) * 1024
        devices = [d.dev for d in disks] + (['hdd'] if config_drive else [])
        return objects.InstanceDiagnostics(
            power_state=state, driver='libvirt', hypervisor='fake', hypervisor_os='linux',
            uptime=None, config_drive=config_drive, memory_kib=memory_kib,
            memory_used_kib=memory_kib,
            memory_stats={'actual': memory_kib, 'rss': memory_kib // 2},
            cpus=[objects.CpuDiagnostics(id=n, time=17300000000)
                  for n in range(flavor.vcpus if flavor else 1)],
            disks=[objects.DiskDiagnostics(device=dev, read_bytes=262144, read_requests=112,
                                           write_bytes=5778432, write_requests=488,
                                           errors_count=0) for dev in devices],
            nics=[objects.NicDiagnostics(
                mac_address=port.mac_address, device=f'tap{port.id[:11]}',
                rx_octets=2070139, rx_errors=0, rx_drop=0, rx_packets=26701,
                tx_octets=140208, tx_errors=0, tx_drop=0, tx_packets=662)
                for port in ports])
