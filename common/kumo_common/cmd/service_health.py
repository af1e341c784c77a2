"""`kumo-manage service health`: is every Kumo service alive, and if not, why.

For each service in the database: its heartbeat (age of services.last_seen_up) and
the liveness the rest of Kumo uses (kumo_common.db.services.down_reason: forced
down, heartbeat late, or the conductor's RPC echo of a compute agent failed); then,
unless --no-echo, an RPC echo sent now to every conductor, scheduler and compute
agent (the "health" namespace every RPC server answers) and a GET /healthcheck of
the API of this host. Exit status 0 when every service is healthy, 1 otherwise.
"""
from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request

from oslo_config import cfg

from kumo_common import context, health, rpc
from kumo_common.db import session

CONF = cfg.CONF


def _check_api(item: health.ServiceHealth, timeout: float) -> None:
    """The API answers no RPC; its /healthcheck (oslo.middleware) instead."""
    url = f'http://{CONF.api.listen}:{CONF.api.listen_port}/healthcheck'
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        item.echo_error = f'GET {url}: {type(exc).__name__}: {exc}'[:200]
        return
    if status != 200:
        item.echo_error = f'GET {url}: {status}'
    else:
        item.echo_ms = (time.monotonic() - start) * 1000


def _age(seconds: float | None) -> str:
    return 'never' if seconds is None else f'{seconds:.0f}s ago'


def cmd_service_health(args) -> int:
    with session.reader() as s:
        items = health.service_health(s)
    if not args.no_echo:
        rpc.init()
        health.echo_all(context.get_admin_context(), items, args.timeout)
        for item in items:
            if item.binary == 'kumo-api' and item.host == CONF.host:
                _check_api(item, args.timeout)
    if args.json:
        json.dump([{'binary': i.binary, 'host': i.host, 'state': i.state,
                    'heartbeat_age': i.heartbeat_age, 'disabled': i.disabled,
                    'down_reason': i.down_reason, 'echo_ms': i.echo_ms,
                    'echo_error': i.echo_error} for i in items], sys.stdout, indent=2)
        print()
    else:
        rows = [('Binary', 'Host', 'Status', 'State', 'Heartbeat', 'Echo', 'Reason')]
        for i in items:
            echo = (f'{i.echo_ms:.0f} ms' if i.echo_ms is not None
                    else 'failed' if i.echo_error else '-')
            reason = '; '.join(r for r in (i.down_reason, i.echo_error and
                                           f'echo now: {i.echo_error}') if r)
            rows.append((i.binary, i.host, 'disabled' if i.disabled else 'enabled',
                         i.state, _age(i.heartbeat_age), echo, reason or '-'))
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
        for row in rows:
            print('  '.join(v.ljust(w) for v, w in zip(row, widths, strict=False))
                  + '  ' + row[-1])
    return 0 if all(i.healthy for i in items) else 1


def add_parser(subparsers) -> None:
    service = subparsers.add_parser('service', help='service health')
    service.add_argument('action', choices=('health',))
    service.add_argument('--timeout', type=float, default=5.0,
                         help='seconds each service has to answer its echo')
    service.add_argument('--no-echo', action='store_true',
                         help='only what the database says (heartbeats, last probes)')
    service.add_argument('--json', action='store_true', help='machine-readable output')
    service.set_defaults(func=cmd_service_health)
