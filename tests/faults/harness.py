"""The harness of the fault scenarios: a stack whose processes can be killed, clients
booting concurrently, and the judging of what became of the servers.

* stuck: servers not ACTIVE or ERROR (task_state None) within the bound that their
  deadlines imply (`terminal_bound`);
* lost: a server that vanished, went to ERROR without a fault, or is ACTIVE without
  a guest on its host;
* duplicates: a server with a guest on a host other than its own, or (where no
  agent died) spawned more than once. Guests are counted by asking every agent
  about every server (ComputeAPI.check_instance, the reaper's own question);
* leaks: after every server is deleted, claims, ports or guests left anywhere
  (every agent's guests are counted through its heartbeat: nodes.running_vms).
"""
from __future__ import annotations

import dataclasses
import datetime
import functools
import signal
import subprocess
import threading
import time

import oslo_messaging as messaging
import requests
import sqlalchemy as sa
from oslo_config import cfg
from oslo_messaging._metrics import client as metrics
from oslo_messaging._tracing import client as tracing

from kumo_common import context, rpc
from tests.faults import infra
from tests.fixtures import stack

# Deadlines short enough for a test, long enough for a loaded two-CPU machine.
FAULT_CONFIG: dict[str, dict[str, object]] = {
    'DEFAULT': {'report_interval': 1, 'service_down_time': 10,
                'sync_power_state_interval': -1},
    'conductor': {'scheduling_timeout': 8, 'spawn_timeout': 15, 'delete_timeout': 8,
                  'action_timeout': 10, 'reaper_interval': 1, 'agent_rpc_timeout': 2,
                  'agent_probe_interval': 2, 'max_step_redrives': 2},
    'scheduler': {'rpc_timeout': 4, 'max_attempts': 3},
    'compute': {'fake_spawn_delay': 0.5},
    'quota': {'instances': -1, 'cores': -1, 'ram': -1},
}
POLL = 0.2
_RETRIES_503 = 60


def config(**overrides: dict[str, object]) -> dict[str, dict[str, object]]:
    """FAULT_CONFIG with some sections' options overridden."""
    result = {section: dict(values) for section, values in FAULT_CONFIG.items()}
    for section, values in overrides.items():
        result.setdefault(section, {}).update(values)
    return result


def terminal_bound(conf: dict[str, dict[str, object]]) -> float:
    """Seconds after which every server must have ended, whatever died: each
    scheduling pass may be re-driven max_step_redrives times, each build tried
    max_attempts times, each step overrunning its deadline by one reaper period
    (plus the agent question)."""
    c, sch = conf['conductor'], conf['scheduler']
    period = c['reaper_interval'] + c['agent_rpc_timeout']
    return ((c['max_step_redrives'] + 1) * (c['scheduling_timeout'] + period)
            + sch['max_attempts'] * (c['spawn_timeout'] + period))


@dataclasses.dataclass
class Outcome:
    """What became of one scenario's servers."""
    scenario: str
    boots: int
    accepted: int = 0
    active: int = 0
    error: int = 0
    refused: list[str] = dataclasses.field(default_factory=list)
    stuck: list[str] = dataclasses.field(default_factory=list)
    lost: list[str] = dataclasses.field(default_factory=list)
    duplicates: list[str] = dataclasses.field(default_factory=list)
    leaks: list[str] = dataclasses.field(default_factory=list)
    seconds_after_fault: float | None = None   # fault -> last server terminal
    seconds_total: float | None = None         # first POST -> last server terminal
    bound: float | None = None
    figures: dict = dataclasses.field(default_factory=dict)   # scenario's own
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.refused or self.stuck or self.lost or self.duplicates
                    or self.leaks) and self.accepted == self.boots

    def report(self) -> str:
        lines = [f'{self.scenario}: {self.boots} boots, {self.accepted} accepted, '
                 f'{self.active} ACTIVE, {self.error} ERROR; stuck {len(self.stuck)}, '
                 f'lost {len(self.lost)}, duplicated {len(self.duplicates)}, leaks '
                 f'{len(self.leaks)}; terminal {self.seconds_after_fault}s after the '
                 f'fault ({self.seconds_total}s after the first POST; bound {self.bound}s)']
        for name in ('refused', 'stuck', 'lost', 'duplicates', 'leaks', 'notes'):
            for item in getattr(self, name):
                lines.append(f'  {name}: {item}')
        for key, value in self.figures.items():
            lines.append(f'  {key}: {value}')
        return '\n'.join(lines)


