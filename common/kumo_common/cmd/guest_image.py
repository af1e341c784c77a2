"""Importing the test guest (tools/build-test-guest.py) into the local image catalog.

Three images, booted the AMI way as Nova's libvirt driver boots them: the kernel
(aki), the initramfs (ari) and a tiny machine image (ami) whose kernel_id/ramdisk_id
properties point at the other two. Idempotent: an image already in the catalog is
updated in place when the guest was rebuilt (its file's checksum changed) or when it
was seeded without data (the placeholder `kumo-manage seed` makes).
"""
from __future__ import annotations

import json
import os

from kumo_common.db import images as image_db
from kumo_common.db import models, session

KERNEL_ID = '6f1c2a43-5b1e-4c7e-9d0a-6b8c0f6e4a11'
RAMDISK_ID = '0d6e3c52-8a7f-4b9e-a3c1-2f4e5d6c7b22'
NAME = 'kumo-test-guest'
# The guest's kernel command line: serial console only and a quiet kernel, so the
# console log shows what the guest's init prints. no_timer_check: under TCG on a
# busy host the kernel's check of the IO-APIC timer can miss its ticks and panic
# ("IO-APIC + timer doesn't work!"); cloud images boot with it for the same reason.
COMMAND_LINE = 'root=/dev/vda console=ttyS0 quiet no_timer_check'


class GuestImageError(Exception):
    pass


def _sync(image_id: str, name: str, path: str, md5: str, size: int, fmt: str,
          properties: dict) -> str | None:
    """Create or update one image; returns what it did, None if nothing changed."""
    with session.transaction() as s:
        image = s.get(models.Image, image_id)
        if image is None:
            image_db.create(s, image_id, name, status='active', visibility='public',
                            checksum=md5, size=size, disk_format=fmt, container_format=fmt,
                            location=path, properties=properties)
            return f'Imported image {name} ({image_id})'
        current = image_db.properties(image)
        if (image.location, image.checksum, image.size, image.name, image.disk_format) == (
                path, md5, size, name, fmt) and all(
                current.get(k) == str(v) for k, v in properties.items()):
            return None
        image.name = name
        image.location = path
        image.checksum = md5
        image.size = size
        image.disk_format = image.container_format = fmt
        image.status = 'active'
        # In place, not a new list: re-inserting a (image, name) pair before the old
        # row is deleted would break their unique constraint.
        by_name = {p.name: p for p in image.properties}
        for key, value in properties.items():
            if key in by_name:
                by_name[key].value = str(value)
            else:
                image.properties.append(models.ImageProperty(name=key, value=str(value)))
        return f'Updated image {name} ({image_id})'


def seed_guest(guest_dir: str, boot_image_id: str) -> list[str]:
    """Import the guest built in `guest_dir`; the machine image gets `boot_image_id`."""
    guest_dir = os.path.abspath(guest_dir)
    try:
        with open(os.path.join(guest_dir, 'manifest.json')) as f:
            files = json.load(f)['files']
    except (OSError, ValueError, KeyError) as exc:
        raise GuestImageError(f'No test guest in {guest_dir} (build it with '
                              f'tools/build-test-guest.py): {exc}') from exc

    def entry(role: str) -> tuple[str, str, int]:
        path = os.path.join(guest_dir, files[role]['file'])
        if os.path.getsize(path) != files[role]['size']:
            raise GuestImageError(f'{path} does not match {guest_dir}/manifest.json; '
                                  'rebuild the guest')
        return path, files[role]['md5'], files[role]['size']

    done = [
        _sync(KERNEL_ID, f'{NAME}-kernel', *entry('kernel'), 'aki', {}),
        _sync(RAMDISK_ID, f'{NAME}-ramdisk', *entry('ramdisk'), 'ari', {}),
        _sync(boot_image_id, NAME, *entry('disk'), 'ami', {
            'kernel_id': KERNEL_ID, 'ramdisk_id': RAMDISK_ID, 'architecture': 'x86_64',
            'hypervisor_type': 'qemu', 'os_command_line': COMMAND_LINE}),
    ]
    return [d for d in done if d]
