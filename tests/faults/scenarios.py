"""Fault scenarios against a whole Kumo of separate processes, for tests and benchmarks.

Each scenario starts its own stack (tests/fixtures/stack.py ProcessStack: conductor,
scheduler, API and N compute agents with the fake driver, on RabbitMQ and
PostgreSQL) with short deadlines (harness.FAULT_CONFIG), boots N servers
concurrently, injects one fault while they are in flight, and judges the outcome
(tests/faults/harness.py: stuck, lost, duplicated servers and leaks).

`benchmarks/faults.py` runs them with 50 boots and prints the figures; tests/faults
runs them with fewer and asserts that nothing is stuck, lost, duplicated or leaked.
"""
from __future__ import annotations

import time

import requests

from tests.faults import infra
from tests.faults.harness import (
    FAULT_CONFIG,
    POLL,
    Booter,
    FaultStack,
    HealthWatch,
    Outcome,
    census,
    config,
    delete_all_and_check,
    finish,
    start_stack,
    wait_log,
    wait_terminal,
)
from tests.fixtures import stack

__all__ = ['FAULT_CONFIG', 'SCENARIOS', 'Outcome', 'unavailable']

# --- the scenarios ---------------------------------------------------------------------

def conductor_kill(boots: int = 20, db: str = 'postgresql') -> Outcome:
    """kill -9 of the conductor while it schedules and dispatches builds, then a
    restart a second later."""
    outcome = Outcome('conductor killed', boots)
    conf = config()
    st = start_stack(conf, computes=2, db=db)
    try:
        booter = Booter(st, boots).start()
        # Once it has taken a fifth of the builds: many are then half done.
        wait_log(st, 'kumo-conductor', 'Scheduling ', max(2, boots // 5), booter=booter)
        fault_at = time.monotonic()
        st.kill('kumo-conductor')
        time.sleep(1)
        st.restart('kumo-conductor')
        finish(st, outcome, booter, fault_at, conf)
        outcome.figures['scheduling re-driven'] = st.count_in_log(
            'kumo-conductor', 'scheduling it again')
        outcome.figures['lost reports recovered'] = st.count_in_log(
            'kumo-conductor', 'the report was lost')
        outcome.figures['builds that never reached their host'] = st.count_in_log(
            'kumo-conductor', 'never reached')
        delete_all_and_check(st, outcome, booter.ids)
    finally:
        st.cleanUp()
    return outcome


def scheduler_kill(boots: int = 20, db: str = 'postgresql') -> Outcome:
    """kill -9 of the scheduler while servers are scheduled, started again after
    [scheduler] rpc_timeout: the conductor's calls time out; the servers are
    scheduled again by the reaper (or fail with a fault)."""
    outcome = Outcome('scheduler killed', boots)
    conf = config()
    st = start_stack(conf, computes=2, db=db)
    try:
        booter = Booter(st, boots).start()
        wait_log(st, 'kumo-conductor', 'Building instance ', max(2, boots // 5),
                 booter=booter)
        fault_at = time.monotonic()
        st.kill('kumo-scheduler')
        # Down longer than [scheduler] rpc_timeout: the conductor's calls in flight,
        # and those waiting in the scheduler's queue, time out.
        time.sleep(conf['scheduler']['rpc_timeout'] + 1)
        st.restart('kumo-scheduler')
        finish(st, outcome, booter, fault_at, conf)
        outcome.figures['scheduler calls timed out'] = st.count_in_log(
            'kumo-conductor', 'Scheduler did not answer')
        outcome.figures['scheduling re-driven'] = st.count_in_log(
            'kumo-conductor', 'scheduling it again')
        delete_all_and_check(st, outcome, booter.ids)
    finally:
        st.cleanUp()
    return outcome


def _service_state(st: FaultStack, host: str) -> str | None:
    response = st.client.get('/v2.1/os-services', params={'host': host,
                                                          'binary': 'nova-compute'})
    services = response.json().get('services', []) if response.status_code == 200 else []
    return services[0]['state'] if services else None


def compute_kill(boots: int = 20, db: str = 'postgresql', pre_booted: int = 6) -> Outcome:
    """kill -9 of a compute agent while servers build on it and while some of its
    servers are being deleted; it comes back after its builds' deadline."""
    outcome = Outcome('compute agent killed', boots)
    conf = config(DEFAULT={'service_down_time': 6}, compute={'fake_spawn_delay': 1.0})
    st = start_stack(conf, computes=3, db=db)
    victim, name = 'compute1', 'kumo-compute@compute1'
    try:
        pre = Booter(st, pre_booted, prefix='pre').start()
        pre.join()
        stuck, _ = wait_terminal(st, pre.ids, time.monotonic() + 60)
        if stuck or pre.refused:
            raise AssertionError(f'pre-booting failed: {stuck} {pre.refused}')
        doomed = [u for u, row in st.instance_rows(pre.ids).items() if row.host == victim]
        spawned_before = st.count_in_log(name, 'Spawning instance ')
        booter = Booter(st, boots).start()
        wait_log(st, name, 'Spawning instance ', spawned_before + 2, booter=booter)
        for uuid in doomed:
            st.client.delete(uuid)
        fault_at = time.monotonic()
        st.kill(name)
        down_at = infra.wait_for(
            lambda: _service_state(st, victim) == 'down' and time.monotonic(),
            conf['DEFAULT']['service_down_time'] + 20, POLL, f'{victim} down')
        outcome.figures['seconds until os-services shows it down'] = round(
            down_at - fault_at, 1)
        outcome.figures['service_down_time'] = conf['DEFAULT']['service_down_time']
        with st.client.http.get(f'{st.endpoint}/v2.1/os-services') as response:
            outcome.figures['services'] = [
                (s['host'], s['state']) for s in response.json()['services']
                if s['binary'] == 'nova-compute']
        finish(st, outcome, booter, fault_at, conf,
                hosts=[h for h in st.compute_hosts if h != victim], spawned_once=False)
        # Its servers' deletes were completed by the conductor while it was dead.
        for uuid in doomed:
            try:
                st.client.wait_gone(uuid, timeout=conf['conductor']['delete_timeout'] + 30,
                                    interval=POLL)
            except stack.ApiError as exc:
                outcome.stuck.append(f'delete of {uuid}: {exc}'[:300])
        outcome.figures['deletes on the dead host'] = len(doomed)
        outcome.figures['seconds until they were gone'] = round(
            time.monotonic() - fault_at, 1)
        outcome.figures['builds moved off the dead host'] = st.count_in_log(
            'kumo-conductor', 'Rescheduling ')
        # Back after its builds' deadlines: it refuses the builds that waited for it.
        time.sleep(max(0.0, fault_at + conf['conductor']['spawn_timeout'] + 1
                       - time.monotonic()))
        st.restart(name)
        infra.wait_for(lambda: _service_state(st, victim) == 'up', 60, POLL,
                       f'{victim} up again')
        again = census(st, booter.ids, [victim])
        for uuid, hosts in again.items():
            if hosts:
                outcome.duplicates.append(f'{uuid}: a guest on {victim} after it returned')
        outcome.figures['late builds refused on return'] = st.count_in_log(
            name, 'arrived after its deadline')
        delete_all_and_check(st, outcome,
                             booter.ids + [u for u in pre.ids if u not in doomed])
    finally:
        st.cleanUp()
    return outcome


def compute_kill_deletes_wait(boots: int = 6, db: str = 'postgresql') -> Outcome:
    """[conductor] complete_deletes_on_dead_hosts = false: deletes of servers on a
    killed agent wait for it, past their deadline and past service_down_time, and
    complete when it comes back; nothing is completed behind the dead host's back."""
    outcome = Outcome('compute agent killed; deletes wait for it', boots)
    conf = config(DEFAULT={'service_down_time': 6},
                  conductor={'complete_deletes_on_dead_hosts': False})
    st = start_stack(conf, computes=2, db=db)
    victim, name = 'compute1', 'kumo-compute@compute1'
    try:
        booter = Booter(st, boots, prefix='wait').start()
        booter.join()
        outcome.accepted = len(booter.ids)
        outcome.refused = list(booter.refused)
        stuck, _ = wait_terminal(st, booter.ids, time.monotonic() + 60)
        outcome.stuck.extend(stuck)
        rows = st.instance_rows(booter.ids)
        doomed = [u for u, row in rows.items() if row.host == victim]
        outcome.active = sum(1 for row in rows.values() if row.vm_state == 'active')
        outcome.figures['servers on the killed host'] = len(doomed)
        if not doomed:
            raise AssertionError(f'no server was placed on {victim}: {rows}')
        st.kill(name)
        fault_at = time.monotonic()
        for uuid in doomed:
            st.client.delete(uuid)
        infra.wait_for(lambda: _service_state(st, victim) == 'down',
                       conf['DEFAULT']['service_down_time'] + 20, POLL, f'{victim} down')
        # Well past the delete deadline, with the host declared dead: still waiting.
        time.sleep(conf['conductor']['delete_timeout']
                   + 3 * conf['conductor']['reaper_interval'])
        waiting = st.instance_rows(doomed)
        for uuid in doomed:
            row = waiting.get(uuid)
            if row is None or row.deleted != 0:
                outcome.lost.append(f'{uuid}: delete completed while {victim} was down')
            elif row.task_state != 'deleting':
                outcome.lost.append(f'{uuid}: {row.vm_state}/{row.task_state} while '
                                    f'its delete waited')
        outcome.figures['seconds the deletes waited'] = round(time.monotonic() - fault_at, 1)
        st.restart(name)
        back_at = time.monotonic()
        for uuid in doomed:
            try:
                st.client.wait_gone(uuid, timeout=conf['conductor']['delete_timeout'] + 30,
                                    interval=POLL)
            except stack.ApiError as exc:
                outcome.stuck.append(f'delete of {uuid} after {victim} returned: {exc}'[:300])
        outcome.seconds_after_fault = round(time.monotonic() - back_at, 1)
        outcome.figures['seconds from its return until they were gone'] = \
            outcome.seconds_after_fault
        for uuid, hosts in census(st, doomed, [victim]).items():
            if hosts:
                outcome.leaks.append(f'{uuid}: its guest is still on {victim}')
        delete_all_and_check(st, outcome, [u for u in booter.ids if u not in doomed])
    finally:
        st.cleanUp()
    return outcome


def rabbit_restart(boots: int = 20, db: str = 'postgresql', outage: float = 2.0
                   ) -> Outcome:
    """`rabbitmqctl stop_app; start_app` of the stack's broker while servers build:
    every queued message is lost; every service reconnects by itself."""
    outcome = Outcome('RabbitMQ restarted', boots)
    conf = config()
    broker = infra.DedicatedRabbit()
    st = start_stack(conf, computes=2, db=db, broker=broker)
    try:
        booter = Booter(st, boots).start()
        wait_log(st, 'kumo-conductor', 'Building instance ', max(2, boots // 5),
                 booter=booter)
        fault_at = time.monotonic()
        broker.stop_app()
        time.sleep(outage)
        broker.start_app()
        watch = HealthWatch(st)
        finish(st, outcome, booter, fault_at, conf)
        healthy = watch.result()
        if healthy is None:
            outcome.stuck.append('services not all healthy (os-services and '
                                 '`kumo-manage service health`) 60s after the restart')
        else:
            outcome.figures['seconds until every service answers again'] = round(
                healthy - fault_at, 1)
        outcome.figures['scheduling re-driven'] = st.count_in_log(
            'kumo-conductor', 'scheduling it again')
        outcome.figures['lost reports recovered'] = st.count_in_log(
            'kumo-conductor', 'the report was lost')
        delete_all_and_check(st, outcome, booter.ids)
    finally:
        st.cleanUp()
    return outcome


_DB_DOWN_REQUESTS = (('GET', '/v2.1/servers'), ('GET', '/v2.1/servers/detail'),
                     ('GET', '/v2.1/flavors'), ('GET', '/v2.1/os-services'),
                     ('POST', '/v2.1/servers'))


def database_restart(boots: int = 20, db_down: float = 3.0) -> Outcome:
    """The stack's PostgreSQL stops (connections cut) while servers build, and starts
    again: the API answers 503 in Nova's format meanwhile (clients retry) and
    recovers without a restart, as do the other services; the builds whose messages
    were lost with the database are re-driven."""
    outcome = Outcome('PostgreSQL restarted', boots)
    conf = config()
    pg = infra.DedicatedPostgres()
    st = start_stack(conf, computes=2, db='postgresql', database_fixture=pg)
    try:
        first = st.client.boot('before')
        st.client.wait_status(first.id, 'ACTIVE', timeout=30)
        booter = Booter(st, boots).start()
        wait_log(st, 'kumo-conductor', 'Building instance ', max(2, boots // 5) + 1,
                 booter=booter)
        fault_at = time.monotonic()
        pg.stop()
        answers = []
        for method, path in _DB_DOWN_REQUESTS:
            body = ({'server': {'name': 'during', 'flavorRef': '1',
                                'imageRef': stack.IMAGE_ID, 'networks': 'auto'}}
                    if method == 'POST' else None)
            response = st.client.request(method, path, json=body)
            answers.append(f'{method} {path}: {response.status_code}')
            problem = _not_a_503(response)
            if problem:
                outcome.lost.append(f'{method} {path} with the database down: {problem}')
        outcome.figures['answers with the database down'] = answers
        time.sleep(max(0.0, fault_at + db_down - time.monotonic()))
        pg.start()
        back = infra.wait_for(
            lambda: st.client.get('/v2.1/servers').status_code == 200 and time.monotonic(),
            30, POLL, 'the API answering again')
        outcome.figures['seconds from the restart until the API answers 200'] = round(
            back - fault_at - db_down, 1)
        watch = HealthWatch(st)
        finish(st, outcome, booter, fault_at, conf)
        outcome.figures['POSTs answered 503 and retried'] = booter.retried_503
        after = st.client.boot('after')
        st.client.wait_status(after.id, 'ACTIVE', timeout=60)
        healthy = watch.result()
        if healthy is None:
            outcome.stuck.append('services not all healthy after the database returned')
        else:
            outcome.figures['seconds until every service answers again'] = round(
                healthy - fault_at, 1)
        delete_all_and_check(st, outcome, booter.ids + [first.id, after.id])
    finally:
        st.cleanUp()
    return outcome


def _not_a_503(response: requests.Response) -> str | None:
    """Why the response is not a Nova-format 503, or None."""
    if response.status_code != 503:
        return f'status {response.status_code}: {response.text[:200]}'
    if 'Traceback' in response.text:
        return 'a traceback in the body'
    try:
        body = response.json()
    except ValueError:
        return f'not JSON: {response.text[:200]}'
    fault = body.get('serviceUnavailable')
    if list(body) != ['serviceUnavailable'] or fault.get('code') != 503 \
            or not isinstance(fault.get('message'), str):
        return f'not a serviceUnavailable fault: {body}'
    return None


SCENARIOS = {
    'conductor': conductor_kill,
    'scheduler': scheduler_kill,
    'compute': compute_kill,
    'compute-deletes-wait': compute_kill_deletes_wait,
    'rabbitmq': rabbit_restart,
    'database': database_restart,
}


def unavailable(name: str) -> str | None:
    """Why a scenario cannot run on this machine (a service or tool missing)."""
    from tests.fixtures import database, rabbit
    if not database.backend_available('postgresql'):
        return 'PostgreSQL is not answering'
    if name != 'rabbitmq' and rabbit.unavailable_reason():
        return rabbit.unavailable_reason()
    if name == 'rabbitmq':
        return infra.rabbit_unavailable()
    if name == 'database':
        return infra.postgres_unavailable()
    return None
