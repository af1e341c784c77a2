"""The config drive: an ISO9660 image labelled ``config-2`` in the OpenStack layout
cloud-init reads (openstack/latest/meta_data.json, user_data, network_data.json,
vendor_data.json, vendor_data2.json, and personality files under openstack/content/),
written as Nova's configdrive module writes it.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
import tempfile

from kumo_common import objects

LABEL = 'config-2'
VERSION_DIR = os.path.join('openstack', 'latest')


class ConfigDriveError(Exception):
    pass


def wanted(build: objects.InstanceBuild, force: bool) -> bool:
    """Built when the request asked for it or the node forces it (force_config_drive)."""
    return bool(build.config_drive or force)


def decode_user_data(value: str | None) -> bytes | None:
    """user_data arrives base64-encoded, as the API stored it; the guest gets bytes."""
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value.encode()


def meta_data(build: objects.InstanceBuild) -> dict:
    data = {
        'uuid': build.uuid,
        'name': build.name,
        'hostname': build.hostname,
        'launch_index': 0,
        'availability_zone': build.availability_zone,
        'project_id': build.project_id,
        'meta': dict(build.metadata),
        'devices': [],
        'random_seed': base64.b64encode(os.urandom(512)).decode(),
    }
    if build.key_data:
        name = build.key_name or 'key'
        data['public_keys'] = {name: build.key_data}
        data['keys'] = [{'name': name, 'type': 'ssh', 'data': build.key_data}]
    if build.admin_password:
        data['admin_pass'] = build.admin_password
    if build.files:
        data['files'] = [{'path': f['path'], 'content_path': _content_path(index)}
                         for index, f in enumerate(build.files)]
    return data


def _content_path(index: int) -> str:
    return '/content/%04d' % index


def network_data(build: objects.InstanceBuild) -> dict:
    links, networks = [], []
    for port in build.ports:
        link_id = f'tap{port.id[:11]}'
        links.append({'id': link_id, 'vif_id': port.id, 'type': 'bridge', 'mtu': 1500,
                      'ethernet_mac_address': port.mac_address})
        for ip in port.fixed_ips:
            version = ip.get('version', 4)
            networks.append({'id': f'network{len(networks)}',
                             'type': 'ipv6' if version == 6 else 'ipv4',
                             'link': link_id, 'ip_address': ip['ip_address'],
                             'routes': [], 'network_id': port.network_id,
                             'services': []})
    return {'links': links, 'networks': networks, 'services': []}


def _iso_command(output: str, source_dir: str) -> list[str]:
    args = ['-o', output, '-ldots', '-allow-lowercase', '-allow-multidot', '-l',
            '-publisher', 'Kumo', '-quiet', '-J', '-r', '-V', LABEL, source_dir]
    for tool in ('genisoimage', 'mkisofs'):
        if shutil.which(tool):
            return [tool, *args]
    if shutil.which('xorriso'):
        return ['xorriso', '-as', 'mkisofs', *args]
    raise ConfigDriveError('No ISO9660 tool found (install genisoimage or xorriso)')


def make(build: objects.InstanceBuild, output: str) -> None:
    """Write the config drive of `build` to `output` (an ISO file)."""
    with tempfile.TemporaryDirectory(prefix='kumo-configdrive-') as tree:
        latest = os.path.join(tree, VERSION_DIR)
        os.makedirs(latest)
        files = {
            'meta_data.json': json.dumps(meta_data(build)).encode(),
            'network_data.json': json.dumps(network_data(build)).encode(),
            'vendor_data.json': b'{}',
            'vendor_data2.json': b'{}',
        }
        user_data = decode_user_data(build.user_data)
        if user_data is not None:
            files['user_data'] = user_data
        for name, data in files.items():
            with open(os.path.join(latest, name), 'wb') as f:
                f.write(data)
        # Personality: each file's bytes at openstack/content/NNNN, which the
        # "files" entry of meta_data.json maps to its path in the guest.
        for index, personality in enumerate(build.files):
            path = os.path.join(tree, 'openstack', _content_path(index).lstrip('/'))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(decode_user_data(personality.get('contents')) or b'')
        try:
            subprocess.run(_iso_command(output, tree), check=True, capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=120)
        except subprocess.CalledProcessError as exc:
            raise ConfigDriveError(f'Building the config drive failed: '
                                   f'{exc.stderr.strip()}') from exc
