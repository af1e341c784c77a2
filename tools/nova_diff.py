#!/usr/bin/env python3
"""Send the same requests to a real Nova and to Kumo, and say where they answer
differently: the status, the body of an error (exactly), the shape of a success (its
keys and value types, recursively; ids, names and times differ between the two
clouds and are not compared).

Nova is Nova from PyPI (.kumo/nova-venv, tools/nova-venv.sh makes it), its API run
as benchmarks/nova_side_by_side.py runs it: its own PostgreSQL databases, 20 ACTIVE
servers written with Nova's objects, no compute service, no Neutron, no Glance (so
requests that need one of those fail on Nova's side: read such a difference with
that in mind). Kumo is a kumo-all stack (tests.fixtures.stack) with one fake compute
and one server. Both are asked as an admin of project bench1000.

    .venv/bin/python tools/nova_diff.py [CASES ...]   (default: tools/nova_diff_cases.txt)

A case is one line: `METHOD VERSION PATH [JSON BODY]`; `~METHOD` sends it as a
non-admin member, VERSION `-` sends no microversion header, `{S}` in the path is the
cloud's server. Lines starting with # are comments. Exit status 0 (differences are
printed, not judged: some are deliberate, e.g. Kumo's field paths in schema errors
and its "(available from microversion X)" hints).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, 'benchmarks')]

import list as bench  # noqa: E402  (benchmarks/list.py)
import nova_side_by_side as sbs  # noqa: E402
import requests  # noqa: E402

from tests.fixtures import cloud, stack  # noqa: E402

PROJECT = 'bench1000'
IGNORED_HEADERS = {'date', 'server', 'content-length', 'connection',
                   'x-openstack-request-id', 'x-compute-request-id'}


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def shape_diff(a, b, path: str = '') -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key not in b:
                out.append(f'{path}/{key}: only Nova')
            elif key not in a:
                out.append(f'{path}/{key}: only Kumo')
            else:
                out += shape_diff(a[key], b[key], f'{path}/{key}')
        return out
    if isinstance(a, list) and isinstance(b, list):
        return shape_diff(a[0], b[0], path + '[]') if a and b else []
    return [] if a == b else [f'{path}: Nova {a}, Kumo {b}']


def body_of(resp):
    try:
        return resp.json()
    except ValueError:
        return resp.text[:300]


class Nova:
    """Nova's API on PostgreSQL with 20 servers (benchmarks/nova_side_by_side.py)."""

    def __init__(self):
        if sbs.ensure_nova_venv() is None:
            raise SystemExit('Nova could not be installed (tools/nova-venv.sh)')
        self.dbs = sbs.NovaDatabases()
        self.confdir = tempfile.mkdtemp(prefix='nova_diff_')
        self.api = None
        sbs.write_nova_config(self.confdir, self.dbs)
        # Nothing answers RPC here (fake://): a request that calls a compute would wait
        # out Nova's default rpc_response_timeout (60 s), as long as the HTTP timeout.
        conf = os.path.join(self.confdir, 'nova.conf')
        with open(conf) as f:
            text = f.read()
        with open(conf, 'w') as f:
            f.write(text.replace('[DEFAULT]\n', '[DEFAULT]\nrpc_response_timeout = 3\n', 1))
        sbs.nova_manage(self.confdir, 'api_db', 'sync')
        sbs.nova_manage(self.confdir, 'cell_v2', 'map_cell0', '--database_connection',
                        self.dbs.url('cell0'))
        sbs.nova_manage(self.confdir, 'cell_v2', 'create_cell', '--name', 'cell1',
                        '--database_connection', self.dbs.url('cell1'),
                        '--transport-url', 'fake://')
        sbs.nova_manage(self.confdir, 'db', 'sync')
        out = os.path.join(self.confdir, 'uuids.json')
        subprocess.run([sbs.NOVA_PYTHON, sbs.INSIDE, 'populate', self.confdir, out, '20',
                        json.dumps(sbs.image_properties())], check=True,
                       capture_output=True)
        with open(out) as f:
            self.server = json.load(f)[0]
        self.api = sbs.NovaApi(bench, self.confdir, 4, stack.free_port())
        self.endpoint = f'http://127.0.0.1:{self.api.port}'

    def request(self, method, path, version, body, admin):
        headers = {'X-User-Id': 'bench', 'X-Project-Id': PROJECT, 'Accept': 'application/json',
                   'X-Roles': 'admin,member,reader' if admin else 'member,reader'}
        if version:
            headers['OpenStack-API-Version'] = f'compute {version}'
        return requests.request(method, self.endpoint + path.replace('{S}', self.server),
                                headers=headers, json=body, timeout=60)

    def close(self):
        if self.api is not None:
            self.api.stop(bench)
        self.dbs.drop()


