"""What a create request leaves in instance_system_metadata besides the image's
properties (`image_*` keys): its security group names and its personality files.

Security groups: one row, key `security_groups`, a JSON list of names (the server
views show them, read by kumo_common.db.server_views; Kumo has no security group API
to hold them elsewhere).
Personality (2.1-2.56): one row per file, key `injected_file:<n>` (n from 0, in
request order), a JSON object {"path", "contents"} with contents base64 as sent; the
conductor hands them to the compute agent for the config drive.
"""
from __future__ import annotations

import json

from kumo_common.db import models

SECURITY_GROUPS = 'security_groups'
FILE_PREFIX = 'injected_file:'


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


def injected_files(instance: models.Instance) -> list[dict]:
    """[{"path", "contents"}] of a server, in request order (from its loaded rows)."""
    files = [(int(item.key[len(FILE_PREFIX):]), json.loads(item.value))
             for item in instance.system_metadata if item.key.startswith(FILE_PREFIX)]
    return [value for _index, value in sorted(files, key=lambda pair: pair[0])]
