"""The request spec of a server placed again (a resize or cold migration, an
evacuation, a live migration, an unshelve): the one stored at its creation (its
hints, group and availability zone still count), for this server only."""
from __future__ import annotations

from kumo_common import objects, resize
from kumo_common.db import models


def stored(s, instance: models.Instance, flavor: objects.FlavorSpec
           ) -> objects.RequestSpec:
    """The spec its create stored (one with its project, user and pinned zone when
    none was), for this server and `flavor`."""
    record = s.query(models.RequestSpecRecord).filter_by(
        instance_uuid=instance.uuid).first()
    if record is not None:
        spec = objects.Payload.from_primitive(record.spec)
    else:
        spec = objects.RequestSpec(instance_uuids=[], project_id=instance.project_id,
                                   user_id=instance.user_id, flavor=flavor,
                                   availability_zone=instance.pinned_availability_zone)
    spec.instance_uuids = [instance.uuid]
    spec.flavor = flavor
    return spec


def for_another_host(s, instance: models.Instance, host: str | None, force: bool
                     ) -> objects.RequestSpec:
    """A move with its own flavor (evacuation, live migration): never its current
    host, and only the destination this request names (a create's forced host is
    not the move's): `host`, if given, checked by the filters, or taken as it is
    when `force` (as Nova's reset_forced_destinations and requested_destination)."""
    spec = stored(s, instance, resize.flavor_spec(instance.flavor or {}))
    spec.ignore_hosts = [instance.host] if instance.host else []
    spec.force_hosts, spec.force_nodes = ([host], []) if host and force else ([], [])
    spec.requested_destination = {'host': host, 'node': None} if host and not force \
        else None
    return spec
