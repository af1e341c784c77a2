"""The node's image cache: each image is fetched once into `<instances_path>/_base/`
and verified against the catalog's checksum before any guest uses it.

An image's location is a local file path (the local catalog: Kumo's own image
service's file store) or an image API URL (an external Glance: GET
/v2/images/{id}/file, with the requesting user's token; kumo_common.image.glance).
Fetches of one image are serialised (in this process by a lock, across processes by
writing to a temporary name and renaming), so concurrent builds of one image copy it
once.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections import defaultdict
from urllib.parse import urlparse

from oslo_config import cfg
from oslo_log import log as logging

from kumo_common import image as image_api
from kumo_common import objects
from kumo_common.image import glance

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
_locks_guard = threading.Lock()


class ImageError(Exception):
    """An image cannot be used on this node (no data, unreadable, bad checksum)."""


def _lock(path: str) -> threading.Lock:
    with _locks_guard:
        return _locks[path]


def file_checksum(path: str, algorithm: str) -> str:
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_algorithm(checksum: str) -> str:
    """Glance's `checksum` is md5; accept the longer os_hash algorithms by length."""
    return {32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512'}.get(len(checksum), 'md5')


def is_remote(image: objects.ImageSpec) -> bool:
    """Whether the image's data is behind an image API (an external Glance)."""
    return urlparse(image.location or '').scheme in ('http', 'https')


def source_path(image: objects.ImageSpec) -> str:
    location = image.location
    if not location:
        raise ImageError(f'Image {image.id} ({image.name}) has no data to boot from')
    parsed = urlparse(location)
    if parsed.scheme in ('', 'file'):
        return parsed.path if parsed.scheme else location
    raise ImageError(f'Image {image.id}: location scheme {parsed.scheme!r} is not supported')


def download_url(image: objects.ImageSpec) -> str:
    """Where this node downloads a remote image: its own [glance] endpoint's file URL
    (the control plane may reach Glance by another address), else the location."""
    endpoint = image_api.endpoint()
    if endpoint:
        return glance.GlanceClient(endpoint).file_url(image.id)
    return image.location


def _copy_into(image: objects.ImageSpec, out) -> str:
    """Write the image's data to `out`; returns where it came from (for messages)."""
    if is_remote(image):
        url = download_url(image)
        try:
            # (None: the token of the request being handled, if any.)
            client = glance.GlanceClient(image_api.endpoint() or url)
            for chunk in client.download(None, image.id, url):
                out.write(chunk)
        except Exception as exc:  # the image API's errors, whatever their class
            raise ImageError(f'Image {image.id}: cannot download {url}: {exc}') from exc
        return url
    source = source_path(image)
    with open(source, 'rb') as src:
        shutil.copyfileobj(src, out, 1 << 20)
    return source


class ImageCache:
    def __init__(self, base_dir: str):
        self.base_dir = base_dir

    def path_for(self, image_id: str) -> str:
        return os.path.join(self.base_dir, image_id)

    def fetch(self, image: objects.ImageSpec) -> str:
        """The cached, verified copy of `image`; fetched now if not cached yet."""
        target = self.path_for(image.id)
        with _lock(target):
            if os.path.exists(target) and self._cached_matches(target, image):
                return target
            os.makedirs(self.base_dir, mode=0o755, exist_ok=True)
            source = download_url(image) if is_remote(image) else source_path(image)
            LOG.info('Fetching image %s (%s) into the cache from %s', image.id,
                     image.name, source)
            fd, tmp = tempfile.mkstemp(prefix=f'.{image.id}.', dir=self.base_dir)
            try:
                with os.fdopen(fd, 'wb') as out:
                    _copy_into(image, out)
                self._verify(tmp, image)
                # Readable by QEMU (it runs as another user) through the backing chain.
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            except OSError as exc:
                raise ImageError(f'Image {image.id}: cannot fetch {source}: {exc}') from exc
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            self._remember(target, image)
            return target

    @staticmethod
    def _verify(path: str, image: objects.ImageSpec) -> None:
        if image.size and os.path.getsize(path) != image.size:
            raise ImageError(f'Image {image.id}: got {os.path.getsize(path)} bytes, the '
                             f'catalog says {image.size}')
        if image.checksum:
            algorithm = checksum_algorithm(image.checksum)
            actual = file_checksum(path, algorithm)
            if actual != image.checksum.lower():
                raise ImageError(f'Image {image.id}: {algorithm} checksum {actual} does not '
                                 f'match the catalog\'s {image.checksum}')

    # A side file records the checksum a cached copy was verified against, so a
    # cache hit costs a stat and a small read rather than hashing the image again.
    @staticmethod
    def _stamp(target: str) -> str:
        return target + '.checksum'

    def _remember(self, target: str, image: objects.ImageSpec) -> None:
        with open(self._stamp(target), 'w') as f:
            f.write(f'{image.checksum or ""} {os.path.getsize(target)}\n')

    def _cached_matches(self, target: str, image: objects.ImageSpec) -> bool:
        try:
            with open(self._stamp(target)) as f:
                checksum, _, size = f.read().strip().partition(' ')
        except OSError:
            return False
        return checksum == (image.checksum or '') and size == str(os.path.getsize(target))
