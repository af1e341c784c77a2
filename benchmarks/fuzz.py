#!/usr/bin/env python3
"""Schemathesis against a running Kumo: 10,000 generated requests, counted.

Starts kumo-all (tests/fixtures/stack.py AllInOneStack: SQLite, fake:// messaging,
two fake compute agents), loads the API's own OpenAPI description from
GET /openapi.json and sends generated requests to every operation it describes,
half valid and half breaking the schema, as admin at microversion 2.100, with real
ids in the path half the time (tests/fixtures/fuzz.py has the details).

Prints the number of requests, the responses by status and the three counts that
must be zero, with every finding (request and response) when one is not:
  * 5xx responses;
  * schema violations (status, content type or body not as described: every error
    must be a Nova fault);
  * requests that break the schema yet were not refused with a 4xx.

    .venv/bin/python benchmarks/fuzz.py [--requests 10000] [--seed 0] [--json out.json]
    .venv/bin/python benchmarks/fuzz.py --endpoint http://127.0.0.1:8774   # a running Kumo

Exit status: 0 all three counts zero, 1 a count is not, 2 the run could not start.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import warnings

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tests.fixtures import fuzz, stack  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--requests', type=int, default=10000,
                        help='requests to generate in all (default 10000)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--endpoint', help='fuzz this running Kumo instead of starting '
                                           'kumo-all (it must use noauth2)')
    parser.add_argument('--json', help='write the counts and findings to this file')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='print each finding as it happens')
    args = parser.parse_args(argv)
    # The pattern checker compiles fuzzed patterns; their FutureWarnings are noise here.
    warnings.simplefilter('ignore', FutureWarning)

    running = None
    endpoint = args.endpoint
    if endpoint is None:
        running = stack.AllInOneStack(computes=2)
        try:
            running.start()
        except stack.StackError as exc:
            print(f'kumo-all did not start: {exc}', file=sys.stderr)
            return 2
        endpoint = running.endpoint
    try:
        print(f'Fuzzing {endpoint} with {args.requests} requests (seed {args.seed}); '
              f'{platform.python_version()}, load {os.getloadavg()[0]:.2f}', flush=True)
        report = fuzz.run(fuzz.Target.http(endpoint), total=args.requests, seed=args.seed,
                          verbose=args.verbose)
    finally:
        if running is not None:
            running.cleanUp()

    print(report.summary())
    print('slowest operations (generation and requests):')
    for label, seconds in report.seconds_by_operation.most_common(5):
        print(f'  {seconds:6.1f}s  {report.by_operation[label]:5d} requests  {label}')
    for finding in report.findings():
        print(f'FINDING {finding}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'requests': report.requests, 'seconds': round(report.elapsed, 1),
                       'by_status': {str(k): v for k, v in report.by_status.items()},
                       'server_errors': len(report.server_errors),
                       'schema_violations': len(report.schema_violations),
                       'accepted_invalid': len(report.accepted_invalid),
                       'findings': [str(f) for f in report.findings()]}, f, indent=1)
    return 1 if report.findings() else 0


if __name__ == '__main__':
    sys.exit(main())
