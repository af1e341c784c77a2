"""kumo-manage: database schema, flavors, images, networks, and lab defaults.

    kumo-manage [--config-file F] db sync | db version
    kumo-manage flavor create NAME --ram MB --vcpus N --disk GB [--id ID] ...
    kumo-manage image import NAME [--file PATH] [--id UUID] [--property k=v ...]
    kumo-manage network create NAME --cidr CIDR [--default] [--project P]
    kumo-manage service health [--timeout S] [--no-echo] [--json]
                            (every service's heartbeat and RPC echo; exit 1 if one
                             is down, saying why)
    kumo-manage seed [--guest-dir DIR]
                            (idempotent: m1.tiny..m1.xlarge, a test image, "private";
                             with --guest-dir the test image is the test guest built by
                             tools/build-test-guest.py, with its kernel and ramdisk)
"""
from __future__ import annotations

import hashlib
import os
import sys
import uuid as uuidlib

from oslo_config import cfg

from kumo_common import service
from kumo_common.cmd import service_health
from kumo_common.db import flavors as flavor_db
from kumo_common.db import images as image_db
from kumo_common.db import migration, session
from kumo_common.db import networks as network_db

CONF = cfg.CONF

# Nova's classic default flavors (ids 1..5 as clients and docs expect).
DEFAULT_FLAVORS = [
    ('m1.tiny', 1, 512, 1, 1),
    ('m1.small', 2, 2048, 1, 20),
    ('m1.medium', 3, 4096, 2, 40),
    ('m1.large', 4, 8192, 4, 80),
    ('m1.xlarge', 5, 16384, 8, 160),
]
TEST_IMAGE_ID = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
TEST_IMAGE_NAME = 'cirros-0.6.2-x86_64-disk'


def cmd_db(args) -> int:
    if args.action == 'sync':
        migration.db_sync()
        print(f'Database at revision {migration.db_version()}')
    else:
        print(migration.db_version() or 'None')
    return 0


def _flavor_create(name, flavorid, ram, vcpus, disk, ephemeral=0, swap=0, public=True):
    with session.transaction() as s:
        if flavor_db.exists(s, name, flavorid):
            return False
        flavor_db.create(s, name=name, memory_mb=ram, vcpus=vcpus, root_gb=disk,
                         flavorid=str(flavorid), ephemeral_gb=ephemeral, swap=swap,
                         is_public=public)
    return True


def cmd_flavor(args) -> int:
    flavorid = args.id or str(uuidlib.uuid4())
    if not _flavor_create(args.resource_name, flavorid, args.ram, args.vcpus, args.disk,
                          args.ephemeral, args.swap, not args.private):
        print(f'Flavor {args.resource_name} or id {flavorid} already exists', file=sys.stderr)
        return 1
    print(f'Created flavor {args.resource_name} (id {flavorid})')
    return 0


def _parse_properties(items) -> dict:
    props = {}
    for item in items or []:
        key, sep, value = item.partition('=')
        if not sep:
            raise SystemExit(f'--property needs key=value, got {item!r}')
        props[key] = value
    return props


def _image_import(name, image_id, path=None, properties=None, disk_format='qcow2',
                  container_format='bare', min_ram=0, min_disk=0) -> bool:
    checksum = size = None
    if path:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                digest.update(chunk)
        checksum = digest.hexdigest()
        size = os.path.getsize(path)
        path = os.path.abspath(path)
    with session.transaction() as s:
        if s.get(image_db.models.Image, image_id) is not None:
            return False
        image_db.create(s, image_id, name, status='active', visibility='public',
                        checksum=checksum, size=size, disk_format=disk_format,
                        container_format=container_format, min_ram=min_ram,
                        min_disk=min_disk, location=path, properties=properties or {})
    return True


def cmd_image(args) -> int:
    image_id = args.id or str(uuidlib.uuid4())
    if not _image_import(args.resource_name, image_id, args.file, _parse_properties(args.property),
                         args.disk_format, args.container_format, args.min_ram,
                         args.min_disk):
        print(f'Image {image_id} already exists', file=sys.stderr)
        return 1
    print(f'Imported image {args.resource_name} (id {image_id})')
    return 0


