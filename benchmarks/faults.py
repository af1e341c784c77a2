#!/usr/bin/env python3
"""Recovery from faults: how long until every server ends, and how many are stuck or lost.

For each fault scenario of tests/faults/scenarios.py -- kill -9 of the conductor (and
a restart), of the scheduler, of a compute agent (while some of its servers are being
deleted); `rabbitmqctl stop_app; start_app` of the broker; PostgreSQL stopped for 3 s
-- starts a whole Kumo of separate processes with short deadlines, boots 50 servers
concurrently, injects the fault while they are in flight, then measures:

* seconds from the fault until the last server was ACTIVE or ERROR (and from the
  first POST), against the bound its deadlines imply;
* stuck: servers not ended by that bound; lost: servers that vanished, went to ERROR
  without a fault, or are ACTIVE without their guest; duplicated: a guest on a host
  other than the server's (asking every agent) or, where no agent died, a server
  spawned twice; leaks: claims, ports or guests left after every server is deleted.

    .venv/bin/python benchmarks/faults.py [--boots 50] [--scenarios conductor,...]
                                          [--json out.json]

Targets: stuck 0 and lost 0 (and duplicated 0, leaks 0) in every scenario. Exit
status 0 when met, 1 when missed, 2 when the benchmark could not run.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.faults import infra, scenarios  # noqa: E402
from tests.fixtures import rabbit, stack  # noqa: E402


def _row(outcome: scenarios.Outcome) -> list[str]:
    return [outcome.scenario, str(outcome.boots), str(outcome.active), str(outcome.error),
            str(len(outcome.stuck)), str(len(outcome.lost)), str(len(outcome.duplicates)),
            str(len(outcome.leaks)), f'{outcome.seconds_after_fault}',
            f'{outcome.seconds_total}', f'{outcome.bound:.0f}']


HEADER = ['scenario', 'boots', 'ACTIVE', 'ERROR', 'stuck', 'lost', 'duplicated',
          'leaks', 's after fault', 's after 1st POST', 'bound s']


def run(args) -> int:
    names = args.scenarios.split(',') if args.scenarios else list(scenarios.SCENARIOS)
    unknown = [n for n in names if n not in scenarios.SCENARIOS]
    if unknown:
        print(f'Unknown scenarios {unknown}; known: {list(scenarios.SCENARIOS)}',
              file=sys.stderr)
        return 2
    reasons = {n: scenarios.unavailable(n) for n in names}
    if any(reasons.values()):
        print('Cannot run: ' + '; '.join(f'{n}: {r}' for n, r in reasons.items() if r),
              file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    outcomes = []
    for name in names:
        start = time.monotonic()
        print(f'--- {name}: {args.boots} boots ...', flush=True)
        outcome = scenarios.SCENARIOS[name](boots=args.boots)
        outcomes.append(outcome)
        print(outcome.report(), flush=True)
        print(f'    (scenario wall time {time.monotonic() - start:.0f} s)', flush=True)
    load_after = os.getloadavg()[0]

    print()
    cpus = os.cpu_count() or 1
    busy = max(load_before, load_after) > cpus
    print(f'{args.boots} concurrent boots per scenario, fake driver, RabbitMQ + '
          f'PostgreSQL; load average {load_before:.1f} before, {load_after:.1f} after, on '
          f'{cpus} CPUs' + ('  (BUSY MACHINE: times are pessimistic)' if busy else ''))
    rows = [HEADER] + [_row(o) for o in outcomes]
    widths = [max(len(r[c]) for r in rows) for c in range(len(HEADER))]
    print('| ' + ' | '.join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)) + ' |')
    print('|' + '|'.join('-' * (w + 2) for w in widths) + '|')
    for row in rows[1:]:
        print('| ' + ' | '.join(v.ljust(w) for v, w in zip(row, widths, strict=True))
              + ' |')
    met = all(not o.stuck and not o.lost and not o.duplicates and not o.leaks
              and not o.refused for o in outcomes)
    print(f'targets (stuck 0, lost 0, duplicated 0, leaks 0): {"MET" if met else "MISSED"}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'date': datetime.date.today().isoformat(),
                       'machine': platform.node(), 'cpus': cpus, 'boots': args.boots,
                       'load_average': [load_before, load_after],
                       'config': scenarios.FAULT_CONFIG,
                       'scenarios': [o.__dict__ for o in outcomes],
                       'targets_met': met}, f, indent=1, default=str)
    return 0 if met else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--boots', type=int, default=50,
                        help='concurrent boots per scenario (50)')
    parser.add_argument('--scenarios',
                        help='comma-separated, of: ' + ', '.join(scenarios.SCENARIOS))
    parser.add_argument('--json', help='also write the figures to this JSON file')
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (stack.StackError, stack.ApiError, rabbit.RabbitUnavailable,
            infra.InfraUnavailable) as exc:
        print(f'Benchmark failed: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
