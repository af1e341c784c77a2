"""ComputeFilter: only hosts whose compute service is enabled and alive (it heartbeats
and, where the conductor probes it, answered its last RPC echo)."""
import datetime

from oslo_config import cfg

from kumo_common.db.models import utcnow
from kumo_scheduler.filters import NOTHING_REMOVED, PASS, Removed, SplitFilter, Verdict, reject

CONF = cfg.CONF


def _echo_failed(host, now) -> bool:
    """The conductor's last echo of the agent, within service_down_time, failed."""
    echo_at = getattr(host, 'echo_at', None)
    return bool(getattr(host, 'echo_error', None)) and echo_at is not None \
        and (now - echo_at).total_seconds() <= CONF.service_down_time


class ComputeFilter(SplitFilter):
    name = 'ComputeFilter'

    def passes(self, host, request) -> Verdict:
        return self._judge(host, utcnow())

    @staticmethod
    def _judge(host, now) -> Verdict:
        if host.service_disabled:
            reason = host.service_disabled_reason or 'no reason given'
            return reject('compute.disabled', f'compute service disabled ({reason})')
        if host.service_forced_down:
            return reject('compute.forced_down', 'compute service forced down')
        last = host.last_seen_up
        if last is None:
            return reject('compute.never_reported', 'compute service never reported')
        age = (now - last).total_seconds()
        if age > CONF.service_down_time:
            return reject('compute.down', f'compute service down: last heartbeat '
                          f'{age:.0f}s ago (service_down_time {CONF.service_down_time}s)')
        if _echo_failed(host, now):
            return reject('compute.echo_failed', f'compute service down: RPC echo failed '
                          f'({host.echo_error})')
        return PASS

    def split(self, hosts, request):
        now = utcnow()
        cutoff = now - datetime.timedelta(seconds=CONF.service_down_time)
        # echo_error first: almost always None, and _echo_failed needs it set.
        passed = [h for h in hosts if not h.service_disabled and not h.service_forced_down
                  and h.last_seen_up is not None and h.last_seen_up >= cutoff
                  and (not h.echo_error or not _echo_failed(h, now))]
        if len(passed) == len(hosts):
            return passed, NOTHING_REMOVED
        ok = set(map(id, passed))
        return passed, Removed([h for h in hosts if id(h) not in ok],
                               lambda h: self._judge(h, now))

    def settings(self) -> dict:
        return {'service_down_time': CONF.service_down_time}
