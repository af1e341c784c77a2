"""Block device mappings of POST /servers, as Nova checks them.

Two steps, as in Nova. `from_request` reads the request's `block_device_mapping_v2`
(or legacy `block_device_mapping`) item by item (Nova's BlockDeviceDict.from_api):
a uuid where the source needs one, image->local only as the boot disk of an image
boot, no volume_type on local disks. Kumo has no volume service, so any mapping
that needs one (a volume or snapshot source, a volume destination) is refused here
with a 400 that says so. `check` then builds the list a server really gets (the
request's, plus the flavor's ephemeral and swap disks when the request has none, or
just the image disk for a plain image boot) and applies Nova's _validate_bdm:
boot sequence, the images named, disk bus, ephemeral and swap sizes against the
flavor, and `[DEFAULT] max_local_block_devices`. `rows` turns that list into the
block_device_mappings rows stored with the server.
"""
from __future__ import annotations

import uuid as uuidlib

from oslo_config import cfg

from kumo_api import errors
from kumo_api.schemas import types
from kumo_common import exceptions
from kumo_common import image as images
from kumo_common.db import models

CONF = cfg.CONF

NO_VOLUME_SERVICE = ('needs a volume service, which this deployment does not have: '
                     "only 'image' and 'blank' sources with destination_type 'local' "
                     'are supported.')
# nova.objects.fields.DiskBus.ALL
DISK_BUSES = ('fdc', 'ide', 'sata', 'scsi', 'usb', 'virtio', 'xen', 'lxc', 'uml')
_INVALID = 'Block Device Mapping is Invalid: '
_BOOT_SEQUENCE = ('Boot sequence for the instance and image/block device mapping '
                  'combination is not valid.')
# Mappings without an image to boot (Kumo cannot boot from a blank disk).
NOTHING_TO_BOOT = _INVALID + _BOOT_SEQUENCE


def _invalid(details: str) -> errors.BadRequest:
    return errors.BadRequest(_INVALID + details)


def _boot_index(bdm: dict) -> int | None:
    value = bdm.get('boot_index')
    if value is None:
        return None
    index = int(value)
    # The schema takes any digits; the column holds a 32-bit integer.
    if not -2 ** 31 <= index < 2 ** 31:
        raise _invalid('Boot index is invalid.')
    return index


def is_ephemeral(bdm: dict) -> bool:
    return (bdm.get('source_type') == 'blank' and bdm.get('destination_type') == 'local'
            and bdm.get('guest_format') != 'swap')


def is_swap(bdm: dict) -> bool:
    return (bdm.get('source_type') == 'blank' and bdm.get('destination_type') == 'local'
            and bdm.get('guest_format') == 'swap')


def _from_api(item: dict, image_uuid_specified: bool) -> dict:
    """One block_device_mapping_v2 item in Nova's internal form (image_id, ...)."""
    bdm = dict(item)
    if bdm.get('no_device'):
        bdm.pop('uuid', None)
        return bdm
    source = bdm.get('source_type')
    device_uuid = bdm.pop('uuid', None)
    # Not required by the schema; what the source implies.
    destination = bdm.setdefault(
        'destination_type', 'volume' if source in ('volume', 'snapshot') else 'local')
    volume_type = bdm.get('volume_type')
    if source == 'blank' and device_uuid:
        raise _invalid('Invalid device UUID.')
    if source != 'blank':
        if not device_uuid:
            raise _invalid('Missing device UUID.')
        if source is None:
            raise _invalid('Some required fields are missing')
        bdm[f'{source}_id'] = device_uuid
    if source == 'image' and destination == 'local':
        index = _boot_index(bdm)
        if not (image_uuid_specified and index == 0):
            raise _invalid('Mapping image to local is not supported.')
    if destination == 'local' and volume_type:
        raise _invalid('Specifying a volume_type with destination_type=local is not '
                       'supported.')
    if source == 'volume' and volume_type:
        raise _invalid('Specifying volume type to existing volume is not supported.')
    # Where Nova would talk to Cinder.
    if source in ('volume', 'snapshot'):
        raise _invalid(f"source_type '{source}' {NO_VOLUME_SERVICE}")
    if destination == 'volume':
        raise _invalid(f"destination_type 'volume' {NO_VOLUME_SERVICE}")
    if 'delete_on_termination' in bdm:
        bdm['delete_on_termination'] = types.to_bool(bdm['delete_on_termination'])
    if bdm.get('boot_index') is not None:
        bdm['boot_index'] = _boot_index(bdm)
    if bdm.get('volume_size') is not None:
        bdm['volume_size'] = int(bdm['volume_size'])
    return bdm


