"""AvailabilityZoneFilter: the host must be in the requested availability zone.

A host's zone is the `availability_zone` metadata of its aggregates, else the
default zone ([DEFAULT] default_availability_zone), as in Nova.
"""
from kumo_scheduler.filters import NOTHING_REMOVED, PASS, Removed, SplitFilter, Verdict, reject
from kumo_scheduler.host_state import zones_of


class AvailabilityZoneFilter(SplitFilter):
    name = 'AvailabilityZoneFilter'

    def passes(self, host, request) -> Verdict:
        wanted = request.spec.availability_zone
        if not wanted:
            return PASS
        zones = zones_of(host)
        if wanted in zones:
            return PASS
        return reject('az.mismatch', f'availability zone: requested {wanted!r}, host is '
                      f'in {", ".join(sorted(repr(z) for z in zones))}')

    def split(self, hosts, request):
        wanted = request.spec.availability_zone
        if not wanted:
            return hosts, NOTHING_REMOVED
        # Most hosts are in one zone (no multi-zone aggregate metadata): test that
        # directly, and only the others through zones_of.
        passed, removed = [], []
        for h in hosts:
            if h.availability_zone == wanted and 'availability_zone' not in \
                    h.aggregate_metadata or wanted in zones_of(h):
                passed.append(h)
            else:
                removed.append(h)
        if not removed:
            return passed, NOTHING_REMOVED
        return passed, Removed(removed, lambda h: self.passes(h, request), 'az.mismatch')
