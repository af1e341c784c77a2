"""What a create request leaves in instance_system_metadata besides the image's
properties (`image_*` keys): its security group names and its personality files.

Security groups: one row, key `security_groups`, a JSON list of names (the server
views show them, read by kumo_common.db.server_views; the network service holds the
ports' groups by id, which the addSecurityGroup/removeSecurityGroup actions change
along with these names).
Personality (2.1-2.56): one row per file, key `injected_file:<n>` (n from 0, in
request order), a JSON object {"path", "contents"} with contents base64 as sent; the
conductor hands them to the compute agent for the config drive.
Interface tags (a create request's networks, 2.32 and 2.42+, and os-interface attach,
2.49+; shown from 2.70): one row, key `interface_tags`, a JSON object {port id: tag}.
"""
from __future__ import annotations

import json

import sqlalchemy as sa

from kumo_common.db import models

SECURITY_GROUPS = 'security_groups'
FILE_PREFIX = 'injected_file:'
INTERFACE_TAGS = 'interface_tags'


def rows(security_groups: list[str], files: list[tuple[str, str]]
         ) -> list[models.InstanceSystemMetadata]:
    """The rows for one new server (added to its system_metadata relationship)."""
    result = [models.InstanceSystemMetadata(key=SECURITY_GROUPS,
                                            value=json.dumps(security_groups))]
    for index, (path, contents) in enumerate(files):
        result.append(models.InstanceSystemMetadata(
            key=f'{FILE_PREFIX}{index}',
            value=json.dumps({'path': path, 'contents': contents})))
    return result


def set_security_groups(session, instance_uuid: str, names: list[str]) -> None:
    """The server's security group names are now `names`."""
    row = session.scalars(sa.select(models.InstanceSystemMetadata).where(
        models.InstanceSystemMetadata.instance_uuid == instance_uuid,
        models.InstanceSystemMetadata.key == SECURITY_GROUPS)).first()
    if row is None:
        session.add(models.InstanceSystemMetadata(
            instance_uuid=instance_uuid, key=SECURITY_GROUPS, value=json.dumps(names)))
    else:
        row.value = json.dumps(names)


def security_groups(session, instance_uuid: str) -> list[str]:
    """The server's security group names (["default"] for a server that never had
    them recorded)."""
    value = session.scalars(sa.select(models.InstanceSystemMetadata.value).where(
        models.InstanceSystemMetadata.instance_uuid == instance_uuid,
        models.InstanceSystemMetadata.key == SECURITY_GROUPS)).first()
    return json.loads(value) if value is not None else ['default']


def interface_tags(session, instance_uuid: str) -> dict[str, str]:
    """{port id: tag} of the interfaces attached with a tag."""
    value = session.scalars(sa.select(models.InstanceSystemMetadata.value).where(
        models.InstanceSystemMetadata.instance_uuid == instance_uuid,
        models.InstanceSystemMetadata.key == INTERFACE_TAGS)).first()
    return json.loads(value) if value else {}


def set_interface_tag(session, instance_uuid: str, port_id: str, tag: str | None) -> None:
    """The port's tag is now `tag` (None: it has none)."""
    row = session.scalars(sa.select(models.InstanceSystemMetadata).where(
        models.InstanceSystemMetadata.instance_uuid == instance_uuid,
        models.InstanceSystemMetadata.key == INTERFACE_TAGS)).first()
    tags = json.loads(row.value) if row is not None and row.value else {}
    if tag is None:
        tags.pop(port_id, None)
    else:
        tags[port_id] = tag
    if row is None:
        session.add(models.InstanceSystemMetadata(
            instance_uuid=instance_uuid, key=INTERFACE_TAGS, value=json.dumps(tags)))
    else:
        row.value = json.dumps(tags)


def injected_files(instance: models.Instance) -> list[dict]:
    """[{"path", "contents"}] of a server, in request order (from its loaded rows)."""
    files = [(int(item.key[len(FILE_PREFIX):]), json.loads(item.value))
             for item in instance.system_metadata if item.key.startswith(FILE_PREFIX)]
    return [value for _index, value in sorted(files, key=lambda pair: pair[0])]
