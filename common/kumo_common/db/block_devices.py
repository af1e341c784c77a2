"""The block_device_mappings of a server (stored by the API at create), and the form
compute agents get them in."""
from __future__ import annotations

from kumo_common import objects
from kumo_common.db import models


def for_instance(session, instance_uuid: str) -> list[models.BlockDeviceMapping]:
    """The server's mappings in the order they were requested (the order Nova's
    libvirt driver gives ephemeral disks their names)."""
    return (session.query(models.BlockDeviceMapping)
            .filter_by(instance_uuid=instance_uuid)
            .order_by(models.BlockDeviceMapping.id).all())


def local_specs(session, instance_uuid: str) -> list[objects.BlockDeviceSpec]:
    """The server's local disks as an InstanceBuild carries them."""
    return [objects.BlockDeviceSpec(
        source_type=row.source_type, destination_type=row.destination_type,
        device_name=row.device_name, boot_index=row.boot_index,
        volume_size=row.volume_size, guest_format=row.guest_format,
        device_type=row.device_type, disk_bus=row.disk_bus)
        for row in for_instance(session, instance_uuid)
        if row.destination_type == 'local' and not row.no_device]
