"""PATCH /v2/images/{id}: Glance's JSON-patch dialects, parsed and applied.

application/openstack-images-v2.1-json-patch is RFC 6902 limited to add, replace and
remove of top-level attributes ({"op": "replace", "path": "/name", "value": ...});
the older v2.0 dialect names the op as the key ({"replace": "/name", "value": ...}).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from kumo_api.image_service import errors
from kumo_common.db import images as image_db
from kumo_common.db import models

MEDIA_TYPES = {
    'application/openstack-images-v2.1-json-patch': 'v2.1',
    'application/openstack-images-v2.0-json-patch': 'v2.0',
}
OPS = ('add', 'replace', 'remove')
# Image columns a patch may change, beside `tags` (any other name is a custom property).
COLUMNS = ('name', 'visibility', 'protected', 'os_hidden', 'container_format',
           'disk_format', 'min_ram', 'min_disk', 'owner')


@dataclasses.dataclass
class Change:
    op: str
    attribute: str
    value: Any = None


def parse(request) -> list[Change]:
    dialect = MEDIA_TYPES.get((request.mimetype or '').lower())
    if dialect is None:
        raise errors.UnsupportedMediaType(
            f'Unsupported Content-Type {request.mimetype or "(none)"}; use one of '
            f'{", ".join(MEDIA_TYPES)}')
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, list):
        raise errors.BadRequest('Request body must be a JSON array of operation objects.')
    return [_change(raw, dialect) for raw in body]


def _change(raw, dialect: str) -> Change:
    if not isinstance(raw, dict):
        raise errors.BadRequest('Operations must be JSON objects.')
    if dialect == 'v2.1':
        op = raw.get('op')
        if op is None:
            raise errors.BadRequest("Unable to find 'op' in JSON Schema change")
        if op not in OPS:
            raise errors.BadRequest(f'Invalid operation: `{op}`: Operation must be one of '
                                    f'{", ".join(OPS)}.')
        if 'path' not in raw:
            raise errors.BadRequest("Unable to find 'path' in JSON Schema change")
        path = raw['path']
    else:
        found = [op for op in OPS if op in raw]
        if len(found) != 1:
            raise errors.BadRequest('Operation objects must contain exactly one member '
                                    'named "add", "remove", or "replace".')
        op = found[0]
        path = raw[op]
    if op != 'remove' and 'value' not in raw:
        raise errors.BadRequest(f'Operation "{op}" requires a member named "value".')
    return Change(op, _attribute(path), raw.get('value'))


def _attribute(pointer) -> str:
    """The attribute a JSON pointer names; only one level deep (no locations here)."""
    if not isinstance(pointer, str) or not pointer.startswith('/'):
        raise errors.BadRequest(f'Pointer `{pointer}` does not start with "/".')
    if re.search('~[^01]', pointer) or pointer.endswith('~'):
        raise errors.BadRequest(f'Pointer `{pointer}` contains "~" not part of a '
                                f'recognized escape sequence.')
    parts = pointer[1:].split('/')
    if len(parts) != 1 or not parts[0].strip():
        raise errors.BadRequest(f"Invalid JSON pointer for this resource: '{pointer}'")
    return parts[0].replace('~1', '/').replace('~0', '~').strip()


def apply(session, image: models.Image, changes: list[Change],
          before_change: Callable[[models.Image, str, Any], None]) -> None:
    """Apply the changes in order, as Glance: add sets (and may overwrite), replace
    needs the attribute to exist, remove cannot touch base attributes."""
    properties = image_db.properties(image)
    tags = image_db.tag_names(image)
    for change in changes:
        name = change.attribute
        base = name in COLUMNS or name == 'tags'
        if change.op == 'remove':
            if base:
                raise errors.Forbidden(f'Property {name} may not be removed.')
            if name not in properties:
                raise errors.Conflict(f'Property {name} does not exist.')
            del properties[name]
            continue
        if change.op == 'replace' and not base and name not in properties:
            raise errors.Conflict(f'Property {name} does not exist.')
        if name == 'tags':
            tags = list(change.value)
        elif base:
            before_change(image, name, change.value)
            setattr(image, name, change.value)
        else:
            properties[name] = change.value
    image_db.set_properties(session, image, properties)
    image_db.set_tags(image, tags)
