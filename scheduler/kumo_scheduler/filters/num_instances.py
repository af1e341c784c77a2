"""NumInstancesFilter: hosts already running max_instances_per_host take no more."""
from oslo_config import cfg

from kumo_scheduler.filters import NOTHING_REMOVED, PASS, Removed, SplitFilter, Verdict, reject

CONF = cfg.CONF


class NumInstancesFilter(SplitFilter):
    name = 'NumInstancesFilter'

    def passes(self, host, request) -> Verdict:
        limit = CONF.filter_scheduler.max_instances_per_host
        count = len(host.instances)
        if count >= limit:
            return reject('num_instances.max', f'instances: host runs {count}, '
                          f'max_instances_per_host is {limit}')
        return PASS

    def split(self, hosts, request):
        limit = CONF.filter_scheduler.max_instances_per_host
        passed = [h for h in hosts if len(h.instances) < limit]
        if len(passed) == len(hosts):
            return passed, NOTHING_REMOVED
        return passed, Removed.where(hosts, lambda h: len(h.instances) >= limit,
                                     len(hosts) - len(passed),
                                     lambda h: self.passes(h, request), 'num_instances.max')

    def settings(self) -> dict:
        return {'max_instances_per_host': CONF.filter_scheduler.max_instances_per_host}
