#!/usr/bin/env python3
"""Real guests under TCG: boot and delete times, and the compute agent's memory.

Starts the stack of the guest tests (tests/guest/base.py: kumo-conductor,
kumo-scheduler, kumo-api and one kumo-compute with the libvirt driver, virt_type
qemu, as separate processes on RabbitMQ and PostgreSQL), imports the test guest
(tools/build-test-guest.py) and a 128 MiB flavor, then:

* boots guests one after another (config drive, a hostname of their own). Each is
  timed from just before its POST /v2.1/servers to the first GET that shows ACTIVE
  (polling every 50 ms), and to the moment its serial console log shows the line
  ``hostname=<its hostname>`` that the test guest's init prints once it has read the
  config drive (the guest is up and saw what Kumo gave it). Then DELETE is timed to
  the 404, and the domain and instance directory are checked gone;
* boots 10 guests at once, waits until all are ACTIVE and their consoles ready, lets
  the agent's periodic power sync run (every 5 s) for a while, and reads the agent's
  RSS (VmRSS now, VmHWM its peak) from /proc; then deletes them all at once.

Prints the figures and exits 1 if a target is missed (or a guest failed), 2 if the
benchmark could not run (libvirtd, RabbitMQ, PostgreSQL or the test guest missing).

    .venv/bin/python benchmarks/guest.py [--boots 5] [--guests 10] [--json out.json]

Target (issue 6): the agent's RSS with 10 guests running <= 100 MB. Boot and console
times have no target in the issue; they are reported (they are mostly QEMU's
software emulation, so they depend on the machine and its load).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.fixtures import database, rabbit, stack  # noqa: E402
from tests.guest import base  # noqa: E402

TARGET_RSS_MB = 100.0
FLAVOR = {'name': 'bench.guest', 'id': 'bench-guest-128', 'ram': 128, 'vcpus': 1,
          'disk': 1}
POLL = 0.05


def _proc_kb(pid: int, field: str) -> int:
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


def _wait(what: str, check, timeout: float) -> float:
    """Poll `check()` every POLL s until true; the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise stack.StackError(f'{what}: not within {timeout:.0f} s')
        time.sleep(POLL)


