"""An image as Kumo's services see it, whichever catalog it came from (the local one's
rows or a Glance v2 document): the fields the compute API checks, the proxy API
shows and the agents need to fetch and verify the bits."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from kumo_common import objects

# Glance v2 image attributes that are not custom properties (the rest of a Glance
# image document is its properties, as Glance flattens them into the document).
GLANCE_CORE = frozenset((
    'id', 'name', 'status', 'visibility', 'owner', 'checksum', 'size', 'virtual_size',
    'disk_format', 'container_format', 'min_ram', 'min_disk', 'protected', 'created_at',
    'updated_at', 'os_hash_algo', 'os_hash_value', 'os_hidden', 'tags', 'self', 'file',
    'schema', 'stores', 'locations', 'direct_url', 'os_glance_failed_import',
    'os_glance_importing_to_stores',
))


@dataclass
class Image:
    id: str
    name: str | None = None
    status: str = 'queued'
    visibility: str = 'public'
    owner: str | None = None
    checksum: str | None = None
    size: int | None = None
    virtual_size: int | None = None
    disk_format: str | None = None
    container_format: str | None = None
    min_ram: int = 0
    min_disk: int = 0
    protected: bool = False
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    properties: dict = field(default_factory=dict)
    # Where an agent fetches the bits: a local file path (the local catalog) or the
    # image API's GET /v2/images/{id}/file URL (an external Glance); None: no data.
    location: str | None = None

    def spec(self) -> objects.ImageSpec:
        """The RPC payload a build, rebuild or rescue carries to the agent."""
        return objects.ImageSpec(
            id=self.id, name=self.name or '', checksum=self.checksum,
            size=self.size or 0, disk_format=self.disk_format,
            container_format=self.container_format, min_ram=self.min_ram or 0,
            min_disk=self.min_disk or 0, properties=dict(self.properties),
            location=self.location)


def _timestamp(value: str | None) -> datetime.datetime | None:
    """Glance's "2026-11-29T08:08:26Z" as a naive UTC datetime (as the DB keeps them)."""
    if not value:
        return None
    parsed = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def from_glance(doc: dict, file_url: str | None) -> Image:
    """An image from a Glance v2 document; `file_url` is where its data is read."""
    properties = {k: v for k, v in doc.items() if k not in GLANCE_CORE}
    # The local catalog keeps property values as text; so do payloads built from it.
    properties = {k: v if v is None or isinstance(v, str) else str(v)
                  for k, v in properties.items()}
    return Image(
        id=doc['id'], name=doc.get('name'), status=doc.get('status') or 'queued',
        visibility=doc.get('visibility') or 'shared', owner=doc.get('owner'),
        checksum=doc.get('checksum'), size=doc.get('size'),
        virtual_size=doc.get('virtual_size'), disk_format=doc.get('disk_format'),
        container_format=doc.get('container_format'), min_ram=doc.get('min_ram') or 0,
        min_disk=doc.get('min_disk') or 0, protected=bool(doc.get('protected')),
        created_at=_timestamp(doc.get('created_at')),
        updated_at=_timestamp(doc.get('updated_at')), properties=properties,
        location=file_url if doc.get('status') == 'active' else None)
