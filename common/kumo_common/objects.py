"""Typed payloads that cross RPC.

Each is a dataclass with an explicit wire form: {"kumo_object.name", ".version",
".data"}. No free-form dicts travel between services; a test pins every field so a
change to a payload is a deliberate, versioned change.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

NAME_KEY = 'kumo_object.name'
VERSION_KEY = 'kumo_object.version'
DATA_KEY = 'kumo_object.data'


@dataclass
class Payload:
    VERSION: ClassVar[str] = '1.0'
    # Fields holding nested payloads: {field: class} or {field: [class]} for lists.
    NESTED: ClassVar[dict[str, Any]] = {}

    def to_primitive(self) -> dict:
        data = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Payload):
                value = value.to_primitive()
            elif isinstance(value, list) and value and isinstance(value[0], Payload):
                value = [v.to_primitive() for v in value]
            data[f.name] = value
        return {NAME_KEY: type(self).__name__, VERSION_KEY: self.VERSION, DATA_KEY: data}

    @classmethod
    def from_primitive(cls, primitive: dict) -> Payload:
        name = primitive[NAME_KEY]
        target = REGISTRY.get(name)
        if target is None:
            raise ValueError(f'Unknown payload type {name!r}')
        major = primitive[VERSION_KEY].split('.')[0]
        if major != target.VERSION.split('.')[0]:
            raise ValueError(f'{name} version {primitive[VERSION_KEY]} is not compatible '
                             f'with {target.VERSION}')
        known = {f.name for f in dataclasses.fields(target)}
        # Unknown fields come from a newer minor version of the sender: drop them.
        data = {k: v for k, v in primitive[DATA_KEY].items() if k in known}
        for key, value in list(data.items()):
            if isinstance(value, dict) and NAME_KEY in value:
                data[key] = Payload.from_primitive(value)
            elif isinstance(value, list) and value and isinstance(value[0], dict) \
                    and NAME_KEY in value[0]:
                data[key] = [Payload.from_primitive(v) for v in value]
        return target(**data)


def is_payload_primitive(value: Any) -> bool:
    return isinstance(value, dict) and NAME_KEY in value and DATA_KEY in value


@dataclass
class FlavorSpec(Payload):
    """The resources a server asks for (a snapshot of its flavor)."""
    flavorid: str
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    ephemeral_gb: int = 0
    swap: int = 0
    extra_specs: dict = field(default_factory=dict)

    @property
    def disk_gb(self) -> int:
        return self.root_gb + self.ephemeral_gb + (self.swap + 1023) // 1024


@dataclass
class ImageSpec(Payload):
    """The image a server boots from, with the properties filters and drivers read.

    1.1: location (where the agent fetches the bits: for now a local file path).
    """
    VERSION: ClassVar[str] = '1.1'
    id: str
    name: str = ''
    checksum: str | None = None
    size: int = 0
    disk_format: str | None = None
    container_format: str | None = None
    min_ram: int = 0
    min_disk: int = 0
    properties: dict = field(default_factory=dict)
    location: str | None = None


@dataclass
class NetworkRequest(Payload):
    """One NIC a create request asks for, resolved by the API: a port made beforehand
    through the network API (already reserved for the server), or a network to
    allocate a port on, with the fixed IP the user chose if any."""
    network_id: str
    port_id: str | None = None
    fixed_ip: str | None = None
    tag: str | None = None


@dataclass
class RequestSpec(Payload):
    """What the scheduler needs to place one or more servers of one request.

    1.1: force_hosts/force_nodes (az:host:node, filters bypassed) and
    requested_destination ({"host", "node"}, 2.74, filters still run).
    1.2: network_requests (each requested NIC: a network, or a port made beforehand,
    and an optional fixed IP), which supersede requested_networks when present.
    """
    VERSION: ClassVar[str] = '1.2'
    instance_uuids: list[str]
    project_id: str
    user_id: str
    flavor: FlavorSpec
    image: ImageSpec | None = None
    availability_zone: str | None = None
    scheduler_hints: dict = field(default_factory=dict)
    # Networks to give each instance a port on (resolved by the API).
    requested_networks: list[str] = field(default_factory=list)
    # The same request NIC by NIC, with ports and fixed IPs (1.2); read this first.
    network_requests: list[NetworkRequest] = field(default_factory=list)
    # Hosts already tried (reschedules) that must not be picked again.
    ignore_hosts: list[str] = field(default_factory=list)
    # `availability_zone` "az:host:node" (admin): only these, and no filter runs.
    force_hosts: list[str] = field(default_factory=list)
    force_nodes: list[str] = field(default_factory=list)
    # 2.74 `host` / `hypervisor_hostname` (admin): only there, filters still run.
    requested_destination: dict | None = None


@dataclass
class Selection(Payload):
    """A host the scheduler chose and claimed for one instance."""
    instance_uuid: str
    service_host: str
    nodename: str
    compute_node_uuid: str
    cell_name: str | None = None
    # Other hosts that passed the filters, best first, for a reschedule.
    alternate_hosts: list[str] = field(default_factory=list)


@dataclass
class DryRunResult(Payload):
    """What the scheduler would do with a request, nothing claimed: the hosts it
    would pick (one per instance, in order) and its report for each instance."""
    selected_hosts: list[dict] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)


@dataclass
class PortSpec(Payload):
    """A network port given to a server."""
    id: str
    network_id: str
    network_name: str
    mac_address: str
    fixed_ips: list[dict] = field(default_factory=list)  # [{"ip_address", "version"}]


@dataclass
class BlockDeviceSpec(Payload):
    """One local disk of a server as its block device mapping says (the rows the API
    stored: the image root disk, blank ephemeral and swap disks, the flavor's included).
    Sizes as Nova's: GiB for ephemeral disks, MiB for swap (guest_format 'swap')."""
    source_type: str
    destination_type: str = 'local'
    device_name: str | None = None
    boot_index: int | None = None
    volume_size: int | None = None
    guest_format: str | None = None
    device_type: str | None = None
    disk_bus: str | None = None


@dataclass
class InstanceBuild(Payload):
    """Everything a compute agent needs to build one server.

    1.1: instance_name (the hypervisor's name for it, 'instance-%08x' as the API
    shows), key_name, and kernel/ramdisk (the images the boot image's kernel_id and
    ramdisk_id properties name, resolved by the conductor; None when absent).
    1.2: files, the request's personality (2.1-2.56): [{"path", "contents"}], contents
    base64 as the user sent them, for the config drive.
    1.3: deadline, the spawning step's deadline (naive UTC, ISO 8601): an agent that
    gets the build later (it was down, the message waited in its queue) refuses it,
    since the conductor's reaper has rescheduled or failed the server by then.
    1.4: block_devices, the server's block device mappings (BlockDeviceSpec), so that
    the agent makes the requested ephemeral and swap disks; an agent given none (an
    older conductor) makes the flavor's.
    """
    VERSION: ClassVar[str] = '1.4'
    uuid: str
    name: str
    hostname: str
    project_id: str
    user_id: str
    flavor: FlavorSpec
    image: ImageSpec | None
    node_uuid: str
    metadata: dict = field(default_factory=dict)
    user_data: str | None = None
    key_data: str | None = None
    config_drive: bool = False
    admin_password: str | None = None
    ports: list[PortSpec] = field(default_factory=list)
    availability_zone: str | None = None
    attempt: int = 1
    instance_name: str = ''
    key_name: str | None = None
    kernel: ImageSpec | None = None
    ramdisk: ImageSpec | None = None
    files: list[dict] = field(default_factory=list)
    deadline: str | None = None
    block_devices: list[BlockDeviceSpec] = field(default_factory=list)


@dataclass
class BuildResult(Payload):
    """What a compute agent reports back after trying to build a server.

    1.1: `traceback` of a failed spawn (the action event's, shown to admins).
    """
    VERSION = '1.1'
    instance_uuid: str
    host: str
    success: bool
    power_state: int = 0
    error: str | None = None
    # True when the failure is the host's fault and another host may succeed.
    reschedulable: bool = True
    traceback: str | None = None


@dataclass
class GuestCheck(Payload):
    """What a compute agent knows of one instance, for the conductor's reaper: whether
    its guest exists, what runs on it now, and the outcome of the operations it
    finished (so a lost report can be recovered rather than guessed).

    `busy`: the operation running or queued on it ('build', 'terminate' or a lifecycle
    action's name), None if idle. `build`: the last build it finished,
    {"attempt", "success", "error", "power_state"}. `actions`: finished lifecycle
    actions by request id, {"action", "success", "error", "power_state"}. `fenced`: the
    operation the conductor asked about had not reached the agent, which will now
    refuse it should it arrive late.
    """
    host: str
    instance_uuid: str
    exists: bool = False
    power_state: int = 0
    busy: str | None = None
    build: dict | None = None
    actions: dict = field(default_factory=dict)
    fenced: bool = False


@dataclass
class NodeReport(Payload):
    """A compute agent's identity, capacity and liveness, sent at start and as heartbeat."""
    host: str
    node_uuid: str
    hypervisor_hostname: str
    hypervisor_type: str
    hypervisor_version: int
    host_ip: str
    cell_name: str
    vcpus: int
    memory_mb: int
    local_gb: int
    cpu_info: str = '{}'
    running_instances: list[str] = field(default_factory=list)
    # Overcommit and reservations are the node's own configuration, as in Nova.
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    reserved_host_cpus: int = 0
    reserved_host_memory_mb: int = 0
    reserved_host_disk_mb: int = 0


@dataclass
class PowerStateReport(Payload):
    """A compute agent's guests and their power states, for the conductor to apply
    Nova's sync rules. `complete`: every guest of the host is listed (the periodic and
    start-up sync), so an instance of the host that is missing has no guest.
    `unsettled`: guests between two states (starting, saving...), not judged now."""
    host: str
    power_states: dict = field(default_factory=dict)   # {instance uuid: power state}
    complete: bool = False
    unsettled: list[str] = field(default_factory=list)


@dataclass
class PowerSyncResult(Payload):
    """The conductor's answer to a PowerStateReport: `pending` instances had a task
    running (report them again later); `strays` are guests the database does not know
    or knows as deleted (the agent applies running_deleted_instance_action), `unknown`
    those of them it never knew.

    1.1: `elsewhere`, the strays the database knows as deleted servers of another
    host: on a libvirtd several agents share, a domain merely named like an instance
    is that host's to deal with, so the agent leaves it alone unless it carries its
    own tag.
    """
    VERSION: ClassVar[str] = '1.1'
    pending: list[str] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)


