"""Instance disks: qcow2 overlays on cached images, sized by the flavor.

The root disk is an overlay on the cached image, grown to the flavor's root_gb (or the
image's own size when root_gb is 0, as Nova). Ephemeral and swap disks (the flavor's,
or those block_device_mapping_v2 asked for) are overlays on formatted blank bases kept
in the cache beside the images (``ephemeral_<GB>_<fs>``, ``swap_<MB>``), as Nova's
Qcow2 image backend makes them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

GiB = 1 << 30
MiB = 1 << 20


class DiskError(Exception):
    pass


def _run(argv: list[str]) -> str:
    try:
        # stdin closed: a tool that asks a question must fail, not wait for an answer.
        return subprocess.run(argv, check=True, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300).stdout
    except FileNotFoundError as exc:
        raise DiskError(f'{argv[0]} is not installed') from exc
    except subprocess.CalledProcessError as exc:
        raise DiskError(f'{" ".join(argv)} failed: {exc.stderr.strip()}') from exc


def image_info(path: str) -> dict:
    """qemu-img's view of a file: format and virtual size."""
    return json.loads(_run(['qemu-img', 'info', '--output=json', '-U', path]))


def qemu_format(disk_format: str | None) -> str:
    """The QEMU format of a catalog disk_format (ami, raw, iso... are raw bytes)."""
    return 'qcow2' if disk_format == 'qcow2' else 'raw'


def create_overlay(base: str, base_format: str, path: str, size_bytes: int = 0) -> int:
    """A qcow2 file backed by `base`, at least as large as it. Returns its size."""
    virtual = int(image_info(base)['virtual-size'])
    size = max(size_bytes, virtual)
    _run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', base_format, '-b', base,
          path, str(size)])
    return size


def _make_base(path: str, size_bytes: int, formatter: list[str] | None) -> None:
    """A sparse raw file of `size_bytes`, formatted by `formatter` + [file], made once."""
    if os.path.exists(path):
        return
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=directory)
    try:
        os.ftruncate(fd, size_bytes)
        os.close(fd)
        if formatter and shutil.which(formatter[0]):
            _run(formatter + [tmp])
        elif formatter:
            LOG.warning('%s is not installed; %s stays unformatted', formatter[0], path)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _mkfs(fs: str, label: str) -> list[str] | None:
    """The command (before the file's name) that makes file system `fs`; None for
    a format Kumo does not know (the disk stays blank, as a guest may want)."""
    if fs in ('ext2', 'ext3', 'ext4'):
        command = [f'mkfs.{fs}', '-q', '-F', '-L', label]
        # Lazy init: a large ephemeral disk is formatted in a moment.
        return command + (['-E', 'lazy_itable_init=1,lazy_journal_init=1']
                          if fs == 'ext4' else [])
    return {'xfs': ['mkfs.xfs', '-q', '-f', '-L', label],
            'vfat': ['mkfs.vfat', '-n', label[:11].upper()],
            'ntfs': ['mkfs.ntfs', '-F', '-Q', '-L', label]}.get(fs)


def ephemeral_base(base_dir: str, size_gb: int, fs: str,
                   label: str = 'ephemeral0') -> str:
    """A formatted blank base of `size_gb` (file system `fs`, labelled `label`, as
    Nova labels an instance's n-th ephemeral disk ephemeral<n>)."""
    formatter = _mkfs(fs, label)
    if formatter is None:
        # (guest_format is the user's text: it never becomes part of a path.)
        LOG.warning('Unknown ephemeral disk format %r; the disk stays unformatted', fs)
        fs = 'none'
    name = f'ephemeral_{size_gb}_{fs}'
    if label != 'ephemeral0':
        name += f'_{label}'
    path = os.path.join(base_dir, name)
    _make_base(path, size_gb * GiB, formatter)
    return path


def swap_base(base_dir: str, size_mb: int) -> str:
    path = os.path.join(base_dir, f'swap_{size_mb}')
    _make_base(path, size_mb * MiB, ['mkswap', '-L', 'swap0'])
    return path


def convert_to_image(source: str, target: str) -> int:
    """Flatten `source` (an overlay and its backing chain) into a standalone qcow2 at
    `target`, written beside it and renamed into place; returns its virtual size.
    `-U`: a running guest's QEMU holds the disk's lock (the caller pauses it first,
    so the copy is consistent)."""
    directory = os.path.dirname(target)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(target) + '.', dir=directory)
    os.close(fd)
    try:
        _run(['qemu-img', 'convert', '-U', '-O', 'qcow2', source, tmp])
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return int(image_info(target)['virtual-size'])


def grow(path: str, size_bytes: int) -> bool:
    """Grow a disk image to `size_bytes` (never shrinks it); True if it grew."""
    if int(image_info(path)['virtual-size']) >= size_bytes:
        return False
    _run(['qemu-img', 'resize', '-q', path, str(size_bytes)])
    return True


def backing_of(path: str) -> tuple[str | None, str | None]:
    """(backing file, its format) of an overlay, (None, None) for a standalone image."""
    info = image_info(path)
    return (info.get('full-backing-filename') or info.get('backing-filename'),
            info.get('backing-filename-format'))


def rebase_in_place(path: str, backing: str, backing_format: str) -> None:
    """Point an overlay at another copy of the same backing image (no data moves:
    `-u`, the two copies are the same bytes)."""
    _run(['qemu-img', 'rebase', '-q', '-u', '-f', 'qcow2', '-F', backing_format, '-b',
          backing, path])
