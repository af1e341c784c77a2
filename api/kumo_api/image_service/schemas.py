"""The JSON schemas of Glance v2 images: served at /v2/schemas/image(s), where
glanceclient and others read them, and used here to validate create and update.

Data, as Glance's own (glance/api/v2/images.py get_schema plus the default
schema-image.json): the base properties, typed; every other property is a custom
string property (additionalProperties), some of them described.
"""
from __future__ import annotations

import copy

DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso',
                'ploop']
CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed']
STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing',
            'pending_delete', 'deactivated']
VISIBILITIES = ['community', 'public', 'private', 'shared']

_UUID_PATTERN = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
                 '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$')


def _ro(schema: dict) -> dict:
    return {**schema, 'readOnly': True}


BASE_PROPERTIES = {
    'id': {'type': 'string', 'description': 'An identifier for the image',
           'pattern': _UUID_PATTERN},
    'name': {'type': ['null', 'string'], 'description': 'Descriptive name for the image',
             'maxLength': 255},
    'status': _ro({'type': 'string', 'description': 'Status of the image',
                   'enum': STATUSES}),
    'visibility': {'type': 'string', 'description': 'Scope of image accessibility',
                   'enum': VISIBILITIES},
    'protected': {'type': 'boolean', 'description': 'If true, image will not be deletable.'},
    'os_hidden': {'type': 'boolean', 'description': 'If true, image will not appear in '
                                                    'default image list response.'},
    'checksum': _ro({'type': ['null', 'string'], 'maxLength': 32,
                     'description': 'md5 hash of image contents.'}),
    'os_hash_algo': _ro({'type': ['null', 'string'], 'maxLength': 64,
                         'description': 'Algorithm to calculate the os_hash_value'}),
    'os_hash_value': _ro({'type': ['null', 'string'], 'maxLength': 128,
                          'description': 'Hexdigest of the image contents using the '
                                         'algorithm specified by the os_hash_algo'}),
    'owner': {'type': ['null', 'string'], 'description': 'Owner of the image',
              'maxLength': 255},
    'size': _ro({'type': ['null', 'integer'], 'description': 'Size of image file in bytes'}),
    'virtual_size': _ro({'type': ['null', 'integer'],
                         'description': 'Virtual size of image in bytes'}),
    'container_format': {'type': ['null', 'string'], 'description': 'Format of the container',
                         'enum': [None, *CONTAINER_FORMATS]},
    'disk_format': {'type': ['null', 'string'], 'description': 'Format of the disk',
                    'enum': [None, *DISK_FORMATS]},
    'created_at': _ro({'type': 'string',
                       'description': 'Date and time of image registration'}),
    'updated_at': _ro({'type': 'string',
                       'description': 'Date and time of the last image modification'}),
    'tags': {'type': 'array', 'description': 'List of strings related to the image',
             'items': {'type': 'string', 'maxLength': 255}},
    'direct_url': _ro({'type': 'string', 'description': 'URL to access the image file '
                                                        'kept in external store'}),
    'min_ram': {'type': 'integer', 'description': 'Amount of ram (in MB) required to '
                                                  'boot image.'},
    'min_disk': {'type': 'integer', 'description': 'Amount of disk space (in GB) required '
                                                   'to boot image.'},
    'self': _ro({'type': 'string', 'description': 'An image self url'}),
    'file': _ro({'type': 'string', 'description': 'An image file url'}),
    'schema': _ro({'type': 'string', 'description': 'An image schema url'}),
}

# Custom properties Glance's default schema-image.json describes (all optional).
DESCRIBED_PROPERTIES = {
    'kernel_id': {'type': ['null', 'string'], 'pattern': _UUID_PATTERN,
                  'description': 'ID of image stored in Glance that should be used as the '
                                 'kernel when booting an AMI-style image.',
                  'is_base': False},
    'ramdisk_id': {'type': ['null', 'string'], 'pattern': _UUID_PATTERN,
                   'description': 'ID of image stored in Glance that should be used as the '
                                  'ramdisk when booting an AMI-style image.',
                   'is_base': False},
    'instance_uuid': {'type': 'string', 'is_base': False,
                      'description': 'Metadata which can be used to record which instance '
                                     'this image is associated with. (Informational only, '
                                     'does not create an instance snapshot.)'},
    'architecture': {'type': 'string', 'is_base': False,
                     'description': 'Operating system architecture as specified in '
                                    'https://docs.openstack.org/python-glanceclient/latest'
                                    '/cli/property-keys.html'},
    'os_distro': {'type': 'string', 'is_base': False,
                  'description': 'Common name of operating system distribution as specified '
                                 'in https://docs.openstack.org/python-glanceclient/latest'
                                 '/cli/property-keys.html'},
    'os_version': {'type': 'string', 'is_base': False,
                   'description': 'Operating system version as specified by the '
                                  'distributor.'},
    'description': {'type': 'string', 'is_base': False,
                    'description': 'A human-readable string describing this image.'},
}

# Attributes a request may never set, may not change, or that Glance reserves.
DISALLOWED = ('direct_url', 'self', 'file', 'schema', 'stores')
READ_ONLY = ('created_at', 'updated_at', 'status', 'checksum', 'os_hash_algo',
             'os_hash_value', 'size', 'virtual_size', 'direct_url', 'self', 'file',
             'schema', 'id')
RESERVED = ('location', 'locations', 'deleted', 'deleted_at')


def image_schema() -> dict:
    """GET /v2/schemas/image."""
    return {
        'name': 'image',
        'properties': {**copy.deepcopy(BASE_PROPERTIES),
                       **copy.deepcopy(DESCRIBED_PROPERTIES)},
        'additionalProperties': {'type': 'string'},
        'links': [{'rel': 'self', 'href': '{self}'},
                  {'rel': 'enclosure', 'href': '{file}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }


def images_schema() -> dict:
    """GET /v2/schemas/images."""
    return {
        'name': 'images',
        'properties': {
            'images': {'type': 'array', 'items': image_schema()},
            'schema': {'type': 'string'},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
        },
        'links': [{'rel': 'first', 'href': '{first}'},
                  {'rel': 'next', 'href': '{next}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }


def validation_schema() -> dict:
    """The image schema as a validator uses it (Glance's `is_base` markers dropped)."""
    schema = image_schema()
    for prop in schema['properties'].values():
        prop.pop('is_base', None)
        prop.pop('readOnly', None)
    return schema
