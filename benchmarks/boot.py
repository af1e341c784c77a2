#!/usr/bin/env python3
"""Boot latency and service memory of a Kumo made of separate processes.

Starts kumo-conductor, kumo-scheduler, kumo-api and two kumo-compute agents (fake
driver) as separate processes on RabbitMQ and PostgreSQL (a fresh vhost and database,
removed afterwards: the stack of tests/fixtures/stack.py), then boots servers one after
another. Each boot is timed from just before its POST /v2.1/servers to the GET
/v2.1/servers/{id} that first shows ACTIVE, polling every 10 ms; the server is then
deleted (untimed for the target, reported apart) before the next boot starts.

Prints the median and p95 boot time, where the time of a median boot went between
services (from the services' log timestamps), and the peak RSS (VmHWM) of every
service process; exits 1 if a target is missed, 2 if the benchmark could not run.

    .venv/bin/python benchmarks/boot.py [--boots 50] [--db postgresql] [--json out.json]

Targets: median <= 150 ms (Nova 34 on the same machine: 741 ms); peak RSS of each
service <= 120 MB.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.fixtures import database, rabbit, stack  # noqa: E402

TARGET_MEDIAN_MS = 150.0
NOVA_MEDIAN_MS = 741.0
TARGET_RSS_MB = 120.0

# The log lines that mark the hops of a boot: (label, process name prefix, message
# fragment or None for any line of that process, 'first' or 'last' matching line).
# Lines are those carrying the boot's request id; times are their log timestamps.
HOPS = [
    ('api accepted', 'kumo-api', 'Accepted ', 'first'),
    ('conductor got build', 'kumo-conductor', None, 'first'),
    ('scheduler answered', 'kumo-scheduler', None, 'last'),
    ('conductor cast build', 'kumo-conductor', 'Building instance ', 'first'),
    ('agent spawning', 'kumo-compute@', None, 'first'),
    ('conductor marked ACTIVE', 'kumo-conductor', ' is ACTIVE', 'first'),
]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 50 values is the 48th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


def _log_time(line: str) -> float | None:
    """Epoch seconds of an oslo.log line ('2026-11-29 05:31:35.886 ...', local time)."""
    try:
        stamp = datetime.datetime.strptime(line[:23], '%Y-%m-%d %H:%M:%S.%f')
    except ValueError:
        return None
    return stamp.timestamp()


def hop_times(st: stack.ProcessStack, boots: list[dict]) -> dict[str, list[float]]:
    """For every hop, its offset (ms) from the POST of each boot, from the logs."""
    request_ids = {b['request_id'] for b in boots}
    # request id -> process name -> [(time, line)] in log order
    lines_of: dict[str, dict[str, list[tuple[float, str]]]] = {r: {} for r in request_ids}
    for name in st.processes:
        for line in st.read_log(name).splitlines():
            start = line.find('req-')
            request_id = line[start:start + 40] if start >= 0 else None
            if request_id in request_ids:
                when = _log_time(line)
                if when is not None:
                    lines_of[request_id].setdefault(name, []).append((when, line))
    result: dict[str, list[float]] = {hop: [] for hop, *_ in HOPS}
    for boot in boots:
        per_process = lines_of[boot['request_id']]
        for hop, prefix, fragment, which in HOPS:
            found = [when for name, lines in per_process.items() if name.startswith(prefix)
                     for when, line in lines if fragment is None or fragment in line]
            if found:
                when = min(found) if which == 'first' else max(found)
                result[hop].append((when - boot['start']) * 1000)
    return result


def run(args) -> int:
    reasons = []
    if not database.backend_available(args.db):
        reasons.append(f'{args.db} server is not answering')
    reason = rabbit.unavailable_reason()
    if reason:
        reasons.append(reason)
    if reasons:
        print('Cannot run: ' + '; '.join(reasons), file=sys.stderr)
        return 2

    load_before = os.getloadavg()[0]
    t0 = time.monotonic()
    extra = {'quota': {'instances': -1, 'cores': -1, 'ram': -1}}
    st = stack.ProcessStack(args.db, computes=args.computes, extra_config=extra)
    st.start()
    try:
        print(f'Stack up in {time.monotonic() - t0:.1f} s: '
              + ', '.join(f'{n} (pid {p})' for n, p in st.pids().items()), flush=True)
        client = st.client
        boots: list[dict] = []
        for i in range(args.warmup + args.boots):
            start_wall = time.time()
            start = time.perf_counter()
            booted = client.boot(f'bench-{i}')
            server = client.wait_status(booted.id, 'ACTIVE', timeout=60,
                                        interval=args.interval)
            elapsed = (time.perf_counter() - start) * 1000
            del_start = time.perf_counter()
            client.delete(booted.id)
            client.wait_gone(booted.id, timeout=60, interval=args.interval)
            deleted = (time.perf_counter() - del_start) * 1000
            record = {'n': i, 'id': booted.id, 'request_id': booted.request_id,
                      'host': server['OS-EXT-SRV-ATTR:host'], 'start': start_wall,
                      'boot_ms': elapsed, 'delete_ms': deleted,
                      'warmup': i < args.warmup}
            boots.append(record)
            if args.verbose:
                print(f'  boot {i:2d}{" (warm-up)" if record["warmup"] else ""}: '
                      f'{elapsed:6.1f} ms on {record["host"]}; delete {deleted:6.1f} ms',
                      flush=True)
        rss_kb = st.peak_rss_kb()
        load_after = os.getloadavg()[0]
        measured = [b for b in boots if not b['warmup']]
        hops = hop_times(st, measured)
    finally:
        st.cleanUp()

    times = [b['boot_ms'] for b in measured]
    median = statistics.median(times)
    p95 = percentile(times, 95)
    deletes = [b['delete_ms'] for b in measured]
    rss_mb = {name: kb / 1024 for name, kb in rss_kb.items()}
    median_ok = median <= TARGET_MEDIAN_MS
    rss_ok = len(rss_mb) == len(st.processes) and all(v <= TARGET_RSS_MB
                                                      for v in rss_mb.values())

    print()
    print(f'{len(times)} sequential boots (after {args.warmup} warm-up), fake driver, '
          f'{args.computes} computes, RabbitMQ + {args.db}, polling every '
          f'{args.interval * 1000:.0f} ms')
    cpus = os.cpu_count() or 1
    busy = max(load_before, load_after) > cpus
    print(f'  load average {load_before:.1f} before, {load_after:.1f} after, on {cpus} CPUs'
          + ('  (BUSY MACHINE: figures are pessimistic)' if busy else ''))
    print(f'  POST -> ACTIVE  median {median:6.1f} ms   p95 {p95:6.1f} ms   '
          f'min {min(times):6.1f}   max {max(times):6.1f}')
    print(f'  target median <= {TARGET_MEDIAN_MS:.0f} ms: '
          f'{"MET" if median_ok else "MISSED"} (Nova 34 on this machine: '
          f'{NOVA_MEDIAN_MS:.0f} ms, {NOVA_MEDIAN_MS / median:.1f}x slower)')
    print(f'  DELETE -> 404   median {statistics.median(deletes):6.1f} ms   '
          f'p95 {percentile(deletes, 95):6.1f} ms')
    print('  where a boot\'s time goes (median ms after the POST, from log timestamps):')
    for hop, *_ in HOPS:
        if hops[hop]:
            print(f'    {hop:<24} {statistics.median(hops[hop]):6.1f}')
    print(f'    {"client saw ACTIVE":<24} {median:6.1f}')
    print(f'  peak RSS (VmHWM), target each <= {TARGET_RSS_MB:.0f} MB: '
          f'{"MET" if rss_ok else "MISSED"}')
    for name, mb in rss_mb.items():
        print(f'    {name:<24} {mb:6.1f} MB{"" if mb <= TARGET_RSS_MB else "  OVER"}')

    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'date': datetime.date.today().isoformat(),
                       'machine': platform.node(), 'cpus': os.cpu_count(),
                       'db': args.db, 'computes': args.computes,
                       'load_average': [load_before, load_after],
                       'interval_ms': args.interval * 1000,
                       'median_ms': median, 'p95_ms': p95, 'boots': boots,
                       'hops_median_ms': {h: statistics.median(v)
                                          for h, v in hops.items() if v},
                       'peak_rss_mb': rss_mb,
                       'targets_met': median_ok and rss_ok}, f, indent=1)
    return 0 if median_ok and rss_ok else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--boots', type=int, default=50, help='measured boots (50)')
    parser.add_argument('--warmup', type=int, default=1,
                        help='boots before the measured ones, not counted (1)')
    parser.add_argument('--computes', type=int, default=2, help='compute agents (2)')
    parser.add_argument('--db', default='postgresql', choices=('postgresql', 'mysql'),
                        help='database backend (postgresql)')
    parser.add_argument('--interval', type=float, default=0.01,
                        help='seconds between status polls (0.01)')
    parser.add_argument('--json', help='also write the figures to this JSON file')
    parser.add_argument('-v', '--verbose', action='store_true', help='print every boot')
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (stack.StackError, stack.ApiError, rabbit.RabbitUnavailable) as exc:
        print(f'Benchmark failed: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
