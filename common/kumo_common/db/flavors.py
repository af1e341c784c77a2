"""Queries on flavors, their extra specs and which projects may use private ones."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models

# Columns a flavor list may be sorted by (Nova's VALID_SORT_KEYS).
SORT_KEYS = ('created_at', 'description', 'disabled', 'ephemeral_gb', 'flavorid', 'id',
             'is_public', 'memory_mb', 'name', 'root_gb', 'rxtx_factor', 'swap',
             'updated_at', 'vcpu_weight', 'vcpus')


def get_by_flavorid(session: orm.Session, flavorid: str) -> models.Flavor:
    flavor = session.scalars(sa.select(models.Flavor).where(
        models.Flavor.flavorid == str(flavorid))).first()
    if flavor is None:
        raise exceptions.FlavorNotFound(flavor_id=flavorid)
    return flavor


def _has_access(project_id: str | None):
    """SQL condition: the project was given access to the (private) flavor."""
    fp = models.FlavorProject
    return sa.exists().where(fp.flavor_id == models.Flavor.id, fp.project_id == project_id)


def _visible_to(project_id: str | None):
    """SQL condition: public, or private with access for the project."""
    return sa.or_(models.Flavor.is_public.is_(True), _has_access(project_id))


def get_visible(session: orm.Session, flavorid: str, project_id: str | None,
                is_admin: bool) -> models.Flavor:
    """A flavor the caller may see: admins see all; others public ones and private
    ones their project was given (FlavorNotFound otherwise, so that another
    project's private flavor does not even show that it exists)."""
    query = sa.select(models.Flavor).where(models.Flavor.flavorid == str(flavorid))
    if not is_admin:
        query = query.where(_visible_to(project_id))
    flavor = session.scalars(query).first()
    if flavor is None:
        raise exceptions.FlavorNotFound(flavor_id=flavorid)
    return flavor


def list_visible(session: orm.Session, project_id: str | None, is_admin: bool,
                 sort_key: str = 'flavorid', sort_dir: str = 'asc') -> list[models.Flavor]:
    """Every flavor the caller may see, sorted by [sort_key, id] in sort_dir."""
    column = getattr(models.Flavor, sort_key)
    order = (column.desc(), models.Flavor.id.desc()) if sort_dir == 'desc' \
        else (column.asc(), models.Flavor.id.asc())
    query = sa.select(models.Flavor).order_by(*order)
    if not is_admin:
        query = query.where(_visible_to(project_id))
    return list(session.scalars(query))


def accessible_ids(session: orm.Session, project_id: str | None) -> set[int]:
    """Ids of the flavors the project was given access to."""
    fp = models.FlavorProject
    return set(session.scalars(sa.select(fp.flavor_id).where(fp.project_id == project_id)))


def access_projects(session: orm.Session, flavor: models.Flavor) -> list[str]:
    """Projects given access to a flavor, in the order they were added."""
    fp = models.FlavorProject
    return list(session.scalars(sa.select(fp.project_id).where(fp.flavor_id == flavor.id)
                                .order_by(fp.id)))


def add_access(session: orm.Session, flavor: models.Flavor, project_id: str) -> None:
    fp = models.FlavorProject
    if session.scalars(sa.select(fp.id).where(fp.flavor_id == flavor.id,
                                              fp.project_id == project_id)).first():
        # Nova's access errors name the flavor's row id, not its flavorid.
        raise exceptions.FlavorAccessExists(flavor_id=flavor.id,
                                            project_id=project_id)
    session.add(fp(flavor_id=flavor.id, project_id=project_id))
    session.flush()


def remove_access(session: orm.Session, flavor: models.Flavor, project_id: str) -> None:
    fp = models.FlavorProject
    deleted = session.execute(sa.delete(fp).where(fp.flavor_id == flavor.id,
                                                  fp.project_id == project_id)).rowcount
    if not deleted:
        raise exceptions.FlavorAccessNotFound(flavor_id=flavor.id,
                                              project_id=project_id)


def create(session: orm.Session, name: str, memory_mb: int, vcpus: int, root_gb: int,
           flavorid: str, ephemeral_gb: int = 0, swap: int = 0, is_public: bool = True,
           description: str | None = None, extra_specs: dict | None = None,
           rxtx_factor: float = 1.0) -> models.Flavor:
    """Add a flavor; FlavorIdExists / FlavorExists (409) if the id or name is taken."""
    taken = session.execute(sa.select(models.Flavor.flavorid, models.Flavor.name).where(
        sa.or_(models.Flavor.name == name,
               models.Flavor.flavorid == str(flavorid)))).first()
    if taken is not None:
        if taken.flavorid == str(flavorid):
            raise exceptions.FlavorIdExists(flavor_id=flavorid)
        raise exceptions.FlavorExists(name=name)
    flavor = models.Flavor(name=name, memory_mb=memory_mb, vcpus=vcpus, root_gb=root_gb,
                           flavorid=str(flavorid), ephemeral_gb=ephemeral_gb, swap=swap,
                           is_public=is_public, description=description,
                           rxtx_factor=rxtx_factor)
    flavor.extra_specs = [models.FlavorExtraSpec(key=k, value=v)
                          for k, v in (extra_specs or {}).items()]
    session.add(flavor)
    try:
        # A concurrent create of the same name or id loses here, not at commit.
        session.flush()
    except sa.exc.IntegrityError as exc:
        raise exceptions.FlavorExists(name=name) from exc
    return flavor


def delete(session: orm.Session, flavor: models.Flavor) -> None:
    """Remove a flavor with its extra specs and access list (servers keep their copy)."""
    session.delete(flavor)  # extra specs and access rows go with it (cascade)
    session.flush()


def exists(session: orm.Session, name: str, flavorid: str) -> bool:
    return session.scalars(sa.select(models.Flavor.id).where(sa.or_(
        models.Flavor.name == name, models.Flavor.flavorid == str(flavorid)))).first() \
        is not None


def extra_specs(flavor: models.Flavor) -> dict[str, str]:
    return {spec.key: spec.value for spec in flavor.extra_specs}


def set_extra_specs(session: orm.Session, flavor: models.Flavor, specs: dict) -> None:
    """Create or update extra specs (values stored as strings, as Nova)."""
    current = {spec.key: spec for spec in flavor.extra_specs}
    for key, value in specs.items():
        if key in current:
            current[key].value = str(value)
        else:
            flavor.extra_specs.append(models.FlavorExtraSpec(key=key, value=str(value)))
    flavor.updated_at = models.utcnow()
    session.flush()


def delete_extra_spec(session: orm.Session, flavor: models.Flavor, key: str) -> bool:
    """Remove one extra spec; False if the flavor has no such key."""
    for spec in flavor.extra_specs:
        if spec.key == key:
            flavor.extra_specs.remove(spec)
            session.flush()
            return True
    return False


def snapshot(flavor: models.Flavor) -> dict:
    """The flavor as stored on an instance (shown from 2.47 even after deletion)."""
    return {'id': flavor.id, 'flavorid': flavor.flavorid, 'name': flavor.name,
            'vcpus': flavor.vcpus, 'memory_mb': flavor.memory_mb,
            'root_gb': flavor.root_gb, 'ephemeral_gb': flavor.ephemeral_gb,
            'swap': flavor.swap, 'rxtx_factor': flavor.rxtx_factor,
            'description': flavor.description,
            'extra_specs': {s.key: s.value for s in flavor.extra_specs}}
