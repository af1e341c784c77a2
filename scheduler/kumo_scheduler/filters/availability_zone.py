"""AvailabilityZoneFilter: the host must be in the requested availability zone.

A host's zone is the `availability_zone` metadata of its aggregates, else the
default zone ([DEFAULT] default_availability_zone), as in Nova.
"""
from kumo_scheduler.filters import PASS, BaseFilter, Verdict, reject
from kumo_scheduler.host_state import zones_of


class AvailabilityZoneFilter(BaseFilter):
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

    def filter_all(self, hosts, request):
        if not request.spec.availability_zone:
            return hosts, []
        return super().filter_all(hosts, request)
