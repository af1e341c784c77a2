"""Resize on libvirt (compute RPC 1.5): the steps the conductor drives.

The source puts the guest's directory aside as `<uuid>_resize` (the domain's
own XML saved in it as libvirt.xml) and undefines the domain; the destination
makes `<uuid>` anew for the new flavor (config drive, kernel... as a spawn would)
with the guest's own disks copied from the directory put aside: each overlay
rebased onto the destination's copy of the same image, the root disk grown to
the new root_gb. Confirm deletes `<uuid>_resize`; revert destroys the new guest
and puts `<uuid>_resize` back as `<uuid>`, redefining the saved domain.

This is correct whether the two agents have their own instances_path (agents of
one machine, each under its state_path: the destination reads the source's
directory by its path) or share one (the renamed directory keeps the old guest
out of the new one's way), and for a resize on the same host. Agents on
different machines would need the instances path shared, as Nova's shared
storage; without it the destination fails the step and the resize is rolled
back.
"""
from __future__ import annotations

import contextlib
import os
import shutil

import libvirt
from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import objects
from kumo_compute.virt.libvirt import disk, domain_start, imagecache
from kumo_compute.virt.libvirt.guest_layout import EPHEMERAL_FILE, GuestNotFound

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class ResizeSteps:
    """The libvirt driver's resize steps (mixed into LibvirtDriver, whose domain
    lookup, clean shutdown, define and layout they use)."""

    def resize_dir(self, instance_uuid: str) -> str:
        return self.instance_dir(instance_uuid) + '_resize'

    def migrate_disk_and_power_off(self, instance_uuid: str,
                                   step: objects.MigrationStep) -> str | None:
        path = self.instance_dir(instance_uuid)
        aside = self.resize_dir(instance_uuid)
        dom = self._lookup(instance_uuid)
        if dom is None:
            if os.path.isdir(aside):
                return aside   # done already (the step was delivered again)
            raise GuestNotFound(f'Guest {instance_uuid} has no domain on {self.host}')
        was_active = bool(dom.isActive())
        if was_active and not self._clean_shutdown(dom, CONF.shutdown_timeout):
            with contextlib.suppress(libvirt.libvirtError):
                dom.destroy()
        if dom.hasManagedSaveImage(0):
            dom.managedSaveRemove(0)
        if os.path.isdir(path):
            xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            with open(os.path.join(path, 'libvirt.xml'), 'w') as f:
                f.write(xml)
            shutil.rmtree(aside, ignore_errors=True)   # a failed resize's leftovers
            os.rename(path, aside)
        elif not os.path.isdir(aside):
            raise GuestNotFound(f'The files of guest {instance_uuid} are gone from '
                                f'{path}')
        # (else: put aside already by an attempt the agent did not finish, e.g. it
        # restarted: only the undefine is left to do.)
        try:
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                              | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                              | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        except libvirt.libvirtError:
            # Nothing moved, then: the guest as it was.
            os.rename(aside, path)
            if was_active:
                domain_start.start(dom)
            raise
        LOG.info('Guest %s powered off for its resize; its files are in %s',
                 instance_uuid, aside)
        return aside

    def finish_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        build = step.build
        if build is None or build.image is None:
            raise imagecache.ImageError('Resize needs the server\'s image (it may have '
                                        'been deleted)')
        source = step.source_path
        if not source or not os.path.isfile(os.path.join(source, 'disk')):
            raise disk.DiskError(f'The disks of {instance_uuid} put aside on '
                                 f'{step.source_host} ({source}) are not reachable from '
                                 f'{self.host}: resizing to another machine needs a '
                                 'shared instances_path')
        path = self.instance_dir(instance_uuid)
        if os.path.realpath(path) == os.path.realpath(source):
            raise disk.DiskError(f'{path} is where the old guest was put aside')
        self._remove_domain(instance_uuid)   # an earlier attempt's
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, mode=0o755)
        try:
            domain = self.layout.lay_out(build, path, self.node_uuid)
            for name in sorted(os.listdir(path)):
                if name != 'disk' and not EPHEMERAL_FILE.match(name):
                    continue
                old = os.path.join(source, name)
                if not os.path.isfile(old):
                    continue   # a disk the old flavor did not have stays new
                target = os.path.join(path, name)
                backing, backing_format = disk.backing_of(target)
                part = target + '.part'
                shutil.copyfile(old, part)
                if backing:
                    disk.rebase_in_place(part, backing, backing_format or 'raw')
                os.replace(part, target)
            root = os.path.join(path, 'disk')
            if disk.grow(root, build.flavor.root_gb * disk.GiB):
                LOG.info('Root disk of %s grown to %d GiB', instance_uuid,
                         build.flavor.root_gb)
            dom = self._define(domain.to_xml(), save_in=path)
            if step.start:
                domain_start.start(dom)
        except Exception:
            # Nothing half made stays (the source's files are untouched).
            with contextlib.suppress(Exception):
                self._remove_domain(instance_uuid)
            shutil.rmtree(path, ignore_errors=True)
            raise
        LOG.info('Guest %s resized to flavor %s (%d vCPUs, %d MiB) on %s', instance_uuid,
                 build.flavor.name, build.flavor.vcpus, build.flavor.memory_mb, self.host)

    def confirm_migration(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        shutil.rmtree(self.resize_dir(instance_uuid), ignore_errors=True)
        LOG.info('Resize of %s confirmed: its old files on %s are gone', instance_uuid,
                 self.host)

    def destroy_migrated(self, instance_uuid: str, step: objects.MigrationStep) -> None:
        self._remove_domain(instance_uuid)
        path = self.instance_dir(instance_uuid)
        if step.source_path and os.path.realpath(path) == os.path.realpath(step.source_path):
            return   # never the old guest's files
        shutil.rmtree(path, ignore_errors=True)

    def finish_revert_migration(self, instance_uuid: str,
                                step: objects.MigrationStep) -> None:
        path = self.instance_dir(instance_uuid)
        aside = self.resize_dir(instance_uuid)
        if os.path.isdir(aside):
            shutil.rmtree(path, ignore_errors=True)
            os.rename(aside, path)
        elif not os.path.isdir(path):
            raise GuestNotFound(f'Nothing of {instance_uuid} was put aside on {self.host}')
        with open(os.path.join(path, 'libvirt.xml')) as f:
            xml = f.read()
        dom = self._define(xml)
        if step.start and not dom.isActive():
            domain_start.start(dom)
        LOG.info('Resize of %s reverted on %s', instance_uuid, self.host)
