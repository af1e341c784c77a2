#!/usr/bin/env python3
"""Server list and show latency of one kumo-api process on PostgreSQL.

Fills a fresh PostgreSQL database (removed afterwards) with realistic servers in two
projects, 1,000 and 10,000 servers, written directly through the models' tables for
speed: each ACTIVE on one of four hosts, with 3 metadata items, 2 tags, the image's
system metadata and its security groups, a port with a fixed IP and its network
info cache, its request spec (hints), an image block device mapping and a create
action; then starts kumo-api
(waitress, [api] threads as configured) as a separate process on that database and
measures from one client over a keep-alive HTTP connection:

  detail  GET /v2.1/servers/detail?limit=1000 at 2.100 as the project's member,
          following the servers_links "next" pages through the whole project,
          several rounds (at least --rounds, and enough for MIN_PAGES full
          pages: a 1,000-server project has one per walk); the time of each full
          page of 1,000 servers.
  show    GET /v2.1/servers/{id} at 2.100 (and 2.1), as many as fit in --seconds,
          one after another over one connection: requests per second; and GET
          /v2.1 (the version document: no database, no policy) the same way, the
          floor of the stack, for scale. Measured twice: from the Python client
          above, and from wrk (one thread, one connection) where it is installed
          (`apt-get install wrk`): the target is checked against wrk's figure,
          whose client costs next to nothing of its own.

    .venv/bin/python benchmarks/list.py [--rounds 5] [--seconds 10] [--json out.json]

Targets (issue 3): median <= 60 ms per detail page of 1,000 at 2.100, with 1,000 and
with 10,000 servers in the project; show >= 800 requests/s (2.100). Exits 1 if a target
is missed, 2 if the benchmark could not run (PostgreSQL down, the API did not start).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid as uuidlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import sqlalchemy as sa  # noqa: E402
from oslo_config import cfg  # noqa: E402

import kumo_common.conf  # noqa: E402,F401
from kumo_common import objects  # noqa: E402
from kumo_common.cmd import manage  # noqa: E402
from kumo_common.db import flavors as flavor_db  # noqa: E402
from kumo_common.db import models, network_cache, session  # noqa: E402
from kumo_common.db import networks as network_db  # noqa: E402
from tests.fixtures import cloud, database, stack  # noqa: E402

CONF = cfg.CONF
TARGET_PAGE_MS = 60.0
TARGET_SHOW_RPS = 800.0
PAGE = 1000
# Full pages each project's median is taken over, at least: a median of 5 pages moves
# by several ms from run to run on this machine, one of 25 much less.
MIN_PAGES = 25
SIZES = (1000, 10000)
HOSTS = ('compute1', 'compute2', 'compute3', 'compute4')
VERSION = '2.100'


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


# --- the data ------------------------------------------------------------------------

def _insert(s, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 2000):
        s.execute(sa.insert(model), rows[start:start + 2000])


def populate(project: str, count: int, subnet: models.Subnet, flavor: models.Flavor,
             image_props: dict, offset: int) -> list[str]:
    """`count` ACTIVE servers of `project` and every row that hangs off them."""
    snapshot = flavor_db.snapshot(flavor)
    base = datetime.datetime(2026, 1, 1)
    uuids = [str(uuidlib.uuid4()) for _ in range(count)]
    instances, metadata, system, tags, ports, ips, specs, bdms, actions, caches = (
        [], [], [], [], [], [], [], [], [], [])
    with session.reader() as s:
        network_name = s.get(models.Network, subnet.network_id).name
    for n, uuid in enumerate(uuids):
        host = HOSTS[n % len(HOSTS)]
        created = base + datetime.timedelta(seconds=n)
        instances.append({
            'uuid': uuid, 'project_id': project, 'user_id': 'bench',
            'display_name': f'server-{n}', 'display_description': None,
            'hostname': f'server-{n}', 'reservation_id': f'r-{n:08d}'[-10:],
            'launch_index': 0, 'image_ref': manage.TEST_IMAGE_ID,
            'instance_type_id': flavor.id, 'flavor': snapshot, 'vcpus': flavor.vcpus,
            'memory_mb': flavor.memory_mb, 'root_gb': flavor.root_gb, 'ephemeral_gb': 0,
            'key_name': None, 'user_data': 'IyEvYmluL3NoCmVjaG8gaGkK', 'config_drive': '',
            'auto_disk_config': False, 'root_device_name': '/dev/vda',
            'vm_state': 'active', 'task_state': None, 'power_state': 1, 'progress': 0,
            'host': host, 'node': host, 'availability_zone': 'nova',
            'launched_at': created + datetime.timedelta(seconds=1), 'created_at': created,
            'updated_at': created + datetime.timedelta(seconds=1), 'locked': False,
            'deleted': 0})
        metadata += [{'instance_uuid': uuid, 'key': key, 'value': f'{key}-{n}'}
                     for key in ('role', 'owner', 'tier')]
        system += [{'instance_uuid': uuid, 'key': f'image_{k}', 'value': v}
                   for k, v in image_props.items()]
        system.append({'instance_uuid': uuid, 'key': 'security_groups',
                       'value': '["default"]'})
        tags += [{'resource_id': uuid, 'tag': tag} for tag in ('web', f'batch-{n % 10}')]
        port_id = str(uuidlib.uuid4())
        address = offset + n
        ports.append({'id': port_id, 'network_id': subnet.network_id, 'project_id': project,
                      'device_id': uuid, 'device_owner': 'compute:nova',
                      'mac_address': 'fa:16:3e:%02x:%02x:%02x' % (
                          address >> 16 & 255, address >> 8 & 255, address & 255),
                      'status': 'ACTIVE', 'created_at': created})
        ips.append({'subnet_id': subnet.id, 'port_id': port_id,
                    'ip_address': f'10.128.{address >> 8 & 255}.{address & 255}'})
        # The server's network info cache, as the conductor writes it.
        caches.append({'instance_uuid': uuid, 'network_info': network_cache.encode([
            objects.PortSpec(id=port_id, network_id=subnet.network_id,
                             network_name=network_name,
                             mac_address=ports[-1]['mac_address'],
                             fixed_ips=[{'ip_address': ips[-1]['ip_address'],
                                         'version': 4}])]),
                       'created_at': created})
        specs.append({'instance_uuid': uuid, 'spec': {'instance_uuids': [uuid]},
                      'scheduler_hints': {}, 'created_at': created})
        bdms.append({'uuid': str(uuidlib.uuid4()), 'instance_uuid': uuid,
                     'source_type': 'image', 'destination_type': 'local',
                     'boot_index': 0, 'image_id': manage.TEST_IMAGE_ID,
                     'device_type': 'disk', 'delete_on_termination': True,
                     'no_device': False})
        actions.append({'action': 'create', 'instance_uuid': uuid, 'project_id': project,
                        'user_id': 'bench', 'request_id': f'req-{uuid}',
                        'start_time': created, 'finish_time': created})
    with session.transaction() as s:
        for model, rows in ((models.Instance, instances), (models.InstanceMetadata, metadata),
                            (models.InstanceSystemMetadata, system), (models.Tag, tags),
                            (models.Port, ports), (models.IPAllocation, ips),
                            (models.RequestSpecRecord, specs),
                            (models.BlockDeviceMapping, bdms),
                            (models.InstanceAction, actions),
                            (models.InstanceInfoCache, caches)):
            _insert(s, model, rows)
    return uuids


def build_database(projects: dict[str, int]) -> dict[str, list[str]]:
    with contextlib.redirect_stdout(io.StringIO()):
        manage.cmd_seed(None)
    with session.transaction() as s:
        network = network_db.create_network(s, 'bench', '10.128.0.0/16', project_id=None,
                                            shared=True)
        s.flush()
        subnet_id = network.subnets[0].id
    with session.reader() as s:
        subnet = s.get(models.Subnet, subnet_id)
        flavor = flavor_db.get_by_flavorid(s, '1')
        props = {p.name: p.value for p in s.get(models.Image, manage.TEST_IMAGE_ID).properties}
    result, offset = {}, 2
    for project, count in projects.items():
        result[project] = populate(project, count, subnet, flavor, props, offset)
        offset += count
    engine = session.get_engine()
    if engine.dialect.name == 'postgresql':
        with engine.connect() as conn:
            conn.execution_options(isolation_level='AUTOCOMMIT').exec_driver_sql('ANALYZE')
    return result


# --- the API process -----------------------------------------------------------------

class Api:
    """kumo-api on the benchmark's database, in a process of its own."""

    def __init__(self, url: str, workdir: str, threads: int):
        self.port = stack.free_port()
        self.config = os.path.join(workdir, 'kumo.conf')
        with open(self.config, 'w') as f:
            f.write(stack._ini({
                'DEFAULT': {'transport_url': 'fake://', 'debug': False,
                            'state_path': os.path.join(workdir, 'state'),
                            'log_file': os.path.join(workdir, 'kumo-api.log')},
                'database': {'connection': url},
                'api': {'listen': '127.0.0.1', 'listen_port': self.port,
                        'auth_strategy': 'noauth2', 'threads': threads}}))
        self.proc = subprocess.Popen(
            [stack.executable('kumo-api'), '--config-file', self.config],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir,
            start_new_session=True)
        wait_until_answers(self.proc, self.port, 60, 'kumo-api')

    def stop(self) -> None:
        stop_process(self.proc)


