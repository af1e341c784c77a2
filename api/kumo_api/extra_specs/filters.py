"""Extra specs read by scheduler filters: `aggregate_instance_extra_specs:{key}`
(AggregateInstanceExtraSpecsFilter) and `capabilities:{capability}`
(ComputeCapabilitiesFilter), as Nova 34 registers them. Their values are filter
expressions (`>= 5`, `<in> gcc`, ...) that Nova does not check at the API."""
from __future__ import annotations

from kumo_api.extra_specs.rules import Text

# Attributes of a compute node / host state a flavor can filter on directly...
_FLAT = ('id', 'uuid', 'service_id', 'host', 'vcpus', 'memory_mb', 'local_gb',
         'vcpus_used', 'memory_mb_used', 'local_gb_used', 'hypervisor_type',
         'hypervisor_version', 'hypervisor_hostname', 'free_ram_mb', 'free_disk_gb',
         'current_workload', 'running_vms', 'disk_available_least', 'host_ip', 'mapped',
         'cpu_allocation_ratio', 'ram_allocation_ratio', 'disk_allocation_ratio',
         'total_usable_ram_mb', 'total_usable_disk_gb', 'disk_mb_used', 'free_disk_mb',
         'vcpus_total', 'num_instances', 'num_io_ops', 'failed_builds', 'aggregates',
         'cell_uuid', 'updated')
# ...and nested ones, optionally followed by a path (`capabilities:cpu_info:arch`).
_NESTED = ('cpu_info', 'metrics', 'stats', 'numa_topology', 'supported_hv_specs',
           'pci_device_pools', 'nodename', 'pci_stats', 'supported_instances', 'limits',
           'instances')

SPECS = [
    ('aggregate_instance_extra_specs:{key}', Text()),
    *((f'capabilities:{name}', Text()) for name in _FLAT),
    *((f'capabilities:{name}{{filter}}', Text()) for name in _NESTED),
]