@dataclass
class ActionParams(Payload):
    """What a heavier lifecycle action (kumo_common.lifecycle, takes_params) hands the
    driver: the new password, the image to write a snapshot to, the build to rebuild
    from. Only the fields the action needs are set.

    1.1: offload (shelve: the guest leaves the host once its image is written, as
    with [DEFAULT] shelved_offload_time 0). unshelve of an offloaded server sends
    `build` (the server from its shelve image); of a shelved one, nothing.
    """
    VERSION: ClassVar[str] = '1.1'
    admin_password: str | None = None
    # createImage / createBackup / shelve: the catalog image and the file to write.
    snapshot_id: str | None = None
    snapshot_path: str | None = None
    # rebuild: the server as it is to be built again (new image, user_data...).
    build: InstanceBuild | None = None
    preserve_ephemeral: bool = False
    # rebuild: whether the guest runs afterwards (Nova leaves a stopped server stopped).
    start: bool = True
    # resize / revert: the flavor the guest is to run with.
    flavor: FlavorSpec | None = None
    # shelve: offload the guest once its image is written.
    offload: bool = False


@dataclass
class ActionResult(Payload):
    """What a heavier action produced, for the conductor to record: the snapshot
    image's data (createImage, createBackup, shelve).

    1.1: offloaded (shelve: the guest and its files left the host too).
    """
    VERSION: ClassVar[str] = '1.1'
    image_id: str | None = None
    size: int = 0
    checksum: str | None = None        # md5, Glance's `checksum`
    os_hash_value: str | None = None   # sha512
    virtual_size: int | None = None
    disk_format: str | None = None
    offloaded: bool = False