def _network_create(name, cidr, is_default=False, project=None) -> bool:
    with session.transaction() as s:
        if network_db.get_by_name(s, name) is not None:
            return False
        network_db.create_network(s, name, cidr, project_id=project,
                                  shared=project is None, is_default=is_default)
    return True


def cmd_network(args) -> int:
    if not _network_create(args.resource_name, args.cidr, args.default, args.project):
        print(f'Network {args.resource_name} already exists', file=sys.stderr)
        return 1
    print(f'Created network {args.resource_name} ({args.cidr})')
    return 0


def cmd_seed(args) -> int:
    """Defaults a person needs to boot at once; safe to run again."""
    for name, flavorid, ram, vcpus, disk in DEFAULT_FLAVORS:
        if _flavor_create(name, flavorid, ram, vcpus, disk):
            print(f'Created flavor {name}')
    if _image_import(TEST_IMAGE_NAME, TEST_IMAGE_ID,
                     properties={'architecture': 'x86_64', 'hypervisor_type': 'qemu'}):
        print(f'Created image {TEST_IMAGE_NAME} ({TEST_IMAGE_ID})')
    if _network_create('private', '10.0.0.0/24', is_default=True):
        print('Created network private (10.0.0.0/24)')
    if getattr(args, 'guest_dir', None):
        from kumo_common.cmd import guest_image
        try:
            for message in guest_image.seed_guest(args.guest_dir, TEST_IMAGE_ID):
                print(message)
        except guest_image.GuestImageError as exc:
            print(exc, file=sys.stderr)
            return 1
    return 0


def add_command_parsers(subparsers) -> None:
    db = subparsers.add_parser('db', help='database schema')
    db.add_argument('action', choices=('sync', 'version'))
    db.set_defaults(func=cmd_db)

    flavor = subparsers.add_parser('flavor', help='create a flavor')
    flavor.add_argument('action', choices=('create',))
    # dest is not 'name': oslo.config keeps the sub-command's own name there.
    flavor.add_argument('resource_name', metavar='NAME')
    flavor.add_argument('--id')
    flavor.add_argument('--ram', type=int, required=True)
    flavor.add_argument('--vcpus', type=int, required=True)
    flavor.add_argument('--disk', type=int, default=0)
    flavor.add_argument('--ephemeral', type=int, default=0)
    flavor.add_argument('--swap', type=int, default=0)
    flavor.add_argument('--private', action='store_true')
    flavor.set_defaults(func=cmd_flavor)

    image = subparsers.add_parser('image', help='import an image into the local catalog')
    image.add_argument('action', choices=('import',))
    image.add_argument('resource_name', metavar='NAME')
    image.add_argument('--file')
    image.add_argument('--id')
    image.add_argument('--property', action='append')
    image.add_argument('--disk-format', default='qcow2')
    image.add_argument('--container-format', default='bare')
    image.add_argument('--min-ram', type=int, default=0)
    image.add_argument('--min-disk', type=int, default=0)
    image.set_defaults(func=cmd_image)

    network = subparsers.add_parser('network', help='create a network with one subnet')
    network.add_argument('action', choices=('create',))
    network.add_argument('resource_name', metavar='NAME')
    network.add_argument('--cidr', required=True)
    network.add_argument('--default', action='store_true',
                         help='the network "networks: auto" picks')
    network.add_argument('--project')
    network.set_defaults(func=cmd_network)

    service_health.add_parser(subparsers)

    seed = subparsers.add_parser('seed', help='default flavors, test image, network')
    seed.add_argument('--guest-dir',
                      help='make the test image the test guest built in this directory')
    seed.set_defaults(func=cmd_seed)


def main(argv=None) -> int:
    CONF.register_cli_opt(cfg.SubCommandOpt('command', handler=add_command_parsers))
    service.prepare(sys.argv[1:] if argv is None else argv, 'kumo-manage')
    return CONF.command.func(CONF.command)


if __name__ == '__main__':
    sys.exit(main())
