"""What users attach to a server after create: metadata items and tags.

Writers first lock the server's row (`lock_instance`), then check and write in the
same transaction, so the limits (metadata items, 50 tags) and the vm_state rule hold
against concurrent requests and lifecycle actions.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models

MAX_TAGS = 50


def lock_instance(session: orm.Session, uuid: str) -> models.Instance:
    """The live server, its row locked until the transaction ends (InstanceNotFound)."""
    instance = session.scalars(
        sa.select(models.Instance)
        .where(models.Instance.uuid == uuid, models.Instance.deleted == 0)
        .with_for_update()
        .execution_options(populate_existing=True)).first()
    if instance is None:
        raise exceptions.InstanceNotFound(instance_id=uuid)
    return instance


# --- metadata -----------------------------------------------------------------------

def metadata_of(instance: models.Instance) -> dict[str, str | None]:
    return {m.key: m.value for m in instance.metadata_items}


def replace_metadata(session: orm.Session, instance: models.Instance,
                     metadata: dict[str, str]) -> None:
    """Make the server's metadata exactly `metadata`."""
    items = {m.key: m for m in instance.metadata_items}
    for key, item in items.items():
        if key not in metadata:
            instance.metadata_items.remove(item)
    for key, value in metadata.items():
        item = items.get(key)
        if item is None:
            instance.metadata_items.append(models.InstanceMetadata(key=key, value=value))
        else:
            item.value = value
    session.flush()


# --- tags ----------------------------------------------------------------------------

def tags_of(instance: models.Instance) -> list[str]:
    return sorted(t.tag for t in instance.tags)


def replace_tags(session: orm.Session, instance: models.Instance, tags: list[str]) -> None:
    wanted = set(tags)
    for tag in list(instance.tags):
        if tag.tag not in wanted:
            instance.tags.remove(tag)
    have = {t.tag for t in instance.tags}
    for name in sorted(wanted - have):
        instance.tags.append(models.Tag(tag=name))
    session.flush()


def add_tag(session: orm.Session, instance: models.Instance, tag: str) -> None:
    instance.tags.append(models.Tag(tag=tag))
    session.flush()


def delete_tag(session: orm.Session, instance: models.Instance, tag: str) -> bool:
    """Remove one tag; False if the server did not have it."""
    for item in instance.tags:
        if item.tag == tag:
            instance.tags.remove(item)
            session.flush()
            return True
    return False
