"""Remote consoles: the tokens by which kumo-consoleproxy reaches a guest's console."""
from __future__ import annotations

import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kumo_common.db.models.base import Base, DateTime, TimestampMixin


class ConsoleAuthToken(TimestampMixin, Base):
    """A remote console's token (Nova's console_auth_tokens): only its SHA-256 is
    kept; kumo-consoleproxy finds the guest's host:port by it until `expires_at`.
    Deleted with the server (kumo_common.db.console_tokens)."""
    __tablename__ = 'console_auth_tokens'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(255), unique=True)
    console_type: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    internal_access_path: Mapped[str | None] = mapped_column(String(255))
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    access_url_base: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime, index=True)
