"""Queries on key pairs (owned by a user, whatever the project)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common import exceptions
from kumo_common.db import models


def get(session: orm.Session, user_id: str, name: str) -> models.KeyPair:
    keypair = session.scalars(sa.select(models.KeyPair).where(
        models.KeyPair.user_id == user_id, models.KeyPair.name == name)).first()
    if keypair is None:
        raise exceptions.KeypairNotFound(name=name, user_id=user_id)
    return keypair


def list_for_user(session: orm.Session, user_id: str) -> list[models.KeyPair]:
    """A user's key pairs by name (the order 2.35 paging relies on)."""
    return list(session.scalars(sa.select(models.KeyPair)
                                .where(models.KeyPair.user_id == user_id)
                                .order_by(models.KeyPair.name.asc())))


def create(session: orm.Session, user_id: str, name: str, public_key: str,
           fingerprint: str, key_type: str) -> models.KeyPair:
    """Add a key pair; KeyPairExists (409) if the user has one by that name."""
    if session.scalars(sa.select(models.KeyPair.id).where(
            models.KeyPair.user_id == user_id, models.KeyPair.name == name)).first():
        raise exceptions.KeyPairExists(key_name=name)
    keypair = models.KeyPair(user_id=user_id, name=name, public_key=public_key,
                             fingerprint=fingerprint, type=key_type)
    session.add(keypair)
    try:
        # A concurrent create of the same name loses here, not at commit.
        session.flush()
    except sa.exc.IntegrityError as exc:
        raise exceptions.KeyPairExists(key_name=name) from exc
    return keypair


def delete(session: orm.Session, user_id: str, name: str) -> None:
    """Remove a key pair; KeypairNotFound (404) if there is none."""
    deleted = session.execute(sa.delete(models.KeyPair).where(
        models.KeyPair.user_id == user_id, models.KeyPair.name == name)).rowcount
    if not deleted:
        raise exceptions.KeypairNotFound(name=name, user_id=user_id)
