"""Queries on the image catalog: the compute images proxy, the image service and
kumo-manage all read and write these rows."""
from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import keyset, models


def get(session: orm.Session, image_id: str) -> models.Image:
    image = session.get(models.Image, image_id)
    if image is None:
        raise exceptions.ImageNotFound(image_id=image_id)
    return image


def list_images(session: orm.Session, project_id: str | None = None,
                is_admin: bool = True) -> list[models.Image]:
    """Every image the caller may see (visible_to), newest first."""
    return list(session.scalars(sa.select(models.Image).where(
        visible_to(project_id, is_admin)).order_by(
        models.Image.created_at.desc(), models.Image.id)))


def create(session: orm.Session, image_id: str, name: str, status: str = 'active',
           **fields) -> models.Image:
    properties = fields.pop('properties', {}) or {}
    image = models.Image(id=image_id, name=name, status=status, **fields)
    image.properties = [models.ImageProperty(name=k, value=str(v))
                        for k, v in properties.items()]
    session.add(image)
    session.flush()
    return image


def properties(image: models.Image) -> dict:
    return {p.name: p.value for p in image.properties}


def properties_by_image(session: orm.Session, image_ids: set[str]) -> dict[str, dict]:
    """{image id: {property: value}} for several images in one query."""
    result: dict[str, dict] = {}
    if not image_ids:
        return result
    for image_id, name, value in session.execute(
            sa.select(models.ImageProperty.image_id, models.ImageProperty.name,
                      models.ImageProperty.value)
            .where(models.ImageProperty.image_id.in_(image_ids))):
        result.setdefault(image_id, {})[name] = value
    return result


# --- the image service (Glance v2) ------------------------------------------------------

_EPOCH = datetime.datetime(1970, 1, 1)
# Sort keys Glance accepts, with what stands in for NULL (keyset.SortKey).
SORT_KEYS = {
    'name': keyset.SortKey(models.Image.name, ''),
    'status': keyset.SortKey(models.Image.status),
    'container_format': keyset.SortKey(models.Image.container_format, ''),
    'disk_format': keyset.SortKey(models.Image.disk_format, ''),
    'size': keyset.SortKey(models.Image.size, -1),
    'virtual_size': keyset.SortKey(models.Image.virtual_size, -1),
    'id': keyset.SortKey(models.Image.id),
    'created_at': keyset.SortKey(models.Image.created_at, _EPOCH),
    'updated_at': keyset.SortKey(models.Image.updated_at, _EPOCH),
    'min_disk': keyset.SortKey(models.Image.min_disk),
    'min_ram': keyset.SortKey(models.Image.min_ram),
    'visibility': keyset.SortKey(models.Image.visibility),
    'owner': keyset.SortKey(models.Image.owner, ''),
}
# Columns a list may be filtered on by exact value (or "in:a,b").
FILTER_COLUMNS = {
    'id': models.Image.id, 'name': models.Image.name, 'status': models.Image.status,
    'owner': models.Image.owner, 'disk_format': models.Image.disk_format,
    'container_format': models.Image.container_format,
}


def visible_to(project_id: str | None, is_admin: bool):
    """Who may see an image at all (show, download, boot): admins see every image;
    others the public and community ones and their project's own. (Image members
    are not implemented, so a shared image is its owner's alone.)"""
    if is_admin:
        return sa.true()
    return sa.or_(models.Image.visibility.in_(('public', 'community')),
                  models.Image.owner == project_id)


def listed_for(project_id: str | None, is_admin: bool, visibility: str | None):
    """Which images a list shows, as Glance: without a visibility filter the public
    ones and the caller's own (community images of others only when asked for);
    admins see everything."""
    own = sa.true() if is_admin else models.Image.owner == project_id
    if visibility is None:
        return sa.true() if is_admin else sa.or_(models.Image.visibility == 'public', own)
    if visibility == 'all':
        return visible_to(project_id, is_admin)
    clause = models.Image.visibility == visibility
    if visibility in ('private', 'shared'):
        clause = sa.and_(clause, own)
    return clause


