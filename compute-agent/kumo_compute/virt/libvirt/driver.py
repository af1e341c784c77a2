"""The libvirt driver: real QEMU/KVM guests through libvirt-python.

A guest's files live in `<instances_path>/<uuid>/` (disk, disk.eph0..N, disk.swap,
disk.config, kernel, ramdisk, console.log, libvirt.xml); images are cached in
`<instances_path>/_base/`. Domains carry Kumo metadata naming the agent (host) that
owns them, so several agents may share one libvirtd (kumo-all); a domain without it
but named like an instance (instance-XXXXXXXX) counts as this agent's too, so that
strays left by anyone are found and reported.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import libvirt
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import exceptions, objects
from kumo_common.states import power
from kumo_compute.virt.driver import ComputeDriver, HostResources
from kumo_compute.virt.libvirt import config as vconfig
from kumo_compute.virt.libvirt import (
    consoles,
    diagnostics,
    disk,
    domain_start,
    events,
    guest_layout,
    heavy_actions,
    imagecache,
    interfaces,
    live_migration,
    resize,
)
from kumo_compute.virt.libvirt.guest_layout import (
    AnotherAgentsGuest,
    GuestNotFound,
)

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# libvirt domain states -> power states, as Nova's LIBVIRT_POWER_STATE.
POWER_STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: power.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: power.RUNNING,
    # BLOCKED is a running guest waiting for I/O; SHUTDOWN is one still shutting down.
    libvirt.VIR_DOMAIN_BLOCKED: power.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: power.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: power.RUNNING,
    libvirt.VIR_DOMAIN_SHUTOFF: power.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: power.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: power.SUSPENDED,
}
# Paused on its way somewhere else (starting, shutting down, being saved...): the
# state to report is the one it is about to reach, so it is not reported yet.
TRANSIENT_PAUSES = frozenset({
    libvirt.VIR_DOMAIN_PAUSED_STARTING_UP, libvirt.VIR_DOMAIN_PAUSED_SHUTTING_DOWN,
    libvirt.VIR_DOMAIN_PAUSED_SAVE, libvirt.VIR_DOMAIN_PAUSED_DUMP,
    libvirt.VIR_DOMAIN_PAUSED_SNAPSHOT, libvirt.VIR_DOMAIN_PAUSED_MIGRATION,
})
# Nova's instance-%08x, or instance-<uuid> when that name is taken on this libvirtd.
INSTANCE_NAME = re.compile(r'^instance-[0-9a-f-]{8,}$')
_POLL = 0.25
# Seconds between two ACPI shutdown requests: a guest still booting misses the
# first one (Nova waits 10 s; guests ignore presses while they shut down anyway).
SHUTDOWN_RETRY_INTERVAL = 3


def share_of_machine(vcpus: int, memory_mb: int, local_gb: int, share: float
                     ) -> tuple[int, int, int]:
    """This agent's part of the machine ([libvirt] capacity_share), rounded down so
    that agents whose shares add up to at most 1 never report more than there is."""
    if share >= 1.0:
        return vcpus, memory_mb, local_gb
    # (A hair of tolerance: 3 agents at 1/3 each of 3 CPUs get one each, not 0.)
    part = [int(amount * share + 1e-9) for amount in (vcpus, memory_mb, local_gb)]
    if part[0] == 0:
        LOG.warning('A capacity_share of %s of %d vCPUs is less than one vCPU: this '
                    'agent offers none', share, vcpus)
    return part[0], part[1], part[2]


def probe(uri: str) -> str | None:
    """None if libvirtd answers at `uri`, else the reason it does not."""
    libvirt.registerErrorHandler(_quiet_libvirt, None)
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        return str(exc)
    try:
        conn.getVersion()
    except libvirt.libvirtError as exc:
        return str(exc)
    finally:
        conn.close()
    return None


def _quiet_libvirt(_ctx, _err) -> None:
    """libvirt prints every error to stderr by default; the driver handles them."""


class LibvirtDriver(heavy_actions.HeavyActions, resize.ResizeSteps,
                    live_migration.LiveMigrationSteps, ComputeDriver):
    def __init__(self, host: str, node_uuid: str | None = None):
        self.host = host
        self.node_uuid = node_uuid
        self.uri = CONF.libvirt.connection_uri
        self.virt_type = CONF.libvirt.virt_type
        self.instances_path = CONF.instances_path or os.path.join(CONF.state_path,
                                                                  'instances')
        os.makedirs(self.instances_path, mode=0o755, exist_ok=True)
        self.images = imagecache.ImageCache(os.path.join(self.instances_path, '_base'))
        self.layout = guest_layout.GuestLayout(self.images, self.virt_type, host)
        self._listener: Callable[[str], None] | None = None
        self._events: events.LifecycleEvents | None = None
        self._conn: libvirt.virConnect | None = None
        self._conn_lock = threading.Lock()
        libvirt.registerErrorHandler(_quiet_libvirt, None)
        events.start_event_loop()
        self._get_conn()
        self._hold_serial_ports()
        LOG.info('libvirt driver of %s on %s (virt_type %s), instances in %s', host,
                 self.uri, self.virt_type, self.instances_path)

    def _hold_serial_ports(self) -> None:
        """The serial ports of our defined guests, running or not, stay theirs."""
        for dom in self._domains():
            with contextlib.suppress(libvirt.libvirtError):
                consoles.hold_ports(dom.XMLDesc(0))

    # --- connection ---------------------------------------------------------------------
    def _get_conn(self) -> libvirt.virConnect:
        with self._conn_lock:
            conn = self._conn
            if conn is not None:
                try:
                    if conn.isAlive():
                        return conn
                except libvirt.libvirtError:
                    pass
                LOG.warning('Lost the connection to %s; reconnecting', self.uri)
            conn = libvirt.open(self.uri)
            # Keepalive lets a dead libvirtd be noticed by isAlive().
            try:
                conn.setKeepAlive(5, 3)
            except libvirt.libvirtError:
                pass
            self._conn = conn
            if self._listener is not None:
                self._events = events.LifecycleEvents(conn, self._listener)
            return conn

    def register_event_listener(self, callback: Callable[[str], None]) -> None:
        self._listener = callback
        conn = self._get_conn()
        with self._conn_lock:
            if self._events is None or self._events.conn is not conn:
                self._events = events.LifecycleEvents(conn, callback)

    def cleanup_host(self) -> None:
        with self._conn_lock:
            if self._events is not None:
                self._events.close()
                self._events = None
            if self._conn is not None:
                try:
                    self._conn.close()
                except libvirt.libvirtError:
                    pass
                self._conn = None

    # --- which domains are ours ---------------------------------------------------------
    def _owner(self, dom: libvirt.virDomain) -> vconfig.InstanceMetadata | None:
        try:
            text = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, vconfig.KUMO_NS, 0)
        except libvirt.libvirtError:
            return None
        return vconfig.InstanceMetadata.parse(text)

    def _tagged_ours(self, meta: vconfig.InstanceMetadata | None) -> bool:
        return meta is not None and meta.host == self.host and (
            not self.node_uuid or not meta.node or meta.node == self.node_uuid)

    def _is_ours(self, dom: libvirt.virDomain) -> bool:
        meta = self._owner(dom)
        if meta is not None:
            return self._tagged_ours(meta)
        return bool(INSTANCE_NAME.match(dom.name()))

    def claims(self, instance_uuid: str) -> bool:
        """True only for a domain carrying this agent's own metadata (one merely named
        like an instance may be anybody's)."""
        dom = self._lookup(instance_uuid)
        return dom is not None and self._tagged_ours(self._owner(dom))

    def _lookup(self, instance_uuid: str) -> libvirt.virDomain | None:
        try:
            dom = self._get_conn().lookupByUUIDString(instance_uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise
        return dom if self._is_ours(dom) else None

    def _require(self, instance_uuid: str) -> libvirt.virDomain:
        dom = self._lookup(instance_uuid)
        if dom is None:
            raise GuestNotFound(f'Guest {instance_uuid} has no domain on {self.host}')
        return dom

    def _domains(self) -> list[libvirt.virDomain]:
        return [d for d in self._get_conn().listAllDomains(0) if self._is_ours(d)]

    # --- reports ------------------------------------------------------------------------
    def host_resources(self) -> HostResources:
        conn = self._get_conn()
        info = conn.getInfo()  # [model, memory MiB, cpus, MHz, nodes, sockets, cores, threads]
        stat = os.statvfs(self.instances_path)
        vcpus, memory_mb, local_gb = share_of_machine(
            info[2], info[1], stat.f_blocks * stat.f_frsize // disk.GiB,
            CONF.libvirt.capacity_share)
        return HostResources(
            vcpus=vcpus, memory_mb=memory_mb, local_gb=local_gb,
            hypervisor_type=conn.getType(), hypervisor_version=conn.getVersion(),
            hypervisor_hostname=self.host, cpu_info=self._cpu_info(conn, info))

    def _cpu_info(self, conn: libvirt.virConnect, info: list) -> str:
        caps = ET.fromstring(conn.getCapabilities())
        cpu = caps.find('host/cpu')

        def text(path: str) -> str | None:
            found = cpu.find(path) if cpu is not None else None
            return found.text if found is not None else None

        return json.dumps({
            'arch': text('arch') or info[0], 'model': text('model'),
            'vendor': text('vendor'),
            'topology': {'sockets': info[5], 'cores': info[6], 'threads': info[7]},
            'features': sorted(f.get('name') for f in cpu.findall('feature'))
            if cpu is not None else []})

    def power_state(self, instance_uuid: str) -> int:
        try:
            dom = self._lookup(instance_uuid)
            return POWER_STATES.get(dom.state()[0], power.NOSTATE) if dom else power.NOSTATE
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return power.NOSTATE  # undefined while we looked
            raise

    @staticmethod
    def _settled_power_state(dom: libvirt.virDomain) -> int | None:
        state, reason = dom.state()
        if state == libvirt.VIR_DOMAIN_SHUTDOWN or (
                state == libvirt.VIR_DOMAIN_PAUSED and reason in TRANSIENT_PAUSES):
            return None
        return POWER_STATES.get(state, power.NOSTATE)

    def power_states(self, instance_uuids: list[str] | None = None
                     ) -> dict[str, int | None]:
        """As the base class; None for a guest between two states (ask again)."""
        if instance_uuids is None:
            doms = self._domains()
        else:
            doms = [d for d in map(self._lookup, instance_uuids) if d is not None]
        states = {}
        for dom in doms:
            try:
                states[dom.UUIDString()] = self._settled_power_state(dom)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise  # (a domain undefined meanwhile is simply not listed)
        return states

    def list_instances(self) -> list[str]:
        return [d.UUIDString() for d in self._domains()]

    def instance_dir(self, instance_uuid: str) -> str:
        return os.path.join(self.instances_path, instance_uuid)

    def console_log_path(self, instance_uuid: str) -> str:
        return os.path.join(self.instance_dir(instance_uuid), 'console.log')

    def get_host_uptime(self) -> str:
        # As Nova's libvirt driver: what `env LANG=C uptime` prints on this host.
        return subprocess.run(['uptime'], env={**os.environ, 'LANG': 'C'},
                              capture_output=True, text=True, check=True,
                              timeout=10).stdout

    def get_instance_diagnostics(self, instance_uuid: str) -> objects.InstanceDiagnostics:
        dom = self._require(instance_uuid)
        return diagnostics.read(dom, POWER_STATES.get(self._state(dom), power.NOSTATE),
                                self.virt_type, self.uri)

    def get_serial_console(self, instance_uuid: str) -> tuple[str, int]:
        return consoles.serial_from_xml(self._require(instance_uuid).XMLDesc(0))

    def get_vnc_console(self, instance_uuid: str) -> tuple[str, int]:
        return consoles.vnc_from_xml(self._require(instance_uuid).XMLDesc(0))

    def get_console_output(self, instance_uuid: str, length: int | None = None) -> str:
        """The guest's serial console log, its last `length` lines if given."""
        self._require(instance_uuid)
        try:
            with open(self.console_log_path(instance_uuid), 'rb') as f:
                text = f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''
        if length is not None:
            lines = text.splitlines(keepends=True)
            text = ''.join(lines[-length:]) if length > 0 else ''
        return text

    def trigger_crash_dump(self, instance_uuid: str) -> None:
        try:
            self._require(instance_uuid).injectNMI(0)
        except libvirt.libvirtError as exc:
            # libvirt's codes for a hypervisor without NMIs, and a domain not active.
            if exc.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT:
                raise exceptions.TriggerCrashDumpNotSupported() from exc
            if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID:
                raise exceptions.InstanceNotRunning(instance_id=instance_uuid) from exc
            raise
        LOG.info('NMI injected into guest %s', instance_uuid)

    def attach_interface(self, instance_uuid: str, port: objects.PortSpec) -> None:
        interfaces.attach(self._require(instance_uuid), port,
                          self.instance_dir(instance_uuid))

    def detach_interface(self, instance_uuid: str, port: objects.PortSpec) -> None:
        interfaces.detach(self._require(instance_uuid), port,
                          self.instance_dir(instance_uuid))

    # --- build and destroy --------------------------------------------------------------
    def spawn(self, build: objects.InstanceBuild) -> None:
        if build.image is None:
            raise imagecache.ImageError('Booting from a volume is not supported yet')
        if self._someone_elses(build.uuid):
            # (e.g. another agent on this libvirtd died building it): not ours to
            # replace; failing lets the conductor try elsewhere.
            raise AnotherAgentsGuest(f'A domain of {build.uuid} on {self.uri} belongs '
                                     f'to another agent')
        self._remove_domain(build.uuid)   # leftovers of an earlier attempt
        path = self.instance_dir(build.uuid)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, mode=0o755)
        domain = self.layout.lay_out(build, path, self.node_uuid)
        dom = self._define(domain.to_xml(), save_in=path)
        domain_start.start(dom)
        LOG.info('Guest %s (%s) started as domain %s', build.uuid, build.name, dom.name())

    def _define(self, xml: str, save_in: str | None = None) -> libvirt.virDomain:
        """Define a guest's domain (new, or again with a changed XML), named as
        `_free_name` says; the XML as defined is saved as `save_in`/libvirt.xml."""
        root = ET.fromstring(xml)
        uuid, wanted = root.findtext('uuid'), root.findtext('name')
        name = self._free_name(uuid, wanted)
        if name != wanted:   # (the text as it is otherwise: no namespace renamed)
            xml = xml.replace(f'<name>{wanted}</name>', f'<name>{name}</name>', 1)
        if save_in:
            with open(os.path.join(save_in, 'libvirt.xml'), 'w') as f:
                f.write(xml)
        return self._get_conn().defineXML(xml)

    def _free_name(self, uuid: str, wanted: str) -> str:
        """The name a domain of `uuid` can have on this libvirtd: the name its
        domain has now if it is defined (libvirt renames nothing); else Nova's
        instance name, unless another cloud sharing this libvirtd has a domain of
        that name: then instance-<uuid>, which nobody has. Asked before every
        define, since a name free at boot may be taken by the time a revert or an
        unrescue defines the saved XML again."""
        conn = self._get_conn()
        with contextlib.suppress(libvirt.libvirtError):
            return conn.lookupByUUIDString(uuid).name()
        fallback = f'instance-{uuid}'
        try:
            other = conn.lookupByName(wanted)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return wanted
            raise
        if other.UUIDString() == uuid:
            return wanted
        LOG.warning('Domain name %s is taken on %s by %s; naming %s %s',
                    wanted, self.uri, other.UUIDString(), uuid, fallback)
        return fallback

    def destroy(self, instance_uuid: str) -> None:
        if self._someone_elses(instance_uuid):
            # Agents sharing a libvirtd may share instances_path too (kumo-all): the
            # files belong to the domain's agent as much as the domain does.
            LOG.warning('Guest %s is another agent\'s; %s leaves it and its files alone',
                        instance_uuid, self.host)
            return
        self._remove_domain(instance_uuid)
        shutil.rmtree(self.instance_dir(instance_uuid), ignore_errors=True)
        # What a resize put aside here, if the server is deleted before it ended.
        shutil.rmtree(self.resize_dir(instance_uuid), ignore_errors=True)

    def cleanup_evacuated(self, instance_uuid: str) -> bool:
        """A domain of ours goes with its files; with none (it died with the host and
        its definition with it, or on a shared libvirtd another agent now has the
        server's UUID), our files of it go all the same. Files are ours when the
        domain XML saved with them names this agent: another agent sharing this
        instances_path (kumo-all) may run the evacuated server from that very
        directory, or be building it there (no XML saved yet)."""
        if self._lookup(instance_uuid) is not None:
            self.destroy(instance_uuid)
            return True
        removed = False
        for path in (self.instance_dir(instance_uuid), self.resize_dir(instance_uuid)):
            if not os.path.exists(path):
                continue
            if self._saved_by_us(path):
                shutil.rmtree(path, ignore_errors=True)
                removed = True
            else:
                LOG.warning('%s is not known to be %s\'s (no libvirt.xml of this agent '
                            'in it): left alone', path, self.host)
        return removed

    def _saved_by_us(self, path: str) -> bool:
        try:
            root = ET.parse(os.path.join(path, 'libvirt.xml')).getroot()
        except (OSError, ET.ParseError):
            return False
        meta = root.find(f'metadata/{{{vconfig.KUMO_NS}}}instance')
        return meta is not None and self._tagged_ours(
            vconfig.InstanceMetadata.parse(ET.tostring(meta, encoding='unicode')))

    def _someone_elses(self, instance_uuid: str) -> bool:
        try:
            dom = self._get_conn().lookupByUUIDString(instance_uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return False
            raise
        return not self._is_ours(dom)

    def _remove_domain(self, instance_uuid: str) -> None:
        dom = self._lookup(instance_uuid)
        if dom is None:
            return
        try:
            xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return
            raise
        self._undefine(dom, instance_uuid)
        consoles.release_ports(xml)

    def _undefine(self, dom: libvirt.virDomain, instance_uuid: str) -> None:
        try:
            if dom.isActive():
                dom.destroy()
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in (libvirt.VIR_ERR_OPERATION_INVALID,
                                            libvirt.VIR_ERR_NO_DOMAIN):
                raise
        try:
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                              | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                              | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return
            # A hypervisor that does not know one of the flags (as Nova, retry plainly).
            LOG.debug('undefineFlags of %s failed (%s); undefining plainly',
                      instance_uuid, exc)
            with contextlib.suppress(libvirt.libvirtError):
                if dom.hasManagedSaveImage(0):
                    dom.managedSaveRemove(0)
            try:
                dom.undefine()
            except libvirt.libvirtError as again:
                if again.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
        LOG.info('Domain of guest %s removed', instance_uuid)

    # --- lifecycle ----------------------------------------------------------------------
    @staticmethod
    def _state(dom: libvirt.virDomain) -> int:
        return dom.state()[0]

    def _wait_for(self, dom: libvirt.virDomain, states: tuple[int, ...], timeout: float,
                  resend: Callable[[], None] | None = None) -> bool:
        deadline = time.monotonic() + timeout
        next_resend = time.monotonic() + SHUTDOWN_RETRY_INTERVAL
        while time.monotonic() < deadline:
            if self._state(dom) in states:
                return True
            if resend is not None and time.monotonic() >= next_resend:
                resend()
                next_resend = time.monotonic() + SHUTDOWN_RETRY_INTERVAL
            time.sleep(_POLL)
        return self._state(dom) in states

    def _clean_shutdown(self, dom: libvirt.virDomain, timeout: float) -> bool:
        """Ask the guest to power off (ACPI), re-asking now and then; True if it did."""
        if timeout <= 0 or self._state(dom) == libvirt.VIR_DOMAIN_PAUSED:
            return False

        def ask() -> None:
            try:
                dom.shutdown()
            except libvirt.libvirtError as exc:
                LOG.debug('Shutdown request to %s failed: %s', dom.name(), exc)

        ask()
        return self._wait_for(dom, (libvirt.VIR_DOMAIN_SHUTOFF,), timeout, resend=ask)

    def power_off(self, instance_uuid: str, timeout: float | None = None) -> None:
        dom = self._require(instance_uuid)
        if not dom.isActive():
            return
        timeout = CONF.shutdown_timeout if timeout is None else timeout
        if timeout and self._clean_shutdown(dom, timeout):
            LOG.info('Guest %s shut down cleanly', instance_uuid)
            return
        LOG.info('Guest %s did not shut down within %ss; powering it off', instance_uuid,
                 timeout)
        try:
            dom.destroy()
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID:
                raise

    def power_on(self, instance_uuid: str) -> None:
        dom = self._require(instance_uuid)
        if not dom.isActive():
            domain_start.start(dom)

    def reboot_soft(self, instance_uuid: str) -> None:
        """Nova's soft reboot: a clean shutdown then a start; hard if the guest ignores
        the request within [libvirt] wait_soft_reboot_seconds."""
        dom = self._require(instance_uuid)
        if self._state(dom) == libvirt.VIR_DOMAIN_RUNNING and self._clean_shutdown(
                dom, CONF.libvirt.wait_soft_reboot_seconds):
            domain_start.start(dom)
            LOG.info('Guest %s rebooted (soft)', instance_uuid)
            return
        LOG.warning('Guest %s did not shut down for a soft reboot; rebooting it hard',
                    instance_uuid)
        self.reboot_hard(instance_uuid)

    def reboot_hard(self, instance_uuid: str) -> None:
        dom = self._require(instance_uuid)
        if dom.isActive():
            dom.destroy()
        if dom.hasManagedSaveImage(0):
            dom.managedSaveRemove(0)
        domain_start.start(dom)
        LOG.info('Guest %s rebooted (hard)', instance_uuid)

    def pause(self, instance_uuid: str) -> None:
        self._require(instance_uuid).suspend()

    def unpause(self, instance_uuid: str) -> None:
        self._require(instance_uuid).resume()

    def suspend(self, instance_uuid: str) -> None:
        # Managed save: memory to disk, QEMU gone; the next start restores it.
        self._require(instance_uuid).managedSave(0)

    def resume(self, instance_uuid: str) -> None:
        dom = self._require(instance_uuid)
        if not dom.isActive():
            domain_start.start(dom)
