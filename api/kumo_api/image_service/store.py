"""The image service's file store: one file per image under [image_service]
store_path ($state_path/images), written from a request stream while hashing.

Data is written to a temporary file beside its final name and renamed into place
only once complete, so a reader never sees half an image and a failed upload
leaves nothing behind.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import urllib.parse
from collections.abc import Iterator
from typing import BinaryIO

from oslo_config import cfg

CONF = cfg.CONF

CHUNK = 1 << 16
HASH_ALGO = 'sha512'  # Glance's default os_hash_algo


class TooLarge(Exception):
    """The data is longer than [image_service] image_size_cap."""


class Incomplete(Exception):
    """The client sent fewer bytes than its Content-Length said."""


@dataclasses.dataclass
class Stored:
    path: str
    size: int
    checksum: str        # md5, Glance's `checksum`
    os_hash_value: str   # sha512, Glance's `os_hash_value`


def store_dir() -> str:
    return CONF.image_service.store_path or os.path.join(CONF.state_path, 'images')


def path_of(image_id: str) -> str:
    return os.path.join(store_dir(), image_id)


def is_ours(location: str | None) -> bool:
    """Whether a location is a file of the store (only those are deleted with their
    image: `kumo-manage image import` points at files it does not own)."""
    path = local_path(location)
    if path is None:
        return False
    return os.path.dirname(os.path.abspath(path)) == os.path.abspath(store_dir())


def local_path(location: str | None) -> str | None:
    """The local file of a location (a path or a file:// URL); None for others."""
    if not location:
        return None
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme in ('', 'file'):
        return parsed.path if parsed.scheme else location
    return None


def write(image_id: str, stream: BinaryIO, expected_size: int | None) -> Stored:
    """Copy `stream` to the image's file, hashing it on the way; at most
    image_size_cap bytes, and exactly `expected_size` when given."""
    directory = store_dir()
    os.makedirs(directory, exist_ok=True)
    cap = CONF.image_service.image_size_cap
    md5 = hashlib.md5(usedforsecurity=False)
    multihash = hashlib.new(HASH_ALGO)
    size = 0
    fd, tmp = tempfile.mkstemp(prefix=f'.{image_id}.', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise TooLarge()
                md5.update(chunk)
                multihash.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if expected_size is not None and size != expected_size:
            raise Incomplete()
        final = path_of(image_id)
        os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise
    return Stored(final, size, md5.hexdigest(), multihash.hexdigest())


def read(path: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    with open(path, 'rb') as f:
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                return
            yield chunk


def remove(location: str | None) -> None:
    """Delete an image's data if the store owns it."""
    if is_ours(location):
        _remove(local_path(location))


def _remove(path: str | None) -> None:
    if path:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
