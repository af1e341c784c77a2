"""Does a flavor fit an image? Nova's checks, order and words (its compute API's
flavor/image validation: FlavorMemoryTooSmall, FlavorDiskSmallerThanImage,
FlavorDiskSmallerThanMinDisk, each a 400), for create, rebuild and resize alike.

A root disk of 0 GB is not compared (Nova's legacy meaning: the image's size). The
image's own size counts where Nova has the image itself (create, rebuild); a resize
compares only the minimums (Nova reads them from the server's system metadata, which
keeps no size).
"""
from __future__ import annotations

from kumo_api import errors
from kumo_common import image as images

GiB = 1024 ** 3


def check(image: images.Image | None, memory_mb: int, root_gb: int,
          with_size: bool = True) -> None:
    """400 (Nova's message) if a flavor of `memory_mb` / `root_gb` is too small for
    `image` (None: nothing to check)."""
    if image is None:
        return
    if (image.min_ram or 0) > (memory_mb or 0):
        raise errors.BadRequest("Flavor's memory is too small for requested image.")
    if not root_gb:
        return
    disk = root_gb * GiB
    size = (image.size or 0) if with_size else 0
    if size > disk:
        raise errors.BadRequest(
            "Flavor's disk is too small for requested image. "
            f'Flavor disk is {disk} bytes, image is {size} bytes.')
    min_disk = (image.min_disk or 0) * GiB
    if min_disk > disk:
        raise errors.BadRequest(
            "Flavor's disk is smaller than the minimum size specified in image metadata. "
            f'Flavor disk is {disk} bytes, minimum size is {min_disk} bytes.')