def from_request(server: dict) -> list[dict]:
    """The requested mappings, checked one by one; [] when the request has none."""
    legacy = server.get('block_device_mapping') or []
    new = server.get('block_device_mapping_v2') or []
    if legacy and new:
        raise errors.BadRequest('Using different block_device_mapping syntaxes is not '
                                'allowed in the same request.')
    if legacy:
        # Legacy mappings name volumes and snapshots; an entry that only suppresses a
        # device (no_device) or names an ephemeral/swap device by virtual_name needs
        # nothing Kumo lacks, and the flavor's disks stand for it.
        for item in legacy:
            if item.get('volume_id') or item.get('snapshot_id'):
                kind = 'volume_id' if item.get('volume_id') else 'snapshot_id'
                raise _invalid(f'a mapping with a {kind} {NO_VOLUME_SERVICE}')
        return []
    image_uuid_specified = server.get('imageRef') is not None
    return [_from_api(item, image_uuid_specified) for item in new]


def boot_image_id(bdms: list[dict]) -> str | None:
    """The image of the image->local boot disk (boot index 0), if there is one."""
    for bdm in bdms:
        if (bdm.get('source_type') == 'image' and bdm.get('destination_type') == 'local'
                and _boot_index(bdm) == 0):
            return bdm.get('image_id')
    return None


def image_bdm(image_id: str) -> dict:
    """nova.block_device.create_image_bdm."""
    return {'source_type': 'image', 'image_id': image_id, 'delete_on_termination': True,
            'boot_index': 0, 'device_type': 'disk', 'destination_type': 'local'}


def _blank_bdm(size: int, guest_format: str | None = None) -> dict:
    """nova.block_device.create_blank_bdm (a flavor's ephemeral or swap disk)."""
    return {'source_type': 'blank', 'delete_on_termination': True, 'device_type': 'disk',
            'boot_index': -1, 'destination_type': 'local', 'guest_format': guest_format,
            'volume_size': size}


def check(session, requested: list[dict], image_id: str | None,
          flavor: models.Flavor) -> list[dict]:
    """The mappings the server gets, validated as Nova's _validate_bdm does."""
    bdms = [b for b in requested if not b.get('no_device')]
    if not requested and image_id:
        # A plain image boot (Nova's legacy path): the image is the root disk.
        bdms = [image_bdm(image_id)]
    if flavor.ephemeral_gb and not any(is_ephemeral(b) for b in bdms):
        bdms.append(_blank_bdm(flavor.ephemeral_gb))
    if flavor.swap and not any(is_swap(b) for b in bdms):
        bdms.append(_blank_bdm(flavor.swap, 'swap'))

    indexes = sorted(i for i in (_boot_index(b) for b in bdms) if i is not None and i >= 0)
    if not indexes or any(i != v for i, v in enumerate(indexes)):
        raise _invalid(_BOOT_SEQUENCE)
    for bdm in bdms:
        other = bdm.get('image_id')
        if other and other != image_id:
            try:
                # (The request's token, for an image API: the current context.)
                images.api().get(None, other, visible=False, session=session)
            except (exceptions.ImageNotFound, exceptions.Forbidden) as exc:
                raise _invalid(f'failed to get image {other}.') from exc
        if bdm.get('disk_bus') and bdm['disk_bus'] not in DISK_BUSES:
            # Nova's InvalidBDMDiskBus misspells its message attribute, so the
            # generic InvalidBDM text is what its clients get.
            raise errors.BadRequest('Block Device Mapping is Invalid.')
    ephemeral = sum(b.get('volume_size') or flavor.ephemeral_gb
                    for b in bdms if is_ephemeral(b))
    if ephemeral > flavor.ephemeral_gb:
        raise errors.BadRequest('Ephemeral disks requested are larger than the instance '
                                'type allows. If no size is given in one block device '
                                'mapping, flavor ephemeral size will be used.')
    swaps = [b for b in bdms if is_swap(b)]
    if len(swaps) > 1:
        raise _invalid('More than one swap drive requested.')
    # Nova compares the swap disk's size with the flavor's swap as they are.
    if swaps and (swaps[0].get('volume_size') or 0) > flavor.swap:
        raise errors.BadRequest('Swap drive requested is larger than instance type '
                                'allows.')
    max_local = CONF.max_local_block_devices
    if max_local >= 0 and sum(b.get('destination_type') == 'local' for b in bdms) > max_local:
        raise _invalid('You specified more local devices than the limit allows')
    for bdm in bdms:
        # As Nova's _volume_size: a blank local disk without a size is as large as
        # the flavor's ephemeral disk (its swap, for swap).
        if bdm.get('volume_size') is None and bdm.get('source_type') == 'blank' and \
                bdm.get('destination_type') == 'local':
            bdm['volume_size'] = flavor.swap if is_swap(bdm) else flavor.ephemeral_gb
    return bdms


_COLUMNS = ('source_type', 'destination_type', 'device_name', 'boot_index', 'volume_size',
            'guest_format', 'device_type', 'disk_bus', 'image_id', 'volume_type', 'tag')


def rows(instance_uuid: str, bdms: list[dict]) -> list[models.BlockDeviceMapping]:
    return [models.BlockDeviceMapping(
        uuid=str(uuidlib.uuid4()), instance_uuid=instance_uuid,
        delete_on_termination=bool(b.get('delete_on_termination', False)),
        **{column: b.get(column) for column in _COLUMNS}) for b in bdms]