# --- the stack -------------------------------------------------------------------------

class FaultStack(stack.ProcessStack):
    """A ProcessStack whose processes can be killed (SIGKILL) and started again."""

    def kill(self, name: str) -> None:
        proc = self.processes[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def restart(self, name: str) -> None:
        if name.startswith('kumo-compute@'):
            host = name.split('@', 1)[1]
            n = self.compute_hosts.index(host) + 1
            self._start_service(name, self._compute_config(n, host), binary='kumo-compute')
        else:
            self._start_service(name, self._service_config(name))

    def count_in_log(self, name: str, text: str) -> int:
        try:
            return self.read_log(name).count(text)
        except OSError:
            return 0

    def instance_rows(self, uuids: list[str]) -> dict[str, sa.Row]:
        inst = sa.table('instances', sa.column('uuid'), sa.column('vm_state'),
                        sa.column('task_state'), sa.column('deleted'), sa.column('host'))
        with self._engine.connect() as conn:
            return {row.uuid: row for row in conn.execute(
                sa.select(inst).where(inst.c.uuid.in_(uuids)))}

    def scalar(self, sql: str, **params):
        with self._engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def manage(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """kumo-manage with the stack's configuration."""
        return subprocess.run([stack.executable('kumo-manage'), '--config-file',
                               self.config_file, *args], capture_output=True, text=True,
                              timeout=timeout, check=False)


def start_stack(conf: dict, computes: int = 2, db: str = 'postgresql',
                **kwargs) -> FaultStack:
    st = FaultStack(db, computes=computes, extra_config=conf, **kwargs)
    st.start()
    return st


# --- booting -----------------------------------------------------------------------------

class Booter:
    """POSTs `count` servers from `workers` threads, each with its own HTTP session
    (a POST may block while the broker is away: the API's cast waits for it)."""

    def __init__(self, st: FaultStack, count: int, prefix: str = 'fault', workers: int = 8):
        self.st = st
        self.count = count
        self.prefix = prefix
        self.ids: list[str] = []
        self.refused: list[str] = []
        self.started: float | None = None
        self.retried_503 = 0
        self._next = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, daemon=True)
                         for _ in range(min(workers, count))]

    def start(self) -> Booter:
        self.started = time.monotonic()
        for t in self._threads:
            t.start()
        return self

    def _work(self) -> None:
        client = stack.Client(self.st.endpoint)
        try:
            while True:
                with self._lock:
                    if self._next >= self.count:
                        return
                    self._next += 1
                    n = self._next
                try:
                    response = self._post(client, n)
                except requests.RequestException as exc:
                    with self._lock:
                        self.refused.append(f'{self.prefix}-{n}: {type(exc).__name__}')
                    continue
                with self._lock:
                    if response.status_code == 202:
                        self.ids.append(response.json()['server']['id'])
                    else:
                        self.refused.append(f'{self.prefix}-{n}: {response.status_code} '
                                            f'{response.text[:200]}')
        finally:
            client.http.close()

    def _post(self, client: stack.Client, n: int) -> requests.Response:
        """POST one server; a 503 (the database away) is retried after its
        Retry-After, as a careful client does."""
        for _ in range(_RETRIES_503):
            response = client.post('/v2.1/servers', timeout=120, json={'server': {
                'name': f'{self.prefix}-{n}', 'flavorRef': '1',
                'imageRef': stack.IMAGE_ID, 'networks': 'auto'}})
            if response.status_code != 503:
                break
            with self._lock:
                self.retried_503 += 1
            time.sleep(min(float(response.headers.get('Retry-After', 1)), 1.0))
        return response

    def join(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    @property
    def done(self) -> int:
        with self._lock:
            return len(self.ids) + len(self.refused)


def wait_terminal(st: FaultStack, ids: list[str], bound_at: float
                  ) -> tuple[list[str], float]:
    """Poll until every server is ACTIVE or ERROR with no task; returns those that are
    not by `bound_at` (monotonic), and when (monotonic) the last one ended: its last
    update in the database, so the polling does not blur it."""
    while True:
        rows = st.instance_rows(ids)
        pending = [u for u in ids if u not in rows or rows[u].task_state is not None
                   or rows[u].vm_state not in ('active', 'error')
                   or rows[u].deleted != 0]
        if not pending:
            break
        if time.monotonic() > bound_at:
            return [f'{u}: {_describe(rows.get(u))}' for u in pending], time.monotonic()
        time.sleep(POLL)
    inst = sa.table('instances', sa.column('uuid'), sa.column('updated_at'))
    with st._engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(inst.c.updated_at))
                            .where(inst.c.uuid.in_(ids))).scalar()
    now_utc = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return [], time.monotonic() - max(0.0, (now_utc - last).total_seconds())