@dataclass
class MigrationStep(Payload):
    """One agent's part of a resize (compute RPC 1.5), with what it needs to do it.

    `step`: resize_instance (the source powers the guest off and puts its files aside
    in `source_path`), finish_resize (the destination builds the guest from them with
    `build`, the server with its new flavor), confirm_resize (the source drops what
    it put aside), revert_resize (the destination destroys the new guest),
    finish_revert_resize (the source brings the old guest back). `step_id`: the
    step's key in the agent's ledger (the reaper asks about it). `start`: whether the
    guest runs afterwards (a resized STOPPED server stays stopped).

    1.1: `old_flavor` and `new_flavor`, so the source can refuse, before it touches the
    guest, a resize that would shrink a disk (Nova's 'Unable to resize disk down.').

    A live migration's steps (compute RPC 1.13) are MigrationSteps too:
    pre_live_migration (the destination gets ready to receive the running guest
    described by `build`), live_migration (the source moves it there and, once it
    runs there, removes what is left of it here), post_live_migration_at_destination
    (the destination takes the guest as its own), rollback_live_migration_at_destination
    (the destination removes what pre_live_migration made). 1.2: `block_migration`
    (what the user asked: True, False, or None for 'auto'; Kumo's hosts share no
    storage, so every live migration copies the disks).
    """
    VERSION: ClassVar[str] = '1.2'
    migration_uuid: str
    instance_uuid: str
    step: str
    step_id: str
    source_host: str
    dest_host: str
    source_path: str | None = None
    build: InstanceBuild | None = None
    start: bool = True
    old_flavor: FlavorSpec | None = None
    new_flavor: FlavorSpec | None = None
    block_migration: bool | None = None


