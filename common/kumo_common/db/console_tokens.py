"""Queries on remote consoles' tokens (Nova's ConsoleAuthToken).

A token is made here, handed to the user once inside the console's URL, and kept
only as its SHA-256: whoever reads the database cannot connect to a console. A token
is valid until its expiry and while its server lives (`delete_for_instance` runs
when the server's row is marked deleted); the conductor drops expired ones
periodically (`delete_expired`), as Nova's compute does.
"""
from __future__ import annotations

import datetime
import hashlib
import secrets
from urllib import parse

import sqlalchemy as sa
from sqlalchemy import orm

from kumo_common.db import models


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


def create(session: orm.Session, instance_uuid: str, console_type: str, host: str,
           port: int, access_url_base: str | None, ttl: int,
           internal_access_path: str | None = None) -> str:
    """Store a new token for the console at host:port; the token itself (only its
    hash is kept). Expired tokens of the same server are dropped on the way."""
    token = secrets.token_urlsafe(32)
    now = models.utcnow()
    session.execute(sa.delete(models.ConsoleAuthToken).where(
        models.ConsoleAuthToken.instance_uuid == instance_uuid,
        models.ConsoleAuthToken.expires_at <= now))
    session.add(models.ConsoleAuthToken(
        token_hash=hash_token(token), console_type=console_type, host=host,
        port=int(port), internal_access_path=internal_access_path,
        instance_uuid=instance_uuid, access_url_base=access_url_base,
        expires_at=now + datetime.timedelta(seconds=ttl)))
    return token


def validate(session: orm.Session, token: str) -> models.ConsoleAuthToken | None:
    """The token's row if it exists, has not expired and its server is not deleted;
    None otherwise (the caller cannot tell which, nor can whoever guesses tokens)."""
    if not token:
        return None
    return session.scalars(
        sa.select(models.ConsoleAuthToken)
        .join(models.Instance, models.Instance.uuid == models.ConsoleAuthToken.instance_uuid)
        .where(models.ConsoleAuthToken.token_hash == hash_token(token),
               models.ConsoleAuthToken.expires_at > models.utcnow(),
               models.Instance.deleted == 0)).first()


def delete_for_instance(session: orm.Session, instance_uuid: str) -> None:
    session.execute(sa.delete(models.ConsoleAuthToken).where(
        models.ConsoleAuthToken.instance_uuid == instance_uuid))


def delete_expired(session: orm.Session) -> int:
    """Drop every expired token; how many went."""
    return session.execute(sa.delete(models.ConsoleAuthToken).where(
        models.ConsoleAuthToken.expires_at <= models.utcnow())).rowcount


def access_url(console_type: str, access_url_base: str, token: str) -> str:
    """The URL the user is given, as Nova 34 makes it: "<base>?token=<token>", but
    for noVNC (1.1 and later read the token from the websocket path it is given)
    "<base>?path=%3Ftoken%3D<token>", keeping any `path` the base already has."""
    if console_type != 'novnc':
        return f'{access_url_base}?token={token}'
    parsed = parse.urlparse(access_url_base)
    query = parse.parse_qs(parsed.query)
    query['path'] = ['%s?token=%s' % (query.get('path', [''])[0], token)]
    return parsed._replace(query=parse.urlencode(query, doseq=True)).geturl()
