"""The local image catalog (Kumo's own image service): images, their properties, tags."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kumo_common.db.models.base import Base, TimestampMixin


class Image(TimestampMixin, Base):
    __tablename__ = 'images'

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(30), default='queued')
    visibility: Mapped[str] = mapped_column(String(30), default='public')
    owner: Mapped[str | None] = mapped_column(String(255))
    checksum: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    disk_format: Mapped[str | None] = mapped_column(String(30))
    container_format: Mapped[str | None] = mapped_column(String(30))
    min_ram: Mapped[int] = mapped_column(Integer, default=0)
    min_disk: Mapped[int] = mapped_column(Integer, default=0)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the bits are (a local path or URL); None for a catalog entry without data.
    location: Mapped[str | None] = mapped_column(Text)
    # Glance v2's multihash and hidden flag, and the size inside the disk format (0003).
    os_hash_algo: Mapped[str | None] = mapped_column(String(64))
    os_hash_value: Mapped[str | None] = mapped_column(String(128))
    virtual_size: Mapped[int | None] = mapped_column(BigInteger)
    os_hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    properties: Mapped[list[ImageProperty]] = relationship(
        cascade='all, delete-orphan', lazy='selectin')
    tags: Mapped[list[ImageTag]] = relationship(cascade='all, delete-orphan',
                                                lazy='selectin')


class ImageProperty(Base):
    __tablename__ = 'image_properties'
    __table_args__ = (UniqueConstraint('image_id', 'name',
                                       name='uniq_image_properties0image0name'),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey('images.id'))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text)


class ImageTag(Base):
    """A Glance image tag (0003)."""
    __tablename__ = 'image_tags'

    image_id: Mapped[str] = mapped_column(ForeignKey('images.id'), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)
