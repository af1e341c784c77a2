"""Queries on the local image catalog."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models


def get(session: orm.Session, image_id: str) -> models.Image:
    image = session.get(models.Image, image_id)
    if image is None:
        raise exceptions.ImageNotFound(image_id=image_id)
    return image


def list_images(session: orm.Session) -> list[models.Image]:
    return list(session.scalars(sa.select(models.Image).order_by(
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