def get_visible(session: orm.Session, image_id: str, project_id: str | None,
                is_admin: bool, for_update: bool = False) -> models.Image:
    """The image if the caller may see it, else ImageNotFound (never 403: an image
    one cannot see does not exist)."""
    query = sa.select(models.Image).where(models.Image.id == image_id,
                                          visible_to(project_id, is_admin))
    if for_update:
        query = query.with_for_update()
    image = session.scalars(query).first()
    if image is None:
        raise exceptions.ImageNotFound(image_id=image_id)
    return image


def query_images(session: orm.Session, *, project_id: str | None, is_admin: bool,
                 visibility: str | None = None, columns: dict | None = None,
                 properties: dict | None = None, tags: list | None = None,
                 hidden: bool = False, sort: list[tuple[str, str]] | None = None,
                 marker: str | None = None, limit: int = 25) -> list[models.Image]:
    """One page of the images the caller may list.

    `columns`: {column name: [values]} (any of FILTER_COLUMNS; one value is an
    exact match, several an IN); `properties`: {custom property: value}; `tags`:
    every one must be on the image; `hidden`: list only os_hidden images (Glance
    lists only the others unless asked). `sort`: [(SORT_KEYS key, 'asc'|'desc')].
    Raises ImageNotFound when the marker is not an image the caller may list.
    """
    where = [listed_for(project_id, is_admin, visibility),
             models.Image.os_hidden.is_(bool(hidden))]
    for name, values in (columns or {}).items():
        column = FILTER_COLUMNS[name]
        where.append(column == values[0] if len(values) == 1 else column.in_(values))
    for name, value in (properties or {}).items():
        where.append(sa.exists().where(models.ImageProperty.image_id == models.Image.id,
                                       models.ImageProperty.name == name,
                                       models.ImageProperty.value == value))
    for tag in tags or []:
        where.append(sa.exists().where(models.ImageTag.image_id == models.Image.id,
                                       models.ImageTag.tag == tag))
    keys = [(SORT_KEYS[k], d) for k, d in (sort or [('created_at', 'desc')]) if k != 'id']
    keys.append((SORT_KEYS['id'], (sort or [('', 'desc')])[-1][1]))
    query = sa.select(models.Image).where(*where)
    if marker:
        query = keyset.after(session, query, keys, models.Image.id, marker)
        if query is None:
            raise exceptions.ImageNotFound(image_id=marker)
    return list(session.scalars(keyset.order(query, keys).limit(limit)))


def set_properties(session: orm.Session, image: models.Image, values: dict) -> None:
    """Make the image's custom properties exactly `values`."""
    current = {p.name: p for p in image.properties}
    for name, prop in current.items():
        if name not in values:
            image.properties.remove(prop)
    # The removals first: a property removed and added back in one request must not
    # meet its old row in the unique constraint.
    session.flush()
    for name, value in values.items():
        if name in current:
            current[name].value = None if value is None else str(value)
        else:
            image.properties.append(models.ImageProperty(
                name=name, value=None if value is None else str(value)))


def set_tags(image: models.Image, tags: list[str]) -> None:
    wanted = list(dict.fromkeys(tags))
    image.tags = [t for t in image.tags if t.tag in wanted] + [
        models.ImageTag(tag=t) for t in wanted if t not in {x.tag for x in image.tags}]


def tag_names(image: models.Image) -> list[str]:
    return sorted(t.tag for t in image.tags)


def change_status(session: orm.Session, image_id: str, expected: tuple[str, ...],
                  values: dict) -> bool:
    """Set `values` on the image if its status is one of `expected` (a conditional
    UPDATE: two uploads to one image cannot both start, and an upload cannot
    activate an image deleted meanwhile). Returns whether it did."""
    result = session.execute(sa.update(models.Image).where(
        models.Image.id == image_id, models.Image.status.in_(expected))
        .values(updated_at=models.utcnow(), **values)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def delete(session: orm.Session, image: models.Image) -> None:
    session.delete(image)
