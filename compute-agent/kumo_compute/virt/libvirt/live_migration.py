"""Live migration on libvirt (compute RPC 1.13): the steps the conductor drives.

Kumo's hosts share no storage, so the guest's disks always travel with it
(VIR_MIGRATE_NON_SHARED_DISK: libvirt copies them over NBD while the memory is
copied), whatever the user said about block migration.

The destination prepares the guest as a spawn would (`GuestLayout.lay_out`: its
directory, disks as overlays of its own image cache, the config drive written
anew, the AMI kernel and ramdisk, a serial console port free here) and defines the
domain, inactive, with that XML: the guest's place here, which libvirt lets an
incoming migration of the same domain take (a defined, inactive domain of the same
name and UUID).

The source reads that definition through the destination's libvirtd (the
[libvirt] live_migration_uri its own libvirtd dials for the peer-to-peer
migration) and migrates the running domain with its own migratable XML in which
only what is the destination's changes: disk, kernel and console paths, the
serial console's port, the VNC listen address, and the Kumo metadata naming the
destination's agent. Everything the guest sees (its devices, their addresses)
stays as it is: libvirt refuses a destination XML whose guest ABI differs.

live_migration_abort (libvirt's abortJob), live_migration_force_complete (the
guest paused so that its memory stops changing, as Nova's without post-copy) and
live_migration_progress (the job's stats) come from other threads while
live_migration waits in migrateToURI3.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import libvirt
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import objects
from kumo_compute.virt.driver import LiveMigrationAborted
from kumo_compute.virt.libvirt import config as vconfig
from kumo_compute.virt.libvirt import consoles, imagecache
from kumo_compute.virt.libvirt.guest_layout import AnotherAgentsGuest, GuestNotFound

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Peer to peer (the source's libvirtd talks to the destination's; `--direct` does
# not carry the disks), the domain persistent there and gone from here afterwards,
# every writable disk copied.
FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
         | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
         | libvirt.VIR_MIGRATE_NON_SHARED_DISK)
# How long an abort keeps trying when it comes before libvirt has begun the job.
ABORT_PATIENCE = 10.0
# How long a rollback waits for libvirt to end an incoming guest that failed.
ROLLBACK_PATIENCE = 30.0
_POLL = 0.1
# libvirt's job stats (bytes) that are a live migration's progress, by its names.
_PROGRESS_STATS = tuple(f'{what}_{count}' for what in ('memory', 'disk')
                        for count in ('total', 'processed', 'remaining'))


class LiveMigrationError(Exception):
    """A live migration that cannot be done, or failed (the guest is where it was)."""


def destination_uri(dest_host: str) -> str:
    """[libvirt] live_migration_uri for `dest_host` (its "%s", if it has one)."""
    uri = CONF.libvirt.live_migration_uri
    return uri % dest_host if '%s' in uri else uri


# --- the destination XML ------------------------------------------------------------------
def _by_key(root: ET.Element, path: str, key) -> dict:
    return {key(element): element for element in root.findall(path)}


def _disk_dev(disk: ET.Element) -> str | None:
    target = disk.find('target')
    return target.get('dev') if target is not None else None


def _chardev_key(element: ET.Element) -> tuple[str, str | None, str | None]:
    target = element.find('target')
    if target is None:
        return element.tag, None, None
    return element.tag, target.get('type'), target.get('port')


def _replace_children(into: ET.Element, source: ET.Element, tags: tuple[str, ...]) -> None:
    """`into`'s children of `tags` become copies of `source`'s, at the same place."""
    for tag in tags:
        old = into.findall(tag)
        new = [_copy(e) for e in source.findall(tag)]
        index = list(into).index(old[0]) if old else 0
        for element in old:
            into.remove(element)
        for offset, element in enumerate(new):
            into.insert(index + offset, element)


def _copy(element: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(element))


def destination_xml(source_xml: str, dest_xml: str) -> str:
    """The running guest's migratable XML (`source_xml`) with what is the
    destination's taken from the domain it prepared (`dest_xml`): disks' sources
    (matched by their target dev), kernel and initrd, serial consoles' sources and
    logs (by target port), VNC listen addresses and the Kumo metadata. The guest's
    own devices stay; a disk the destination did not prepare is an error. Its name
    stays too (libvirt wants the source's here): the destination's, which differs
    when either libvirtd had Nova's name taken (instance-<uuid>), is the migration's
    VIR_MIGRATE_PARAM_DEST_NAME."""
    ET.register_namespace(vconfig.KUMO_PREFIX, vconfig.KUMO_NS)
    root, dest = ET.fromstring(source_xml), ET.fromstring(dest_xml)

    dest_disks = _by_key(dest, './devices/disk', _disk_dev)
    for disk in root.findall('./devices/disk'):
        dev = _disk_dev(disk)
        if disk.find('source') is None:
            continue   # (an empty CD-ROM: nothing of the host's)
        if dev not in dest_disks:
            raise LiveMigrationError(f'The destination prepared no disk {dev}')
        # The destination's own backing chain is probed there: none of ours.
        for chain in disk.findall('backingStore'):
            disk.remove(chain)
        _replace_children(disk, dest_disks[dev], ('source',))

    os_el, dest_os = root.find('os'), dest.find('os')
    for tag in ('kernel', 'initrd'):
        element = os_el.find(tag) if os_el is not None else None
        if element is not None:
            element.text = dest_os.findtext(tag) if dest_os is not None else None
            if not element.text:
                raise LiveMigrationError(f'The destination prepared no {tag}')

    dest_chardevs = _by_key(dest, './devices/*[target]', _chardev_key)
    for element in [*root.findall('./devices/serial'), *root.findall('./devices/console')]:
        mine = dest_chardevs.get(_chardev_key(element))
        if mine is None or mine.get('type') != element.get('type'):
            raise LiveMigrationError(f'The destination prepared no {element.tag} like '
                                     f'the guest\'s ({element.get("type")})')
        _replace_children(element, mine, ('source', 'log'))

    dest_graphics = _by_key(dest, './devices/graphics', lambda e: e.get('type'))
    for graphics in root.findall('./devices/graphics'):
        mine = dest_graphics.get(graphics.get('type'))
        if mine is not None:
            for name in ('listen',):
                if mine.get(name) is not None:
                    graphics.set(name, mine.get(name))
            _replace_children(graphics, mine, ('listen',))

    tag = f'{{{vconfig.KUMO_NS}}}instance'
    dest_meta = dest.find(f'metadata/{tag}')
    metadata = root.find('metadata')
    if dest_meta is None:
        raise LiveMigrationError('The destination\'s domain has no Kumo metadata')
    if metadata is None:
        metadata = ET.SubElement(root, 'metadata')
    for element in metadata.findall(tag):
        metadata.remove(element)
    metadata.append(_copy(dest_meta))
    return ET.tostring(root, encoding='unicode')


def copied_disks(xml: str) -> list[str]:
    """The target devs of the guest's writable file disks: what is copied (a config
    drive, read-only, is made anew at the destination instead)."""
    return [_disk_dev(d) for d in ET.fromstring(xml).findall("./devices/disk")
            if d.get('device', 'disk') == 'disk' and d.find('readonly') is None
            and d.find('shareable') is None and d.find('source') is not None]


# --- migrations under way on this (source) host ------------------------------------------
@dataclass
class _Outgoing:
    """A live migration this source runs: what abort and force-complete did to it."""
    dom: libvirt.virDomain
    aborted: bool = False
    paused_here: bool = False
    started: bool = False
    done: bool = False


_outgoing: dict[tuple[str, str], _Outgoing] = {}
_outgoing_lock = threading.Lock()


class LiveMigrationSteps:
    """The libvirt driver's live migration steps (mixed into LibvirtDriver, whose
    domain lookup, define, layout and instance paths they use)."""

    # --- destination ----------------------------------------------------------------------
    def pre_live_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        build = step.build
        if build is None or build.image is None:
            raise imagecache.ImageError('A live migration needs the server\'s image at '
                                        'the destination (booting from a volume is not '
                                        'supported yet)')
        if self._someone_elses(instance_uuid):
            raise AnotherAgentsGuest(f'A domain of {instance_uuid} on {self.uri} belongs '
                                     f'to another agent')
        dom = self._lookup(instance_uuid)
        if dom is not None and dom.isActive():
            raise LiveMigrationError(f'Guest {instance_uuid} runs on {self.host} already')
        self._remove_domain(instance_uuid)   # an earlier attempt's
        path = self.instance_dir(instance_uuid)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, mode=0o755)
        xml = None
        try:
            # The guest's files as a spawn makes them: disks of the same sizes on
            # this host's copy of the image (filled by the copy), its own config
            # drive, kernel and ramdisk, a serial port free here.
            xml = self.layout.lay_out(build, path, self.node_uuid).to_xml()
            self._define(xml, save_in=path)
        except Exception:
            with contextlib.suppress(Exception):
                self._remove_domain(instance_uuid)
            if xml is not None:
                consoles.release_ports(xml)
            shutil.rmtree(path, ignore_errors=True)
            raise
        LOG.info('Ready on %s to receive guest %s by live migration', self.host,
                 instance_uuid)

    def post_live_migration_at_destination(self, instance_uuid: str,
                                           step: objects.MigrationStep) -> None:
        dom = self._lookup(instance_uuid)
        if dom is None or not dom.isActive():
            raise GuestNotFound(f'Guest {instance_uuid} did not arrive on {self.host}')
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        path = self.instance_dir(instance_uuid)
        if not dom.isPersistent():   # (PERSIST_DEST makes it so; a build always is)
            self._define(xml, save_in=path)
        else:
            with open(os.path.join(path, 'libvirt.xml'), 'w') as f:
                f.write(xml)
        consoles.hold_ports(xml)
        state, reason = dom.state()
        if state == libvirt.VIR_DOMAIN_PAUSED and reason in (
                libvirt.VIR_DOMAIN_PAUSED_MIGRATION,
                libvirt.VIR_DOMAIN_PAUSED_POSTCOPY):
            # Left paused by the switch-over (not by its user): it runs here now.
            dom.resume()
        LOG.info('Guest %s arrived on %s by live migration', instance_uuid, self.host)

    def rollback_live_migration_at_destination(self, instance_uuid: str,
                                               step: objects.MigrationStep) -> None:
        dom = self._lookup(instance_uuid)
        if dom is not None and dom.isActive():
            # An incoming guest libvirt has not ended yet, or one that arrived after
            # all: the latter runs here and only here, and must not be destroyed.
            deadline = time.monotonic() + ROLLBACK_PATIENCE
            while dom.isActive() and time.monotonic() < deadline:
                if dom.state() == [libvirt.VIR_DOMAIN_RUNNING,
                                   libvirt.VIR_DOMAIN_RUNNING_MIGRATED]:
                    break
                time.sleep(_POLL)
            if dom.isActive() and self._state(dom) != libvirt.VIR_DOMAIN_PAUSED:
                raise LiveMigrationError(f'Guest {instance_uuid} runs on {self.host}: '
                                         'the live migration is not rolled back')
        self._remove_domain(instance_uuid)
        shutil.rmtree(self.instance_dir(instance_uuid), ignore_errors=True)
        LOG.info('Live migration of %s to %s rolled back there', instance_uuid, self.host)

    # --- source -----------------------------------------------------------------------
    def live_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        dom = self._require(instance_uuid)
        if not dom.isActive():
            raise LiveMigrationError(f'Guest {instance_uuid} is not running on '
                                     f'{self.host}: nothing to migrate live')
        key = (self.host, instance_uuid)
        job = _Outgoing(dom)
        with _outgoing_lock:
            if key in _outgoing:
                raise LiveMigrationError(f'Guest {instance_uuid} is being live-migrated '
                                         'already')
            _outgoing[key] = job
        uri = destination_uri(step.dest_host)
        try:
            source_xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            self._migrate(dom, job, uri, step)
        finally:
            with _outgoing_lock:
                job.done = True
                _outgoing.pop(key, None)
        LOG.info('Guest %s live-migrated from %s to %s', instance_uuid, self.host,
                 step.dest_host)
        self._forget_migrated(instance_uuid, source_xml)

    def _migrate(self, dom: libvirt.virDomain, job: _Outgoing, uri: str,
                 step: objects.MigrationStep) -> None:
        instance_uuid = dom.UUIDString()
        try:
            dest_conn = libvirt.open(uri)
        except libvirt.libvirtError as exc:
            raise LiveMigrationError(f'Cannot reach the libvirtd of {step.dest_host} at '
                                     f'{uri}: {exc}') from exc
        try:
            prepared = self._prepared_xml(dest_conn, instance_uuid, step)
            xml = destination_xml(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE), prepared)
            params = {libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml,
                      # The name the destination gave it (its own may be taken there).
                      libvirt.VIR_MIGRATE_PARAM_DEST_NAME:
                          ET.fromstring(prepared).findtext('name'),
                      # (else the destination keeps the source's definition)
                      libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: xml,
                      libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS: copied_disks(xml)}
            if CONF.libvirt.live_migration_bandwidth:
                params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = \
                    CONF.libvirt.live_migration_bandwidth
            with _outgoing_lock:
                if job.aborted:
                    raise LiveMigrationAborted(instance_uuid)
                job.started = True
            LOG.info('Live-migrating guest %s to %s (%s), disks %s', instance_uuid,
                     step.dest_host, uri, params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS])
            try:
                dom.migrateToURI3(uri, params, FLAGS)
            except libvirt.libvirtError as exc:
                if not self._arrived_after_all(dest_conn, instance_uuid):
                    self._stay_here(dom, job)
                    if job.aborted:
                        raise LiveMigrationAborted(instance_uuid) from exc
                    raise LiveMigrationError(f'Live migration of {instance_uuid} to '
                                             f'{step.dest_host} failed: {exc}') from exc
                LOG.warning('Live migration of %s reported %s, but the guest runs on %s',
                            instance_uuid, exc, step.dest_host)
            if job.paused_here:
                self._resume_there(dest_conn, instance_uuid)
        except LiveMigrationAborted:
            self._stay_here(dom, job)
            raise
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                dest_conn.close()

    def _prepared_xml(self, dest_conn: libvirt.virConnect, instance_uuid: str,
                      step: objects.MigrationStep) -> str:
        """The domain the destination's pre_live_migration defined for the guest."""
        try:
            there = dest_conn.lookupByUUIDString(instance_uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise
            raise LiveMigrationError(f'{step.dest_host} is not ready for guest '
                                     f'{instance_uuid} (no domain prepared there)') from exc
        if there.isActive():
            raise LiveMigrationError(f'Guest {instance_uuid} runs on {step.dest_host} '
                                     'already')
        return there.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)

    @staticmethod
    def _arrived_after_all(dest_conn: libvirt.virConnect, instance_uuid: str) -> bool:
        """Whether a migration libvirt reported failed ran to its end anyway (e.g. the
        source's clean-up failed): the guest is active there."""
        with contextlib.suppress(libvirt.libvirtError):
            there = dest_conn.lookupByUUIDString(instance_uuid)
            state = there.state()
            return bool(there.isActive()) and not (
                state[0] == libvirt.VIR_DOMAIN_PAUSED
                and state[1] in (libvirt.VIR_DOMAIN_PAUSED_MIGRATION,
                                 libvirt.VIR_DOMAIN_PAUSED_STARTING_UP))
        return False

    def _stay_here(self, dom: libvirt.virDomain, job: _Outgoing) -> None:
        """The guest stays: running again if force-complete paused it."""
        if not job.paused_here:
            return
        try:
            if self._state(dom) == libvirt.VIR_DOMAIN_PAUSED:
                dom.resume()
        except libvirt.libvirtError as exc:
            LOG.warning('Could not resume guest %s after its failed live migration: %s',
                        dom.UUIDString(), exc)

    @staticmethod
    def _resume_there(dest_conn: libvirt.virConnect, instance_uuid: str) -> None:
        """Force-complete paused the guest here; it was running: so it is there."""
        try:
            there = dest_conn.lookupByUUIDString(instance_uuid)
            if there.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
                there.resume()
        except libvirt.libvirtError as exc:
            LOG.warning('Could not resume guest %s at the destination: %s',
                        instance_uuid, exc)

    def _forget_migrated(self, instance_uuid: str, source_xml: str) -> None:
        """The guest runs elsewhere: its serial ports, any definition left and its
        files go from here (a failure is only logged: the guest is there)."""
        consoles.release_ports(source_xml)
        try:
            self._remove_domain(instance_uuid)   # (UNDEFINE_SOURCE did, normally)
        except Exception:
            LOG.exception('Removing the domain of %s after its live migration failed',
                          instance_uuid)
        path = self.instance_dir(instance_uuid)
        try:
            shutil.rmtree(path)
        except FileNotFoundError:
            pass
        except OSError:
            LOG.exception('Removing %s after its live migration failed', path)

    def live_migration_abort(self, instance_uuid: str) -> None:
        job = self._outgoing_job(instance_uuid)
        with _outgoing_lock:
            job.aborted = True
            if not job.started:
                return   # live_migration sees it before it begins
        deadline = time.monotonic() + ABORT_PATIENCE
        while True:
            try:
                job.dom.abortJob()
                LOG.info('Live migration of %s aborted', instance_uuid)
                return
            except libvirt.libvirtError as exc:
                # No job yet (libvirt is only beginning it), or no more (it ended).
                if (exc.get_error_code() != libvirt.VIR_ERR_OPERATION_INVALID
                        or job.done or time.monotonic() > deadline):
                    raise
            time.sleep(_POLL)

    def live_migration_force_complete(self, instance_uuid: str) -> None:
        job = self._outgoing_job(instance_uuid)
        if self._state(job.dom) != libvirt.VIR_DOMAIN_RUNNING:
            return   # paused already: its memory changes no more
        # (Marked first: a migration ending meanwhile resumes it at the destination.)
        job.paused_here = True
        try:
            job.dom.suspend()
        except libvirt.libvirtError:
            job.paused_here = False
            raise
        LOG.info('Guest %s paused so that its live migration completes', instance_uuid)

    def live_migration_progress(self, instance_uuid: str
                                ) -> objects.LiveMigrationProgress | None:
        """The job stats of the guest's outgoing migration (what Nova's monitor
        reads): libvirt's memory_* and disk_* counters, in bytes."""
        with _outgoing_lock:
            job = _outgoing.get((self.host, instance_uuid))
            if job is None or job.done or not job.started:
                return None
        try:
            stats = job.dom.jobStats()
        except libvirt.libvirtError as exc:
            LOG.debug('No job stats of the live migration of %s: %s', instance_uuid, exc)
            return None
        if stats.get('type', libvirt.VIR_DOMAIN_JOB_NONE) == libvirt.VIR_DOMAIN_JOB_NONE:
            return None   # (not begun yet, or over)
        return objects.LiveMigrationProgress(**{name: stats.get(name)
                                                for name in _PROGRESS_STATS})

    def _outgoing_job(self, instance_uuid: str) -> _Outgoing:
        with _outgoing_lock:
            job = _outgoing.get((self.host, instance_uuid))
        if job is None or job.done:
            raise LiveMigrationError(f'No live migration of {instance_uuid} runs on '
                                     f'{self.host}')
        return job
