#!/usr/bin/env python3
"""Kumo and a real Nova (from PyPI) side by side: server show and detail list.

For each side in turn (only one API process runs at a time), on this machine:

  kumo  benchmarks/list.py's machinery: a fresh PostgreSQL database with 1,000 ACTIVE
        servers in project bench1000 (list.py's rows: metadata, tags, system metadata,
        a port and its info cache, request spec, BDM, action), kumo-api (waitress,
        [api] threads) in a process of its own.
  nova  Nova from PyPI in .kumo/nova-venv (tools/nova-venv.sh makes it): three fresh
        PostgreSQL databases (API, cell0, cell1; dropped afterwards) made by
        nova-manage (api_db sync, cell_v2 map_cell0 / create_cell, db sync), 1,000
        ACTIVE servers in project bench1000 written with Nova's own objects
        (Instance.create: instances, instance_extra with the flavor,
        instance_info_caches with a neutron-style network_info,
        instance_system_metadata with the image properties, instance_metadata; tags,
        an image BDM; an InstanceMapping and a RequestSpec in the API database),
        then Nova's WSGI application nova.wsgi.osapi_compute:application served by
        waitress (the same WSGI server and thread count as kumo-api) in a process of
        its own.

and measures from one client over one keep-alive HTTP/1.1 connection (list.py's
Client, detail_pages and rate, imported from it):

  detail  GET /v2.1/servers/detail?limit=1000 at 2.100, the time of each full page
          of 1,000 (a warm-up walk, then --rounds walks);
  show    GET /v2.1/servers/{id} at 2.100 and at 2.1 over the 1,000 servers in turn
          for --seconds each: requests per second; GET /v2.1 (version document) the
          same way, the floor of each stack.

Nova 34 has no noauth2 any more (only keystone): its paste pipeline is Nova's own
api-paste.ini with the keystonemiddleware `authtoken` filter taken out, so
NovaKeystoneContext builds the request context from X-User-Id / X-Project-Id /
X-Roles headers the client sends (what noauth2 did from its token; Kumo runs with
noauth2). Nova's show and detail views ask Neutron for every server's security
groups (two Neutron calls per request); there is no Neutron here, so the Nova
process answers that call in process ({'name': 'default'} per server): Nova's
figures are without those two HTTP round trips, i.e. better than a real Nova's.

The scheduler part (in process, no RPC): Kumo's figure is benchmarks/scheduler.py's
(its cloud of 1,000 hosts in SQLite, SchedulerManager.select_destinations with the
same_host, different_host, group and cidr hints: host-state refresh, filters,
weighers, claim, stored report) and, for the comparison, the filter + weigh pass of
the same manager alone; Nova's is the filter + weigh pass of Nova's own
SchedulerManager._get_sorted_hosts (HostManager.get_filtered_hosts, get_weighed_hosts,
the host subset pick) over 1,000 nova.scheduler.host_manager.HostState objects made
from ComputeNode objects with the same figures as scheduler.py's nodes, the same four
placed instances and anti-affinity group, and the same hints. Filters: Nova 34's
default enabled_filters plus those of Kumo's default list Nova still has (Nova has no
RamFilter, CoreFilter, DiskFilter or AvailabilityZoneFilter: Placement does that work);
weighers: each side's default (all of its weighers). Nova's real select_destinations
also asks Placement for allocation candidates and claims there: not included, so
Nova's figure is the filter/weigher pass only.

    .venv/bin/python benchmarks/nova_side_by_side.py [--rounds 5] [--seconds 10]
        [--threads 16] [--sides kumo,nova] [--parts api,scheduler] [--hosts 1000]
        [--iterations 60] [--json out.json]

Exit status: 0 measured, 2 could not run (Nova not installable, PostgreSQL down, an
API did not start). No targets: the figures are for comparison.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid as uuidlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOVA_VENV = os.environ.get('NOVA_VENV', os.path.join(REPO, '.kumo', 'nova-venv'))
NOVA_PYTHON = os.path.join(NOVA_VENV, 'bin', 'python')
INSIDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'nova_inside.py')
if REPO not in sys.path:
    sys.path.insert(0, REPO)
from benchmarks.nova_inside import (  # noqa: E402
    PROJECT,
    USER,
    pass_figures,
)

COUNT = 1000
VERSION = '2.100'
PG_ADMIN = 'postgresql+psycopg2://postgres@127.0.0.1:5432/postgres'


# --- the driver (Kumo's venv) --------------------------------------------------------

def load_list_bench():
    """benchmarks/list.py as a module (its functions are the Kumo side and the client)."""
    spec = importlib.util.spec_from_file_location(
        'kumo_list_bench', os.path.join(REPO, 'benchmarks', 'list.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_nova_venv() -> str | None:
    """Nova's version, installing it with tools/nova-venv.sh if needed; None if not."""
    check = [NOVA_PYTHON, '-c', 'import importlib.metadata as m, nova.api.openstack.'
             'wsgi_app, waitress, psycopg2; print(m.version("nova"))']
    if not os.access(NOVA_PYTHON, os.X_OK) or subprocess.run(
            check, capture_output=True).returncode != 0:
        print(f'Nova venv missing or incomplete: running tools/nova-venv.sh into {NOVA_VENV}',
              flush=True)
        result = subprocess.run(['bash', os.path.join(REPO, 'tools', 'nova-venv.sh')],
                                env={**os.environ, 'NOVA_VENV': NOVA_VENV},
                                capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stdout[-2000:], result.stderr[-4000:], file=sys.stderr)
            return None
    result = subprocess.run(check, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def load_figures(bench, client, paths: list[str], seconds: float) -> dict:
    per_s, latencies = bench.rate(client, paths, seconds)
    return {'requests_per_s': round(per_s, 1),
            'median_ms': round(statistics.median(latencies), 3),
            'p95_ms': round(bench.percentile(latencies, 95), 3), 'requests': len(latencies)}


def measure(bench, make_client, ids: list[str], rounds: int, seconds: float) -> dict:
    """The figures of one API: detail pages, shows at 2.100 and 2.1, version document."""
    result = {'load_before': round(os.getloadavg()[0], 2)}
    client = make_client(VERSION)
    bench.detail_pages(client, 1, COUNT)  # warm-up walk
    # What is being compared: the size of the answers and the fields of a server.
    for key, path in (('detail_page', f'/v2.1/servers/detail?limit={bench.PAGE}'),
                      ('show', f'/v2.1/servers/{ids[0]}')):
        client.conn.request('GET', path, headers=client.headers)
        body = client.conn.getresponse().read()
        result[f'{key}_bytes'] = len(body)
        server = json.loads(body)
        server = server['servers'][0] if 'servers' in server else server['server']
        result[f'{key}_fields'] = sorted(server)
        if key == 'show':
            result['show_sample'] = server
    times = bench.detail_pages(client, rounds, COUNT)
    client.close()
    result['detail'] = {'pages': len(times), 'median_ms': round(statistics.median(times), 1),
                        'p95_ms': round(bench.percentile(times, 95), 1),
                        'min_ms': round(min(times), 1), 'max_ms': round(max(times), 1)}
    shows = [f'/v2.1/servers/{uuid}' for uuid in ids]
    for key, version, paths in (('show_2.100', VERSION, shows), ('show_2.1', '2.1', shows),
                                ('version_document', '2.1', ['/v2.1'])):
        client = make_client(version)
        result[key] = load_figures(bench, client, paths, seconds)
        client.close()
    result['load_after'] = round(os.getloadavg()[0], 2)
    return result


def run_kumo(bench, args) -> dict:
    from oslo_config import cfg

    from kumo_common.db import session
    from tests.fixtures import cloud, database
    cloud.ensure_conf_parsed()
    threads = args.threads or cfg.CONF.api.threads
    db = database.Database('postgresql')
    db.setUp()
    workdir = tempfile.mkdtemp(prefix='kumo_nova_sbs_')
    api = None
    try:
        t0 = time.monotonic()
        ids = bench.build_database({PROJECT: COUNT})[PROJECT]
        built = time.monotonic() - t0
        api = bench.Api(db.url, workdir, threads)
        print(f'kumo: {COUNT} servers built in {built:.1f} s; kumo-api: waitress, '
              f'{threads} threads, port {api.port}', flush=True)

        def make_client(version):
            return bench.Client(api.port, f'{USER}:{PROJECT}', version)

        result = measure(bench, make_client, ids, args.rounds, args.seconds)
        result.update({'build_s': round(built, 1), 'threads': threads})
        return result
    finally:
        if api is not None:
            api.stop()
        session.dispose()
        db.cleanUp()
        shutil.rmtree(workdir, ignore_errors=True)


def load_bench(name: str):
    spec = importlib.util.spec_from_file_location(
        f'kumo_{name}_bench', os.path.join(REPO, 'benchmarks', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_kumo_scheduler(n: int, iterations: int) -> dict:
    """benchmarks/scheduler.py's cloud and its figure (select_destinations: host state
    refresh, filters, weighers, claim, stored report), and the filter + weigh pass of
    the same manager alone (SchedulerManager._filter and weighers.weigh, with the
    report's bookkeeping), which is what Nova's figure covers."""
    from oslo_config import cfg

    from kumo_common import context
    from kumo_common.db import migration, session
    from kumo_common.db import scheduling as sched_db
    from kumo_scheduler import manager as manager_mod
    from kumo_scheduler import report as reports
    from kumo_scheduler import weighers
    from kumo_scheduler.filters import Request
    sched = load_bench('scheduler')
    conf = cfg.CONF
    conf.set_override('service_down_time', 86400)
    with tempfile.TemporaryDirectory(prefix='kumo-nova-sched-') as workdir:
        url = f'sqlite:///{os.path.join(workdir, "bench.db")}'
        conf.set_override('connection', url, group='database')
        session.dispose()
        migration.db_sync(url)
        hints = sched.build_cloud(n)
        manager = manager_mod.SchedulerManager()
        ctxt = context.get_admin_context()
        sched.run(manager, ctxt, 1, 1, {})  # the first request loads every host state
        result = {'hosts': n, 'filters': [f.name for f in manager.filters],
                  'weighers': [type(w).__name__ for w in manager.weighers],
                  'select_destinations_hints': sched.summarise(
                      sched.run(manager, ctxt, iterations, 1, hints))}
        keep = max(conf.filter_scheduler.report_max_weighed_hosts,
                   conf.filter_scheduler.host_subset_size + conf.scheduler.max_attempts, 50)
        for scenario, scenario_hints in (('hints', hints), ('no-hints', {})):
            probe = sched.spec(1, scenario_hints)
            with session.reader() as s:
                hosts = manager.host_manager.hosts(s)
                places = sched_db.instance_places(s, sorted(
                    {v for name in manager_mod._INSTANCE_HINTS
                     for v in manager_mod._hint_list(probe, name)}))
                group = manager_mod._load_group(s, probe)
            times, cpu, survivors = [], [], 0
            for index in range(iterations + 1):
                spec = sched.spec(1, scenario_hints)
                uuid = spec.instance_uuids[0]
                start, start_cpu = time.perf_counter(), time.process_time()
                request = Request(spec=spec, instance_uuid=uuid, instance_hosts=places,
                                  group=group)
                rep = reports.Report(uuid, None, spec, len(hosts))
                candidates = manager._filter(hosts, request, rep)
                weighed = weighers.weigh(candidates, request, manager.weighers, keep=keep)
                rep.weighed(weighed, manager.weighers, request)
                manager._subset_first(weighed.ranked)
                if index:  # the first is a warm-up
                    cpu.append((time.process_time() - start_cpu) * 1000)
                    times.append((time.perf_counter() - start) * 1000)
                survivors = len(candidates)
            result[scenario] = pass_figures(times, cpu, survivors)
        session.dispose()
    return result


def run_nova_scheduler(n: int, iterations: int) -> dict:
    result = subprocess.run(
        [NOVA_PYTHON, INSIDE, 'scheduler', str(n),
         str(iterations)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f'Nova\'s scheduler pass failed:\n{result.stderr[-4000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


class NovaDatabases:
    """nova_api, nova_cell0 and nova_cell1 databases of this run (dropped by drop())."""

    def __init__(self):
        import sqlalchemy as sa
        token = uuidlib.uuid4().hex[:8]
        self.names = {kind: f'nova_bench_{token}_{kind}' for kind in ('api', 'cell0', 'cell1')}
        self.engine = sa.create_engine(PG_ADMIN, isolation_level='AUTOCOMMIT')
        with self.engine.connect() as conn:
            for name in self.names.values():
                conn.exec_driver_sql(f'CREATE DATABASE {name}')

    def url(self, kind: str) -> str:
        return f'postgresql+psycopg2://postgres@127.0.0.1:5432/{self.names[kind]}'

    def drop(self) -> None:
        with self.engine.connect() as conn:
            for name in self.names.values():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')
        self.engine.dispose()


def write_nova_config(confdir: str, dbs: NovaDatabases) -> None:
    with open(os.path.join(NOVA_VENV, 'etc', 'nova', 'api-paste.ini')) as f:
        paste = f.read()
    # Nova 34 has no noauth2: the keystone pipeline without keystonemiddleware's token
    # check; NovaKeystoneContext takes the user, project and roles from the headers.
    paste = paste.replace(' authtoken keystonecontext ', ' keystonecontext ')
    with open(os.path.join(confdir, 'api-paste.ini'), 'w') as f:
        f.write(paste)
    with open(os.path.join(confdir, 'nova.conf'), 'w') as f:
        f.write('\n'.join([
            '[DEFAULT]', 'host = nova-bench', 'transport_url = fake://', 'debug = False',
            f'log_file = {os.path.join(confdir, "nova-api.log")}',
            f'state_path = {os.path.join(confdir, "state")}', 'my_ip = 127.0.0.1', '',
            '[api_database]', f'connection = {dbs.url("api")}', '',
            '[database]', f'connection = {dbs.url("cell1")}', '',
            '[wsgi]', f'api_paste_config = {os.path.join(confdir, "api-paste.ini")}', '',
            '[oslo_concurrency]', f'lock_path = {os.path.join(confdir, "lock")}', '']))


def nova_manage(confdir: str, *argv: str) -> None:
    result = subprocess.run(
        [os.path.join(NOVA_VENV, 'bin', 'nova-manage'), '--config-file',
         os.path.join(confdir, 'nova.conf'), *argv], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f'nova-manage {" ".join(argv)}: {result.returncode}\n'
                           f'{result.stdout[-2000:]}{result.stderr[-4000:]}')


def image_properties() -> dict:
    """The properties of Kumo's seeded test image (`kumo-manage seed`), which Kumo's
    servers carry in their system metadata too."""
    return {'architecture': 'x86_64', 'hypervisor_type': 'qemu'}


class NovaApi:
    def __init__(self, bench, confdir: str, threads: int, port: int):
        self.port = port
        self.log = open(os.path.join(confdir, 'nova-api.out'), 'w')
        self.proc = subprocess.Popen(
            [NOVA_PYTHON, INSIDE, 'api', confdir, str(port),
             str(threads)], stdout=self.log, stderr=subprocess.STDOUT, cwd=confdir,
            start_new_session=True)
        self.log.flush()
        bench.wait_until_answers(self.proc, port, 120, 'the Nova API', self.log.name)

    def stop(self, bench) -> None:
        bench.stop_process(self.proc)
        self.log.close()


def run_nova(bench, args, version: str) -> dict:
    from oslo_config import cfg

    from tests.fixtures import stack
    threads = args.threads or cfg.CONF.api.threads
    dbs = NovaDatabases()
    confdir = tempfile.mkdtemp(prefix='nova_sbs_')
    api = None
    try:
        write_nova_config(confdir, dbs)
        t0 = time.monotonic()
        nova_manage(confdir, 'api_db', 'sync')
        nova_manage(confdir, 'cell_v2', 'map_cell0', '--database_connection', dbs.url('cell0'))
        nova_manage(confdir, 'cell_v2', 'create_cell', '--name', 'cell1',
                    '--database_connection', dbs.url('cell1'), '--transport-url', 'fake://')
        nova_manage(confdir, 'db', 'sync')
        schema_s = time.monotonic() - t0
        t0 = time.monotonic()
        out = os.path.join(confdir, 'uuids.json')
        result = subprocess.run(
            [NOVA_PYTHON, INSIDE, 'populate', confdir, out,
             str(COUNT), json.dumps(image_properties())], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f'populating Nova failed:\n{result.stderr[-4000:]}')
        with open(out) as f:
            ids = json.load(f)
        import sqlalchemy as sa
        for kind in ('api', 'cell1'):
            engine = sa.create_engine(dbs.url(kind), isolation_level='AUTOCOMMIT')
            with engine.connect() as conn:
                conn.exec_driver_sql('ANALYZE')
            engine.dispose()
        built = time.monotonic() - t0
        api = NovaApi(bench, confdir, threads, stack.free_port())
        print(f'nova {version}: schemas in {schema_s:.1f} s, {COUNT} servers built in '
              f'{built:.1f} s; nova.wsgi.osapi_compute under waitress, {threads} threads, '
              f'port {api.port}', flush=True)
        headers = {'X-User-Id': USER, 'X-Project-Id': PROJECT, 'X-Roles': 'member,reader'}

        def make_client(version):
            client = bench.Client(api.port, 'unused', version)
            client.headers.update(headers)
            return client

        figures = measure(bench, make_client, ids, args.rounds, args.seconds)
        figures.update({'build_s': round(built, 1), 'schema_s': round(schema_s, 1),
                        'threads': threads, 'nova_version': version})
        return figures
    finally:
        if api is not None:
            api.stop(bench)
            if args.keep_logs:
                shutil.copy(os.path.join(confdir, 'nova-api.log'), args.keep_logs)
        dbs.drop()
        shutil.rmtree(confdir, ignore_errors=True)


def _table(title: str, rows, kumo: dict | None, nova: dict | None, version: str) -> None:
    print()
    print(f'{title:<56} {"Kumo":>12} {"Nova " + version:>14} {"Kumo faster":>12}')
    for label, key, field in rows:
        cells = []
        for side in (kumo, nova):
            if side is None:
                cells.append('-')
            elif key is None:
                cells.append(f'{side["load_before"]:.1f} / {side["load_after"]:.1f}')
            else:
                cells.append(f'{side[key][field]:g}')
        ratio = ''
        if kumo and nova and key:
            k, n = kumo[key][field], nova[key][field]
            k, n = (n, k) if field == 'requests_per_s' else (k, n)
            ratio = f'x {n / k:.1f}' if k else ''
        print(f'{label:<56} {cells[0]:>12} {cells[1]:>14} {ratio:>12}')


def report(results: dict) -> None:
    version = results.get('nova_version', '')
    if results.get('kumo') or results.get('nova'):
        _table('API, one client, one keep-alive connection', [
            (f'GET /servers/detail?limit=1000 at {VERSION}: median ms', 'detail', 'median_ms'),
            ('  p95 ms', 'detail', 'p95_ms'),
            (f'GET /servers/{{id}} at {VERSION}: requests/s', 'show_2.100', 'requests_per_s'),
            ('  median ms', 'show_2.100', 'median_ms'),
            ('GET /servers/{id} at 2.1: requests/s', 'show_2.1', 'requests_per_s'),
            ('GET /v2.1 (version document): requests/s', 'version_document',
             'requests_per_s'),
            ('load average before / after', None, None)],
            results.get('kumo'), results.get('nova'), version)
    kumo, nova = results.get('kumo_scheduler'), results.get('nova_scheduler')
    if kumo or nova:
        hosts = (kumo or nova)['hosts']
        if kumo:
            kumo = {**kumo, 'full': kumo['select_destinations_hints']}
        _table(f'Scheduler, {hosts} hosts, in process (median ms)', [
            ('filter + weigh pass, hints', 'hints', 'median_ms'),
            ('  CPU ms', 'hints', 'cpu_median_ms'),
            ('filter + weigh pass, no hints (every host weighed)', 'no-hints', 'median_ms'),
            ('  CPU ms', 'no-hints', 'cpu_median_ms'),
            ('load average before / after', None, None)], kumo, nova, version)
        if kumo:
            print(f'Kumo select_destinations with hints (scheduler.py\'s figure: refresh, '
                  f'filters, weighers, claim, report): median {kumo["full"]["median_ms"]} ms'
                  f'; Nova\'s select_destinations also asks Placement (not measured).')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=5,
                        help='timed walks through the 1,000 servers (default 5)')
    parser.add_argument('--seconds', type=float, default=10.0,
                        help='duration of each show measurement (default 10)')
    parser.add_argument('--threads', type=int, default=None,
                        help='waitress threads of both API processes (default: Kumo\'s '
                             '[api] threads, 16)')
    parser.add_argument('--sides', default='kumo,nova', help='which sides, in this order')
    parser.add_argument('--parts', default='api,scheduler',
                        help='api (show and detail), scheduler (filter + weigh pass)')
    parser.add_argument('--hosts', type=int, default=1000,
                        help='hosts of the scheduler part (default 1000)')
    parser.add_argument('--iterations', type=int, default=60,
                        help='requests timed per scheduler scenario (default 60)')
    parser.add_argument('--keep-logs', metavar='FILE', help='copy nova-api.log here')
    parser.add_argument('--json', help='write every figure to this file')
    args = parser.parse_args()
    sides = [s for s in args.sides.split(',') if s]
    parts = [p for p in args.parts.split(',') if p]
    for name in sides + parts:
        if name not in ('kumo', 'nova', 'api', 'scheduler'):
            parser.error(f'unknown side or part {name!r}')
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    bench = load_list_bench()
    from tests.fixtures import cloud, database
    cloud.ensure_conf_parsed()
    if 'api' in parts and not database.backend_available('postgresql'):
        print('PostgreSQL does not answer on 127.0.0.1:5432 (tools/ensure-services.sh)',
              file=sys.stderr)
        return 2
    results: dict = {'machine': {'cpus': os.cpu_count(), 'python': platform.python_version()},
                     'microversion': VERSION, 'started': time.strftime('%Y-%m-%d %H:%M:%S %Z')}
    version = None
    if 'nova' in sides:
        version = ensure_nova_venv()
        if version is None:
            print('Nova could not be installed (tools/nova-venv.sh failed): no comparison',
                  file=sys.stderr)
            return 2
        results['nova_version'] = version
    print(f'load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs), '
          f'microversion {VERSION}', flush=True)
    try:
        for part in parts:
            for side in sides:
                if part == 'api':
                    figures = (run_kumo(bench, args) if side == 'kumo'
                               else run_nova(bench, args, version))
                    results[side] = figures
                else:
                    load = round(os.getloadavg()[0], 2)
                    figures = (run_kumo_scheduler(args.hosts, args.iterations)
                               if side == 'kumo'
                               else run_nova_scheduler(args.hosts, args.iterations))
                    figures.update(load_before=load, load_after=round(os.getloadavg()[0], 2))
                    results[f'{side}_scheduler'] = figures
                brief = {k: v for k, v in figures.items()
                         if not k.endswith(('_fields', '_sample'))}
                print(json.dumps({f'{side} {part}': brief}), flush=True)
    except RuntimeError as exc:
        print(f'could not run: {exc}', file=sys.stderr)
        return 2
    results['finished'] = time.strftime('%Y-%m-%d %H:%M:%S %Z')
    report(results)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