def _describe(row) -> str:
    if row is None:
        return 'no row'
    return f'vm_state {row.vm_state}, task_state {row.task_state}, host {row.host}'


def wait_log(st: FaultStack, name: str, text: str, count: int, timeout: float = 60,
             booter: Booter | None = None) -> None:
    """Until `text` appears `count` times in a process's log (the fault's trigger);
    if every boot was answered meanwhile, it fires anyway."""
    infra.wait_for(lambda: st.count_in_log(name, text) >= count
                   or (booter is not None and booter.done >= booter.count),
                   timeout, 0.05, f'{count} x {text!r} in {name}')


# --- judging -----------------------------------------------------------------------------

def census(st: FaultStack, ids: list[str], hosts: list[str] | None = None
           ) -> dict[str, list[str]]:
    """{server: hosts that have a guest for it}, asking every agent (a call each)."""
    conf = cfg.ConfigOpts()   # the test process's own: CONF belongs to other tests
    conf.register_opts(tracing.oslo_messaging_tracing, group='oslo_messaging_tracing')
    conf.register_opts(metrics.oslo_messaging_metrics, group='oslo_messaging_metrics')
    transport = messaging.get_rpc_transport(conf, url=st.rabbit.url)
    try:
        client = messaging.get_rpc_client(
            transport, messaging.Target(topic='compute', version='1.2'),
            serializer=rpc.PayloadSerializer())
        ctxt = context.RequestContext(is_admin=True, overwrite=False)
        result: dict[str, list[str]] = {u: [] for u in ids}
        for host in hosts or st.compute_hosts:
            prepared = client.prepare(server=host, timeout=20)
            for uuid in ids:
                check = _ask_again_if_lost(functools.partial(
                    prepared.call, ctxt, 'check_instance', instance_uuid=uuid,
                    build_attempt=None, request_id=None, fence=False))
                if check.exists:
                    result[uuid].append(host)
        return result
    finally:
        transport.cleanup()


def _ask_again_if_lost(call, attempts: int = 3):
    """A read-only call, asked again when no answer came: a call published while an
    agent re-declares its queue after a broker restart reaches no queue and is
    dropped (callers retry; nothing is lost that the agent did)."""
    for attempt in range(attempts):
        try:
            return call()
        except messaging.MessagingTimeout:
            if attempt == attempts - 1:
                raise


def judge(st: FaultStack, outcome: Outcome, ids: list[str], hosts: list[str] | None = None,
          spawned_once: bool = True) -> None:
    """Count ACTIVE/ERROR and find lost and duplicated servers (the API's view, and
    every agent's guests)."""
    guests = census(st, ids, hosts)
    spawns = {u: sum(st.count_in_log(f'kumo-compute@{h}', f'Spawning instance {u}')
                     for h in st.compute_hosts) for u in ids}
    for uuid in ids:
        response = st.client.get(f'/v2.1/servers/{uuid}')
        if response.status_code != 200:
            outcome.lost.append(f'{uuid}: GET answered {response.status_code}')
            continue
        server = response.json()['server']
        host = server.get('OS-EXT-SRV-ATTR:host')
        where = guests[uuid]
        if server['status'] == 'ACTIVE':
            outcome.active += 1
            if where != [host]:
                (outcome.lost if not where else outcome.duplicates).append(
                    f'{uuid}: ACTIVE on {host}, guests on {where}')
        elif server['status'] == 'ERROR':
            outcome.error += 1
            if not (server.get('fault') or {}).get('message'):
                outcome.lost.append(f'{uuid}: ERROR without a fault')
            else:
                outcome.notes.append(f'{uuid}: ERROR: {server["fault"]["message"]}')
            if any(h != host for h in where):
                outcome.duplicates.append(f'{uuid}: ERROR on {host}, guests on {where}')
        else:
            outcome.stuck.append(f'{uuid}: {server["status"]} in the API')
        if spawned_once and spawns[uuid] > 1:
            outcome.duplicates.append(f'{uuid}: spawned {spawns[uuid]} times')


