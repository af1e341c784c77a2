"""ComputeFilter: only hosts whose compute service is enabled and alive."""
from oslo_config import cfg

from kumo_scheduler.filters import PASS, BaseFilter, Verdict, reject

CONF = cfg.CONF


class ComputeFilter(BaseFilter):
    name = 'ComputeFilter'

    def passes(self, host, spec) -> Verdict:
        if host.service_disabled:
            reason = host.service_disabled_reason or 'no reason given'
            return reject(f'compute service disabled ({reason})')
        if host.service_forced_down:
            return reject('compute service forced down')
        age = host.seconds_since_heartbeat
        if age is None:
            return reject('compute service never reported')
        if age > CONF.service_down_time:
            return reject(f'compute service down: last heartbeat {age:.0f}s ago '
                          f'(service_down_time {CONF.service_down_time}s)')
        return PASS