@dataclass
class MigrationStepResult(Payload):
    """What an agent reports after its step of a resize or a live migration
    (conductor RPC 1.4). 1.1: `aborted`, a live migration that live_migration_abort
    stopped (the guest stayed at the source; an older conductor takes it as failed)."""
    VERSION: ClassVar[str] = '1.1'
    migration_uuid: str
    instance_uuid: str
    step: str
    step_id: str
    host: str
    success: bool
    power_state: int = 0
    error: str | None = None
    # resize_instance: where the source put the server's files aside.
    source_path: str | None = None
    aborted: bool = False


@dataclass
class LiveMigrationProgress(Payload):
    """How far the copy of a live migration has got, in bytes, as the source's
    hypervisor counts it (libvirt's job stats); None where it cannot tell. The
    source agent reports it while the copy runs (conductor RPC 1.9)."""
    memory_total: int | None = None
    memory_processed: int | None = None
    memory_remaining: int | None = None
    disk_total: int | None = None
    disk_processed: int | None = None
    disk_remaining: int | None = None


@dataclass
class CpuDiagnostics(Payload):
    """One vCPU of a guest: `time` it ran (ns), `utilisation` (%) where known."""
    id: int
    time: int | None = None
    utilisation: int | None = None


@dataclass
class DiskDiagnostics(Payload):
    """One disk of a guest by its name in the guest (`device`, vda...): I/O since it
    started (bytes, requests, errors)."""
    device: str
    read_bytes: int | None = None
    read_requests: int | None = None
    write_bytes: int | None = None
    write_requests: int | None = None
    errors_count: int | None = None


@dataclass
class NicDiagnostics(Payload):
    """One NIC of a guest: its MAC and traffic since it started. `device` is the
    host's name for it (a tap: vnet0...), None for a NIC without one (user
    networking), whose counters are then unknown (None)."""
    mac_address: str | None = None
    device: str | None = None
    rx_octets: int | None = None
    rx_errors: int | None = None
    rx_drop: int | None = None
    rx_packets: int | None = None
    rx_rate: int | None = None
    tx_octets: int | None = None
    tx_errors: int | None = None
    tx_drop: int | None = None
    tx_packets: int | None = None
    tx_rate: int | None = None


@dataclass
class InstanceDiagnostics(Payload):
    """What a virt driver can tell of a running guest (compute RPC 1.8), in its own
    units; the API shapes it per microversion (Nova's driver dict before 2.48, its
    standard diagnostics from 2.48). Memory is in KiB as the hypervisor counts it
    (`memory_stats`: the balloon's counters, {name: KiB}); `uptime` is seconds since
    the guest started, None when the driver cannot tell."""
    power_state: int
    driver: str
    hypervisor: str | None = None
    hypervisor_os: str | None = None
    uptime: int | None = None
    config_drive: bool = False
    memory_kib: int | None = None
    memory_used_kib: int | None = None
    memory_stats: dict = field(default_factory=dict)
    cpus: list[CpuDiagnostics] = field(default_factory=list)
    disks: list[DiskDiagnostics] = field(default_factory=list)
    nics: list[NicDiagnostics] = field(default_factory=list)


# Every payload type, by wire name. Explicit, so nothing is registered by import magic.
REGISTRY: dict[str, type[Payload]] = {
    cls.__name__: cls
    for cls in (FlavorSpec, ImageSpec, NetworkRequest, RequestSpec, Selection, PortSpec,
                BlockDeviceSpec, InstanceBuild, BuildResult, GuestCheck, NodeReport, DryRunResult,
                PowerStateReport, PowerSyncResult, ActionParams,
                ActionResult, MigrationStep, MigrationStepResult, LiveMigrationProgress,
                CpuDiagnostics,
                DiskDiagnostics, NicDiagnostics, InstanceDiagnostics)
}