def wait_until_answers(proc: subprocess.Popen, port: int, timeout: float, name: str,
                       log_path: str | None = None) -> None:
    """Wait until the API server `proc` answers GET / with 200 on `port`; a
    RuntimeError (with the end of its log, if any) when it exits or times out."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            tail = ''
            if log_path:
                with open(log_path, errors='replace') as f:
                    tail = ':\n' + f.read()[-4000:]
            raise RuntimeError(f'{name} exited with {proc.returncode}{tail}')
        try:
            conn = http.client.HTTPConnection('127.0.0.1', port, timeout=2)
            conn.request('GET', '/')
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f'{name} did not answer within {timeout:.0f} s')
        time.sleep(0.1)


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class Client:
    """One keep-alive HTTP/1.1 connection, as one client would hold."""

    def __init__(self, port: int, token: str, version: str):
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
        self.headers = {'X-Auth-Token': token, 'OpenStack-API-Version': f'compute {version}'}

    def get(self, path: str) -> tuple[float, dict]:
        """(seconds from sending the request to the last byte of the answer, body);
        the client's own JSON decoding is not timed."""
        start = time.perf_counter()
        self.conn.request('GET', path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f'GET {path}: {response.status} {body[:300]!r}')
        return elapsed, json.loads(body)

    def close(self) -> None:
        self.conn.close()


