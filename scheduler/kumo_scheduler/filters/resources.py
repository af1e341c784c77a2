"""RamFilter, CoreFilter, DiskFilter: enough capacity left, overcommit included."""
from kumo_scheduler.filters import PASS, BaseFilter, Verdict, reject


class RamFilter(BaseFilter):
    name = 'RamFilter'

    def passes(self, host, spec) -> Verdict:
        need = spec.flavor.memory_mb
        if host.usable_ram_mb < need:
            return reject(f'needs {need} MB RAM, {host.usable_ram_mb:.0f} MB usable')
        return PASS


class CoreFilter(BaseFilter):
    name = 'CoreFilter'

    def passes(self, host, spec) -> Verdict:
        need = spec.flavor.vcpus
        if host.usable_vcpus < need:
            return reject(f'needs {need} vCPU, {host.usable_vcpus:g} usable')
        return PASS


class DiskFilter(BaseFilter):
    name = 'DiskFilter'

    def passes(self, host, spec) -> Verdict:
        need = spec.flavor.disk_gb
        if host.usable_disk_gb < need:
            return reject(f'needs {need} GB disk, {host.usable_disk_gb:.0f} GB usable')
        return PASS
