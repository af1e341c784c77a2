"""What every model shares: the declarative Base, its naming convention, timestamps."""
from __future__ import annotations

import datetime

from sqlalchemy import DateTime as _DateTime
from sqlalchemy import MetaData
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Portability: MariaDB's plain DATETIME drops the microseconds PostgreSQL and SQLite
# keep (ordering, changes-since would differ by backend), so DATETIME(6) there. And
# fractional columns are Double, not Float: FLOAT is single precision on MariaDB (0.9
# becomes 0.8999999762 in SQL arithmetic), double precision on the other two.
DateTime = _DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    # Every constraint gets a name we choose rather than one each backend invents,
    # so later migrations can drop or alter it the same way on all three backends.
    metadata = MetaData(naming_convention={
        'uq': 'uniq_%(table_name)s0%(column_0_N_name)s',
        'ix': 'ix_%(column_0_label)s',
        'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
        'pk': 'pk_%(table_name)s',
    })


class TimestampMixin:
    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime, onupdate=utcnow)
