"""NumInstancesFilter: hosts already running max_instances_per_host take no more."""
from oslo_config import cfg

from kumo_scheduler.filters import PASS, BaseFilter, Verdict, reject

CONF = cfg.CONF


class NumInstancesFilter(BaseFilter):
    name = 'NumInstancesFilter'

    def passes(self, host, request) -> Verdict:
        limit = CONF.filter_scheduler.max_instances_per_host
        count = len(host.instances)
        if count >= limit:
            return reject('num_instances.max', f'instances: host runs {count}, '
                          f'max_instances_per_host is {limit}')
        return PASS

    def filter_all(self, hosts, request):
        limit = CONF.filter_scheduler.max_instances_per_host
        passed = [h for h in hosts if len(h.instances) < limit]
        if len(passed) == len(hosts):
            return passed, []
        return passed, [(h, self.passes(h, request)) for h in hosts
                        if len(h.instances) >= limit]

    def settings(self) -> dict:
        return {'max_instances_per_host': CONF.filter_scheduler.max_instances_per_host}