def delete_all_and_check(st: FaultStack, outcome: Outcome, ids: list[str],
                         timeout: float = 60) -> None:
    """Delete every server; then nothing may be left: no claim, no port, no guest on
    any agent (their heartbeats report their guests: compute_nodes.running_vms)."""
    for uuid in ids:
        response = st.client.delete_path(f'/v2.1/servers/{uuid}')
        if response.status_code not in (204, 404):
            outcome.leaks.append(f'{uuid}: DELETE answered {response.status_code}')
    deadline = time.monotonic() + timeout
    for uuid in ids:
        try:
            st.client.wait_gone(uuid, timeout=max(1.0, deadline - time.monotonic()),
                                interval=POLL)
        except stack.ApiError as exc:
            outcome.leaks.append(f'{uuid}: not deleted: {exc}'[:300])
    try:
        infra.wait_for(lambda: st.scalar('SELECT COUNT(*) FROM allocations') == 0
                       and st.scalar('SELECT COALESCE(SUM(vcpus_used), 0) '
                                     'FROM compute_nodes') == 0,
                       30, POLL, 'no claims')
    except TimeoutError:
        outcome.leaks.append(f'claims left: {st.scalar("SELECT COUNT(*) FROM allocations")} '
                             f'allocations')
    ports = st.scalar("SELECT COUNT(*) FROM ports WHERE device_id IS NOT NULL "
                      "AND device_id <> ''")
    if ports:
        outcome.leaks.append(f'{ports} ports still bound to a server')
    try:
        # Two heartbeats after the last delete, every node reports no guest.
        infra.wait_for(lambda: st.scalar('SELECT COALESCE(SUM(running_vms), 0) '
                                         'FROM compute_nodes') == 0,
                       30, POLL, 'no guests')
    except TimeoutError:
        left = st.scalar('SELECT SUM(running_vms) FROM compute_nodes')
        outcome.leaks.append(f'guests left on the agents: {left}')


def finish(st: FaultStack, outcome: Outcome, booter: Booter, fault_at: float,
            conf: dict, hosts: list[str] | None = None, spawned_once: bool = True) -> None:
    """Wait for the servers to end (within their bound) and judge them."""
    booter.join()
    outcome.accepted = len(booter.ids)
    outcome.refused = list(booter.refused)
    outcome.bound = terminal_bound(conf)
    stuck, last = wait_terminal(st, booter.ids, max(fault_at, time.monotonic())
                                + outcome.bound)
    outcome.stuck.extend(stuck)
    outcome.seconds_after_fault = round(last - fault_at, 1)
    outcome.seconds_total = round(last - booter.started, 1)
    judge(st, outcome, booter.ids, hosts, spawned_once)


class HealthWatch(threading.Thread):
    """From now on, polls until every service is up in os-services and answers its
    echo (`kumo-manage service health`); `healthy_at` is when (monotonic), or None."""

    def __init__(self, st: FaultStack, timeout: float = 60):
        super().__init__(daemon=True)
        self.st = st
        self.timeout = timeout
        self.healthy_at: float | None = None
        self.start()

    def _healthy(self, client: stack.Client) -> bool:
        response = client.get('/v2.1/os-services')
        if response.status_code != 200 or any(
                s['state'] != 'up' for s in response.json()['services']):
            return False
        return self.st.manage('service', 'health', '--timeout', '3').returncode == 0

    def run(self) -> None:
        client = stack.Client(self.st.endpoint)
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline:
                try:
                    if self._healthy(client):
                        self.healthy_at = time.monotonic()
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.5)
        finally:
            client.http.close()

    def result(self) -> float | None:
        self.join(self.timeout + 30)
        return self.healthy_at