def detail_pages(client: Client, rounds: int, expected: int) -> list[float]:
    """Times (ms) of the full pages of `rounds` walks through the project."""
    times = []
    for _ in range(rounds):
        path, seen = f'/v2.1/servers/detail?limit={PAGE}', 0
        while path:
            elapsed, body = client.get(path)
            if len(body['servers']) == PAGE:
                times.append(elapsed * 1000)
            seen += len(body['servers'])
            links = body.get('servers_links')
            path = None
            if links:
                url = urllib.parse.urlsplit(links[0]['href'])
                path = f'{url.path}?{url.query}'
        if seen != expected:
            raise RuntimeError(f'walked {seen} servers, expected {expected}')
    return times


def rate(client: Client, paths: list[str], seconds: float) -> tuple[float, list]:
    """Requests per second of GETs of `paths` (in turn) one after another, and the
    latencies (ms)."""
    for path in paths[:200]:  # warm-up
        client.get(path)
    latencies, n = [], 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        elapsed, _ = client.get(paths[n % len(paths)])
        latencies.append(elapsed * 1000)
        n += 1
    return n / (time.perf_counter() - start), latencies


WRK_LUA = """-- One keep-alive connection GETting the paths in turn (benchmarks/list.py).
local paths = {%s}
local headers = {["X-Auth-Token"] = "%s", ["OpenStack-API-Version"] = "compute %s"}
local n = 0
request = function()
  n = n %% #paths + 1
  return wrk.format("GET", paths[n], headers)
end
"""


def wrk_rate(port: int, token: str, version: str, paths: list[str], seconds: float,
             workdir: str) -> dict | None:
    """Requests per second of GETs of `paths` in turn from wrk (C, one thread, one
    keep-alive connection), and its median and p99 latency (ms); None without wrk.

    The figure of a client that costs next to nothing itself: http.client spends
    about 0.05 ms of its own on every answer (parsing its headers through
    email.parser), and the Python client's loop decodes every body, which are the
    client's costs and not the server's."""
    wrk = shutil.which('wrk')
    if wrk is None:
        return None
    script = os.path.join(workdir, 'paths.lua')
    with open(script, 'w') as f:
        f.write(WRK_LUA % (', '.join(json.dumps(p) for p in paths), token, version))
    base = f'http://127.0.0.1:{port}'
    subprocess.run([wrk, '-t1', '-c1', '-d2s', '-s', script, base],  # warm-up
                   capture_output=True, check=True)
    out = subprocess.run([wrk, '-t1', '-c1', f'-d{seconds:g}s', '--latency', '-s', script,
                          base], capture_output=True, text=True, check=True).stdout
    if 'Non-2xx' in out:
        raise RuntimeError(f'wrk: answers other than 200:\n{out}')
    figures = {'requests_per_s': float(_wrk_field(out, 'Requests/sec:'))}
    for label, key in (('50%', 'median_ms'), ('99%', 'p99_ms')):
        figures[key] = _wrk_ms(_wrk_field(out, label))
    return figures


