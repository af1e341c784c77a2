"""AggregateInstanceExtraSpecsFilter: flavor extra specs must match the metadata of
the host's aggregates.

Only unscoped keys and keys scoped `aggregate_instance_extra_specs:` are checked (as
Nova); the host passes a key if any of its aggregates' values for it matches.
"""
from kumo_scheduler.filters import PASS, BaseFilter, Verdict, extra_specs_ops, reject

_SCOPE = 'aggregate_instance_extra_specs'


def _requirements(extra_specs: dict) -> list[tuple[str, str, str]]:
    """(key as in the flavor, aggregate key, requirement) of the specs to check."""
    result = []
    for key, req in (extra_specs or {}).items():
        scope = key.split(':', 1)
        if len(scope) > 1:
            if scope[0] != _SCOPE:
                continue
            agg_key = scope[1]
        else:
            agg_key = key
        result.append((key, agg_key, req))
    return result


class AggregateInstanceExtraSpecsFilter(BaseFilter):
    name = 'AggregateInstanceExtraSpecsFilter'

    def passes(self, host, request) -> Verdict:
        for key, agg_key, req in _requirements(request.flavor.extra_specs):
            values = host.aggregate_metadata.get(agg_key)
            if not values:
                return reject('aggregate.missing_key', f'aggregate metadata: flavor needs '
                              f'{key}={req!r}, no aggregate of the host sets {agg_key!r}')
            if not any(extra_specs_ops.match(v, req) for v in values):
                return reject('aggregate.value_mismatch', f'aggregate metadata: flavor needs '
                              f'{key}={req!r}, host aggregates have {agg_key}='
                              f'{", ".join(sorted(map(repr, values)))}')
        return PASS

    def filter_all(self, hosts, request):
        if not _requirements(request.flavor.extra_specs):
            return hosts, []
        return super().filter_all(hosts, request)