class Kumo:
    """kumo-all with one fake compute and one ACTIVE server."""

    def __init__(self):
        self.stack = stack.AllInOneStack(computes=1)
        self.stack.setUp()
        headers = {'X-Auth-Token': f'admin:{PROJECT}', 'OpenStack-API-Version': 'compute 2.1'}
        self.server = requests.post(
            self.stack.endpoint + '/v2.1/servers', headers=headers, timeout=60,
            json={'server': {'name': 'diff', 'flavorRef': '1', 'imageRef': cloud.IMAGE_ID,
                             'metadata': {'a': 'b'}}}).json()['server']['id']
        for _ in range(120):
            shown = requests.get(f'{self.stack.endpoint}/v2.1/servers/{self.server}',
                                 headers=headers, timeout=60).json()['server']
            if shown['status'] == 'ACTIVE':
                break
            time.sleep(0.5)

    def request(self, method, path, version, body, admin):
        headers = {'X-Auth-Token': f'{"admin" if admin else "bench"}:{PROJECT}',
                   'Accept': 'application/json'}
        if version:
            headers['OpenStack-API-Version'] = f'compute {version}'
        return requests.request(method, self.stack.endpoint + path.replace('{S}', self.server),
                                headers=headers, json=body, timeout=60)

    def close(self):
        self.stack.cleanUp()


def compare(nova, kumo, line: str) -> list[str]:
    parts = line.split(' ', 3)
    method, version, path = parts[0], parts[1], parts[2]
    body = json.loads(parts[3]) if len(parts) > 3 else None
    admin = not method.startswith('~')
    method, version = method.lstrip('~'), None if parts[1] == '-' else version
    try:
        a = nova.request(method, path, version, body, admin)
        b = kumo.request(method, path, version, body, admin)
    except requests.RequestException as exc:  # one slow answer does not end the run
        return [f'no answer: {exc}']
    if a.status_code != b.status_code:
        return [f'status: Nova {a.status_code} {json.dumps(body_of(a))[:300]}',
                f'        Kumo {b.status_code} {json.dumps(body_of(b))[:300]}']
    out = []
    if a.status_code >= 400:
        if body_of(a) != body_of(b):
            out += [f'body: Nova {json.dumps(body_of(a))[:300]}',
                    f'      Kumo {json.dumps(body_of(b))[:300]}']
    elif isinstance(body_of(a), (dict, list)):
        out += shape_diff(shape(body_of(a)), shape(body_of(b)))
    headers = ({k.lower() for k in a.headers} ^ {k.lower() for k in b.headers}) \
        - IGNORED_HEADERS
    if headers:
        out.append(f'headers only on one side: {sorted(headers)}')
    return out


def main() -> int:
    files = sys.argv[1:] or [os.path.join(REPO, 'tools', 'nova_diff_cases.txt')]
    cases = [line for f in files for line in open(f).read().splitlines()
             if line.strip() and not line.startswith('#')]
    cloud.ensure_conf_parsed()
    nova = kumo = None
    try:
        nova, kumo = Nova(), Kumo()
        same = 0
        for line in cases:
            found = compare(nova, kumo, line)
            if found:
                print(f'--- {line}\n    ' + '\n    '.join(found[:20]))
            else:
                same += 1
        print(f'{same} of {len(cases)} cases answered alike')
    finally:
        for side in (kumo, nova):
            if side is not None:
                side.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
