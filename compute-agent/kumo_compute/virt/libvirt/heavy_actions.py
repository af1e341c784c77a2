"""The heavier server actions on libvirt (issue 7): the admin password (through the
QEMU guest agent), snapshot, rebuild, rescue/unrescue and shelve.

Each works on the guest's directory and domain as a spawn laid them out
(guest_layout): rebuild and rescue lay out a new domain with the same layout,
unrescue defines the saved libvirt.xml again.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable

import libvirt
from oslo_log import log as logging

from kumo_common import objects
from kumo_compute.virt.driver import image_result
from kumo_compute.virt.libvirt import config as vconfig
from kumo_compute.virt.libvirt import disk, domain_start, imagecache
from kumo_compute.virt.libvirt.guest_layout import EPHEMERAL_FILE

LOG = logging.getLogger(__name__)


class HeavyActions:
    """The libvirt driver's heavier actions (mixed into LibvirtDriver, whose domain
    lookup, define, layout and instance paths they use)."""

    def set_admin_password(self, instance_uuid: str, params: objects.ActionParams) -> None:
        """Through the QEMU guest agent, as Nova (the API refuses images without
        hw_qemu_guest_agent before asking; a guest without a running agent fails)."""
        dom = self._require(instance_uuid)
        dom.setUserPassword('root', params.admin_password or '', 0)

    def snapshot(self, instance_uuid: str, params: objects.ActionParams
                 ) -> objects.ActionResult:
        """The root disk (overlay + cached image) flattened into a standalone qcow2 at
        params.snapshot_path. A running guest is paused meanwhile (a cold snapshot, as
        Nova's without live snapshot support), so the copy is consistent."""
        dom = self._require(instance_uuid)
        root = os.path.join(self.instance_dir(instance_uuid), 'disk')
        paused_here = False
        if dom.isActive() and self._state(dom) == libvirt.VIR_DOMAIN_RUNNING:
            dom.suspend()
            paused_here = True
        try:
            virtual_size = disk.convert_to_image(root, params.snapshot_path)
        finally:
            if paused_here:
                dom.resume()
        LOG.info('Snapshot of guest %s written to %s', instance_uuid, params.snapshot_path)
        return image_result(params.snapshot_id, params.snapshot_path, 'qcow2', virtual_size)

    def rebuild(self, instance_uuid: str, params: objects.ActionParams) -> None:
        """The root disk made anew from the new image (ephemeral disk kept if asked),
        the config drive rewritten (new user_data, name...), the domain redefined and
        started (left off when the server was stopped, as Nova)."""
        build = params.build
        if build is None or build.image is None:
            raise imagecache.ImageError('Rebuild needs an image')
        dom = self._require(instance_uuid)
        if dom.isActive():
            dom.destroy()
        if dom.hasManagedSaveImage(0):
            dom.managedSaveRemove(0)
        path = self.instance_dir(instance_uuid)
        ephemerals = [n for n in os.listdir(path) if EPHEMERAL_FILE.match(n)]
        kept = []
        if params.preserve_ephemeral:
            for name in ephemerals:
                os.replace(os.path.join(path, name), os.path.join(path, name + '.preserved'))
                kept.append(name)
        for name in ('disk', *ephemerals, 'disk.swap', 'disk.config', 'kernel', 'ramdisk',
                     'console.log'):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(path, name))
        domain = self.layout.lay_out(build, path, self.node_uuid)
        for name in kept:
            os.replace(os.path.join(path, name + '.preserved'), os.path.join(path, name))
        dom = self._define(domain.to_xml(), save_in=path)
        if params.start:
            domain_start.start(dom)
        LOG.info('Guest %s rebuilt from image %s', instance_uuid, build.image.id)

    def rescue(self, instance_uuid: str, params: objects.ActionParams) -> None:
        """As Nova: the guest boots from a fresh disk of the rescue image (vda), with
        its own root disk second (vdb) and its config drive; the rescue files live in
        `<instance dir>/rescue/`, the guest's own domain XML stays in libvirt.xml."""
        build = params.build
        if build is None or build.image is None:
            raise imagecache.ImageError('Rescue needs an image')
        dom = self._require(instance_uuid)
        path = self.instance_dir(instance_uuid)
        rescue_dir = os.path.join(path, 'rescue')
        shutil.rmtree(rescue_dir, ignore_errors=True)
        os.makedirs(rescue_dir, mode=0o755)
        # The rescue system gets a root disk only (no ephemeral or swap of its own).
        flavor = objects.FlavorSpec(**{**build.flavor.__dict__, 'ephemeral_gb': 0,
                                       'swap': 0})
        rescue_build = objects.InstanceBuild(**{**build.__dict__, 'flavor': flavor,
                                                'block_devices': []})
        domain = self.layout.lay_out(rescue_build, rescue_dir, self.node_uuid)
        own = vconfig.Disk(os.path.join(path, 'disk'), 'vdb', bus='virtio')
        domain.disks.insert(1, own)
        domain.serials = [vconfig.FileSerial(self.console_log_path(instance_uuid))]
        if dom.isActive():
            dom.destroy()
        if dom.hasManagedSaveImage(0):
            dom.managedSaveRemove(0)
        dom = self._define(domain.to_xml())
        domain_start.start(dom)
        LOG.info('Guest %s rescued with image %s', instance_uuid, build.image.id)

    def unrescue(self, instance_uuid: str) -> None:
        dom = self._require(instance_uuid)
        path = self.instance_dir(instance_uuid)
        with open(os.path.join(path, 'libvirt.xml')) as f:
            xml = f.read()
        if dom.isActive():
            dom.destroy()
        dom = self._define(xml)
        domain_start.start(dom)
        shutil.rmtree(os.path.join(path, 'rescue'), ignore_errors=True)
        LOG.info('Guest %s unrescued', instance_uuid)

    def shelve(self, instance_uuid: str, params: objects.ActionParams,
               progress: Callable[[str], None] | None = None) -> objects.ActionResult:
        """As the base class (power off, the root disk into the shelve image, the
        offload if asked); a suspended guest's saved memory is dropped first, since a
        shelved server keeps its disks only (as Nova's)."""
        dom = self._require(instance_uuid)
        if not dom.isActive() and dom.hasManagedSaveImage(0):
            dom.managedSaveRemove(0)
        return super().shelve(instance_uuid, params, progress)
