"""RamFilter, CoreFilter, DiskFilter: enough capacity left, overcommit included.

Usable capacity is (total - reserved) * allocation ratio - used, the same arithmetic
as the claim's conditional UPDATE (kumo_common.db.compute_nodes.claim).
"""
import operator

from kumo_scheduler.filters import NOTHING_REMOVED, PASS, Removed, SplitFilter, Verdict, reject


class _CapacityFilter(SplitFilter):
    attr = ''
    code = ''

    def need(self, request) -> float:
        raise NotImplementedError

    def verdict(self, host, need) -> Verdict:
        raise NotImplementedError

    def passes(self, host, request) -> Verdict:
        need = self.need(request)
        if getattr(host, self.attr) < need:
            return self.verdict(host, need)
        return PASS

    def split(self, hosts, request):
        need = self.need(request)
        free = operator.attrgetter(self.attr)
        passed = [h for h in hosts if free(h) >= need]
        if len(passed) == len(hosts):
            return passed, NOTHING_REMOVED
        return passed, Removed.where(hosts, lambda h: free(h) < need,
                                     len(hosts) - len(passed),
                                     lambda h: self.verdict(h, need), self.code)


class RamFilter(_CapacityFilter):
    name = 'RamFilter'
    code = 'ram.insufficient'
    attr = 'usable_ram_mb'

    def need(self, request):
        return request.flavor.memory_mb

    def verdict(self, host, need):
        return reject(self.code, f'ram: needs {need} MB, free '
                      f'{max(host.usable_ram_mb, 0):.0f} MB (ram_allocation_ratio '
                      f'{host.ram_allocation_ratio:g})')


class CoreFilter(_CapacityFilter):
    name = 'CoreFilter'
    code = 'vcpu.insufficient'
    attr = 'usable_vcpus'

    def need(self, request):
        return request.flavor.vcpus

    def verdict(self, host, need):
        return reject(self.code, f'vcpu: needs {need}, free '
                      f'{max(host.usable_vcpus, 0):g} (cpu_allocation_ratio '
                      f'{host.cpu_allocation_ratio:g})')


class DiskFilter(_CapacityFilter):
    name = 'DiskFilter'
    code = 'disk.insufficient'
    attr = 'usable_disk_gb'

    def need(self, request):
        return request.flavor.disk_gb

    def verdict(self, host, need):
        return reject(self.code, f'disk: needs {need} GB, free '
                      f'{max(host.usable_disk_gb, 0):.0f} GB (disk_allocation_ratio '
                      f'{host.disk_allocation_ratio:g})')
