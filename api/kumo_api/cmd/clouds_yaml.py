"""A clouds.yaml that lets the `openstack` CLI and openstacksdk reach a noauth2 Kumo.

Without Keystone there is no service catalog, so each API's endpoint is given
explicitly: keystoneauth's `admin_token` plugin sends the noauth2 token
("<user>:<project>") to every service, and `<service>_endpoint_override` takes each
request to the compute API, the image service or the network service. Two settings
are for the CLI itself: `server list` asks for an identity client even when it never
calls Keystone, and the SDK trusts identity_api_version 3 only with an identity
endpoint override (any URL will do; nothing is sent there).

    export OS_CLIENT_CONFIG_FILE=<state_path>/clouds.yaml OS_CLOUD=kumo
    openstack server create --image cirros-0.6.2-x86_64-disk --flavor m1.tiny \\
        --network private vm1 --wait
"""
from __future__ import annotations

import os

# Cloud name -> noauth2 token: the admin, and a member of project "demo".
CLOUDS = {'kumo': 'admin:admin', 'kumo-demo': 'demo:demo'}
COMPUTE_MICROVERSION = '2.100'


def _reachable(url: str) -> str:
    """A listen address clients can dial (0.0.0.0 / :: are not)."""
    for wildcard in ('//0.0.0.0:', '//[::]:'):
        url = url.replace(wildcard, '//127.0.0.1:')
    return url.rstrip('/')


def render(compute_root: str, image: str, network: str) -> str:
    """The clouds.yaml text: `compute_root` is the compute API's root URL (the version
    document), `image` and `network` those of the image and network APIs."""
    compute_root, image, network = (_reachable(u) for u in (compute_root, image, network))
    lines = ['# Written by kumo-all for the noauth2 lab cloud (kumo_api/cmd/clouds_yaml.py).',
             'clouds:']
    for name, token in CLOUDS.items():
        lines += [
            f'  {name}:',
            '    auth_type: admin_token',
            '    auth:',
            f'      endpoint: {compute_root}/v2.1',
            f'      token: "{token}"',
            f"    compute_api_version: '{COMPUTE_MICROVERSION}'",
            f'    image_endpoint_override: {image}',
            f'    network_endpoint_override: {network}',
            "    identity_api_version: '3'",
            f'    identity_endpoint_override: {compute_root}/',
        ]
    return '\n'.join(lines) + '\n'


def write(path: str, text: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)
    return path