def _wrk_field(output: str, label: str) -> str:
    for line in output.splitlines():
        words = line.split()
        if words[:1] == [label]:
            return words[1]
    raise RuntimeError(f'wrk printed no {label!r}:\n{output}')


def _wrk_ms(text: str) -> float:
    for unit, factor in (('us', 0.001), ('ms', 1.0), ('s', 1000.0)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * factor
    raise RuntimeError(f'wrk latency {text!r}')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=5,
                        help='walks through each project (default 5)')
    parser.add_argument('--seconds', type=float, default=10.0,
                        help='duration of each show measurement (default 10)')
    parser.add_argument('--threads', type=int, default=None,
                        help='[api] threads of the API process (default: the option\'s)')
    parser.add_argument('--json', help='write every figure to this file')
    args = parser.parse_args()

    cloud.ensure_conf_parsed()
    if not database.backend_available('postgresql'):
        print('PostgreSQL does not answer on 127.0.0.1:5432 (tools/ensure-services.sh)',
              file=sys.stderr)
        return 2
    db = database.Database('postgresql')
    db.setUp()
    workdir = tempfile.mkdtemp(prefix='kumo_list_bench_')
    api = None
    try:
        projects = {f'bench{size}': size for size in SIZES}
        t0 = time.monotonic()
        servers = build_database(projects)
        print(f'Database: {sum(SIZES)} servers in {len(SIZES)} projects, built in '
              f'{time.monotonic() - t0:.1f} s')
        threads = args.threads or CONF.api.threads
        api = Api(db.url, workdir, threads)
        print(f'kumo-api: one process, waitress, {threads} threads; '
              f'Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}')
        results: dict = {'detail': {}, 'show': {}}
        ok = True
        for size in SIZES:
            project = f'bench{size}'
            client = Client(api.port, f'bench:{project}', VERSION)
            detail_pages(client, 1, size)  # warm-up walk
            times = detail_pages(client, max(args.rounds, -(-MIN_PAGES // (size // PAGE))),
                                 size)
            client.close()
            median = statistics.median(times)
            results['detail'][size] = {'pages': len(times), 'median_ms': median,
                                       'p95_ms': percentile(times, 95),
                                       'min_ms': min(times), 'max_ms': max(times)}
            met = median <= TARGET_PAGE_MS
            ok &= met
            print(f'GET /servers/detail?limit={PAGE} at {VERSION}, {size:>6} servers: '
                  f'median {median:6.1f} ms  p95 {percentile(times, 95):6.1f} ms  '
                  f'({len(times)} pages)  target <= {TARGET_PAGE_MS:.0f} ms '
                  f'{"met" if met else "MISSED"}')
        shows = [f'/v2.1/servers/{uuid}' for uuid in servers['bench1000']]
        # The floor of the stack (waitress, middleware, auth, Flask; no database, no
        # policy): the version document, for scale.
        for label, version, paths in ((f'GET /servers/{{id}} at {VERSION}', VERSION, shows),
                                      ('GET /servers/{id} at 2.1', '2.1', shows),
                                      ('GET /v2.1 (version document)', '2.1', ['/v2.1'])):
            client = Client(api.port, 'bench:bench1000', version)
            per_s, latencies = rate(client, paths, args.seconds)
            client.close()
            by_wrk = wrk_rate(api.port, 'bench:bench1000', version, paths, args.seconds,
                              workdir)
            results['show'][label] = {'requests_per_s': per_s,
                                      'median_ms': statistics.median(latencies),
                                      'p95_ms': percentile(latencies, 95),
                                      'requests': len(latencies), 'wrk': by_wrk}
            line = (f'{label:<32} http.client: {per_s:6.0f} req/s  '
                    f'median {statistics.median(latencies):.2f} ms  '
                    f'p95 {percentile(latencies, 95):.2f} ms')
            if by_wrk:
                line += (f'\n{"":<32} wrk:         {by_wrk["requests_per_s"]:6.0f} req/s  '
                         f'median {by_wrk["median_ms"]:.2f} ms  '
                         f'p99 {by_wrk["p99_ms"]:.2f} ms')
            if version == VERSION:
                # The server's figure: wrk's where it is installed.
                measured = by_wrk['requests_per_s'] if by_wrk else per_s
                met = measured >= TARGET_SHOW_RPS
                ok &= met
                line += (f'  target >= {TARGET_SHOW_RPS:.0f} '
                         f'{"met" if met else "MISSED"}')
            print(line)
        print(f'load average after: {os.getloadavg()[0]:.1f}')
        if args.json:
            with open(args.json, 'w') as f:
                json.dump(results, f, indent=2)
        return 0 if ok else 1
    finally:
        if api is not None:
            api.stop()
        session.dispose()
        db.cleanUp()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
