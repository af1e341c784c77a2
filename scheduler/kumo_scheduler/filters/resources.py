"""RamFilter, CoreFilter, DiskFilter: enough capacity left, overcommit included.

Usable capacity is (total - reserved) * allocation ratio - used, the same arithmetic
as the claim's conditional UPDATE (kumo_common.db.compute_nodes.claim).
"""
from kumo_scheduler.filters import PASS, BaseFilter, Verdict, reject


class _CapacityFilter(BaseFilter):
    attr = ''

    def need(self, request) -> float:
        raise NotImplementedError

    def verdict(self, host, need) -> Verdict:
        raise NotImplementedError

    def passes(self, host, request) -> Verdict:
        need = self.need(request)
        if getattr(host, self.attr) < need:
            return self.verdict(host, need)
        return PASS

    def filter_all(self, hosts, request):
        need = self.need(request)
        attr = self.attr
        passed = [h for h in hosts if getattr(h, attr) >= need]
        if len(passed) == len(hosts):
            return passed, []
        return passed, [(h, self.verdict(h, need)) for h in hosts if getattr(h, attr) < need]


class RamFilter(_CapacityFilter):
    name = 'RamFilter'
    attr = 'usable_ram_mb'

    def need(self, request):
        return request.flavor.memory_mb

    def verdict(self, host, need):
        return reject('ram.insufficient', f'ram: needs {need} MB, free '
                      f'{max(host.usable_ram_mb, 0):.0f} MB (ram_allocation_ratio '
                      f'{host.ram_allocation_ratio:g})')


class CoreFilter(_CapacityFilter):
    name = 'CoreFilter'
    attr = 'usable_vcpus'

    def need(self, request):
        return request.flavor.vcpus

    def verdict(self, host, need):
        return reject('vcpu.insufficient', f'vcpu: needs {need}, free '
                      f'{max(host.usable_vcpus, 0):g} (cpu_allocation_ratio '
                      f'{host.cpu_allocation_ratio:g})')


class DiskFilter(_CapacityFilter):
    name = 'DiskFilter'
    attr = 'usable_disk_gb'

    def need(self, request):
        return request.flavor.disk_gb

    def verdict(self, host, need):
        return reject('disk.insufficient', f'disk: needs {need} GB, free '
                      f'{max(host.usable_disk_gb, 0):.0f} GB (disk_allocation_ratio '
                      f'{host.disk_allocation_ratio:g})')
