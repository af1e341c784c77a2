"""Queries on flavors."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models


def get_by_flavorid(session: orm.Session, flavorid: str) -> models.Flavor:
    flavor = session.scalars(sa.select(models.Flavor).where(
        models.Flavor.flavorid == str(flavorid))).first()
    if flavor is None:
        raise exceptions.FlavorNotFound(flavor_id=flavorid)
    return flavor


def create(session: orm.Session, name: str, memory_mb: int, vcpus: int, root_gb: int,
           flavorid: str, ephemeral_gb: int = 0, swap: int = 0, is_public: bool = True,
           description: str | None = None, extra_specs: dict | None = None
           ) -> models.Flavor:
    flavor = models.Flavor(name=name, memory_mb=memory_mb, vcpus=vcpus, root_gb=root_gb,
                           flavorid=str(flavorid), ephemeral_gb=ephemeral_gb, swap=swap,
                           is_public=is_public, description=description)
    flavor.extra_specs = [models.FlavorExtraSpec(key=k, value=v)
                          for k, v in (extra_specs or {}).items()]
    session.add(flavor)
    session.flush()
    return flavor


def exists(session: orm.Session, name: str, flavorid: str) -> bool:
    return session.scalars(sa.select(models.Flavor.id).where(sa.or_(
        models.Flavor.name == name, models.Flavor.flavorid == str(flavorid)))).first() \
        is not None


def snapshot(flavor: models.Flavor) -> dict:
    """The flavor as stored on an instance (shown from 2.47 even after deletion)."""
    return {'id': flavor.id, 'flavorid': flavor.flavorid, 'name': flavor.name,
            'vcpus': flavor.vcpus, 'memory_mb': flavor.memory_mb,
            'root_gb': flavor.root_gb, 'ephemeral_gb': flavor.ephemeral_gb,
            'swap': flavor.swap, 'rxtx_factor': flavor.rxtx_factor,
            'description': flavor.description,
            'extra_specs': {s.key: s.value for s in flavor.extra_specs}}
