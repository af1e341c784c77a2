"""Request schemas of server tags (os-server-tags.inc, 2.26+)."""
from kumo_api.schemas import types
from kumo_common.db.instance_metadata import MAX_TAGS

# PUT /servers/{id}/tags.
REPLACE = {
    'type': 'object',
    'properties': {'tags': {'type': 'array', 'items': types.tag, 'maxItems': MAX_TAGS}},
    'required': ['tags'],
    'additionalProperties': False,
}

# PUT /servers/{id}/tags/{tag}: no body at all.
ADD_ONE = {'type': 'null'}

# The tag in the URL.
TAG = types.tag