class Bench:
    def __init__(self, st: base.GuestStack):
        self.st = st
        self.client = st.client

    def console_has(self, server_id: str, text: str) -> bool:
        try:
            with open(os.path.join(self.st.instance_dir(server_id), 'console.log'),
                      errors='replace') as f:
                return text in f.read()
        except FileNotFoundError:
            return False

    def status(self, server_id: str) -> str:
        server = self.client.show(server_id)
        if server['status'] == 'ERROR':
            raise stack.StackError(f'{server_id} went to ERROR: {server.get("fault")}')
        return server['status'] if server['OS-EXT-STS:task_state'] is None else ''

    def boot(self, name: str) -> tuple[str, float]:
        start = time.monotonic()
        booted = self.client.boot(name, flavor=FLAVOR['id'], config_drive=True,
                                  hostname=name)
        return booted.id, start

    def one(self, n: int) -> dict:
        name = f'bench-guest-{n}'
        server_id, start = self.boot(name)
        active = _wait(f'{name} ACTIVE', lambda: self.status(server_id) == 'ACTIVE',
                       base.BOOT_TIMEOUT)
        console = _wait(f'{name} console', lambda: self.console_has(
            server_id, f'hostname={name}\n'), base.BOOT_TIMEOUT)
        directory = self.st.instance_dir(server_id)
        deleting = time.monotonic()
        self.client.delete(server_id)
        self.client.wait_gone(server_id, timeout=base.STATE_TIMEOUT, interval=POLL)
        gone = time.monotonic()
        leftovers = [what for what, left in (
            ('domain', server_id in base.domain_uuids()),
            ('files', os.path.exists(directory))) if left]
        return {'n': n, 'id': server_id, 'active_s': active - start,
                'console_s': console - start, 'delete_s': gone - deleting,
                'leftovers': leftovers}

    def many(self, count: int, settle: float) -> dict:
        started = time.monotonic()
        ids = [self.boot(f'bench-many-{n}')[0] for n in range(count)]
        for server_id in ids:
            _wait(f'{server_id} ACTIVE', lambda s=server_id: self.status(s) == 'ACTIVE',
                  base.BOOT_TIMEOUT * 3)
        all_active = time.monotonic() - started
        for server_id in ids:
            _wait(f'{server_id} console', lambda s=server_id: self.console_has(
                s, 'KUMO-GUEST: ready'), base.BOOT_TIMEOUT * 3)
        all_ready = time.monotonic() - started
        running = [u for u in ids if base.domstate(u) == 'running']
        time.sleep(settle)   # a few periodic power syncs over the 10 guests
        pid = self.st.processes[base.AGENT].pid
        rss_kb, hwm_kb = _proc_kb(pid, 'VmRSS'), _proc_kb(pid, 'VmHWM')
        deleting = time.monotonic()
        threads = [threading.Thread(target=self.client.delete, args=(u,)) for u in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for server_id in ids:
            self.client.wait_gone(server_id, timeout=base.STATE_TIMEOUT * 2, interval=POLL)
        all_gone = time.monotonic() - deleting
        left = sorted(set(ids) & base.domain_uuids())
        return {'guests': count, 'running': len(running), 'all_active_s': all_active,
                'all_ready_s': all_ready, 'agent_rss_mb': rss_kb / 1024,
                'agent_peak_rss_mb': hwm_kb / 1024, 'delete_all_s': all_gone,
                'domains_left': left}


def run(args) -> int:
    problem = (base.libvirt_problem() or rabbit.unavailable_reason()
               or (None if database.backend_available('postgresql')
                   else 'PostgreSQL is not answering') or base.ensure_guest())
    if problem:
        print(f'Cannot run: {problem}', file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    st = base.GuestStack(extra_config={
        'quota': {'instances': -1, 'cores': -1, 'ram': -1},
        # 10 one-vCPU guests on a 2-CPU machine: room for them at the scheduler.
        'DEFAULT': {'cpu_allocation_ratio': 16.0}})
    st.start()
    try:
        st.manage('seed', '--guest-dir', base.GUEST_DIR)
        response = st.client.post('/v2.1/flavors', json={'flavor': FLAVOR})
        if response.status_code != 200:
            raise stack.StackError(f'flavor create: {response.status_code} {response.text}')
        bench = Bench(st)
        pid = st.processes[base.AGENT].pid
        idle_rss = _proc_kb(pid, 'VmRSS') / 1024
        boots = []
        for n in range(args.warmup + args.boots):
            record = bench.one(n)
            record['warmup'] = n < args.warmup
            boots.append(record)
            print(f'  boot {n}{" (warm-up)" if record["warmup"] else ""}: ACTIVE '
                  f'{record["active_s"]:5.2f} s, console {record["console_s"]:5.2f} s, '
                  f'delete {record["delete_s"]:5.2f} s'
                  + (f'  LEFT {record["leftovers"]}' if record['leftovers'] else ''),
                  flush=True)
        many = bench.many(args.guests, args.settle)
    finally:
        st.remove_guests()
        st.cleanUp()
    load_after = os.getloadavg()[0]

    measured = [b for b in boots if not b['warmup']]

    def summary(key: str) -> str:
        values = [b[key] for b in measured]
        return (f'median {statistics.median(values):5.2f} s   min {min(values):5.2f}   '
                f'max {max(values):5.2f}')

    rss_ok = many['agent_rss_mb'] <= TARGET_RSS_MB and \
        many['agent_peak_rss_mb'] <= TARGET_RSS_MB
    clean = not any(b['leftovers'] for b in boots) and not many['domains_left'] and \
        many['running'] == args.guests
    cpus = os.cpu_count() or 1
    print()
    print(f'{len(measured)} sequential boots (after {args.warmup} warm-up) of the test guest '
          f'(128 MiB, 1 vCPU, config drive), libvirt virt_type qemu (TCG)')
    print(f'  load average {load_before:.1f} before, {load_after:.1f} after, on {cpus} CPUs'
          + ('  (BUSY MACHINE: figures are pessimistic)'
             if max(load_before, load_after) > cpus else ''))
    print(f'  POST -> ACTIVE                    {summary("active_s")}')
    print(f'  POST -> console shows hostname    {summary("console_s")}')
    print(f'  DELETE -> 404 (domain, files gone) {summary("delete_s")}')
    print(f'{args.guests} guests booted at once: all ACTIVE after '
          f'{many["all_active_s"]:.1f} s, all consoles ready after '
          f'{many["all_ready_s"]:.1f} s, {many["running"]} running; deleted in '
          f'{many["delete_all_s"]:.1f} s')
    print(f'  agent RSS with {args.guests} guests running: {many["agent_rss_mb"]:.1f} MB '
          f'(peak {many["agent_peak_rss_mb"]:.1f} MB, idle at start {idle_rss:.1f} MB); '
          f'target <= {TARGET_RSS_MB:.0f} MB: {"MET" if rss_ok else "MISSED"}')
    if not clean:
        print(f'  PROBLEM: leftovers {[b["leftovers"] for b in boots]}, domains left '
              f'{many["domains_left"]}, running {many["running"]} of {args.guests}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'date': datetime.date.today().isoformat(),
                       'machine': platform.node(), 'cpus': cpus,
                       'load_average': [load_before, load_after], 'boots': boots,
                       'many': many, 'idle_rss_mb': idle_rss,
                       'targets_met': rss_ok and clean}, f, indent=1)
    return 0 if rss_ok and clean else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--boots', type=int, default=5, help='sequential boots (5)')
    parser.add_argument('--warmup', type=int, default=1,
                        help='boots before the measured ones, not counted (1: the '
                             'first fetches the images into the cache)')
    parser.add_argument('--guests', type=int, default=10,
                        help='guests running at once for the RSS figure (10)')
    parser.add_argument('--settle', type=float, default=12.0,
                        help='seconds the guests run before RSS is read (12)')
    parser.add_argument('--json', help='also write the figures to this JSON file')
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (stack.StackError, stack.ApiError, rabbit.RabbitUnavailable) as exc:
        print(f'Benchmark failed: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
