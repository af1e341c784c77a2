"""Extra specs of the `hw:`, `hw_rng:`, `hw_video:` and `os:` namespaces (guest hardware
as the libvirt driver builds it), as Nova 34 registers them, in Nova's order."""
from __future__ import annotations

from kumo_api.extra_specs.rules import Bool, Enum, Int, Pattern

# A CPU set such as 0-3,^2,5 (Nova's own pattern, quoted in its error message).
_CPU_SET = r'\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*'

_TOPOLOGY = ('cpu_sockets', 'cpu_cores', 'cpu_threads',
             'cpu_max_sockets', 'cpu_max_cores', 'cpu_max_threads')

SPECS = [
    ('hw:cpu_realtime', Bool()),
    # Nova's realtime mask pattern differs from _CPU_SET only by its group.
    ('hw:cpu_realtime_mask', Pattern(r'(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*')),
    ('hw:hide_hypervisor_id', Bool()),
    ('hw:cpu_policy', Enum(('dedicated', 'shared', 'mixed'))),
    ('hw:cpu_thread_policy', Enum(('prefer', 'isolate', 'require'))),
    ('hw:emulator_threads_policy', Enum(('isolate', 'share'))),
    ('hw:cpu_dedicated_mask', Pattern(_CPU_SET)),
    ('hw:mem_page_size', Pattern(r'(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)')),
    ('hw:locked_memory', Bool()),
    ('hw:numa_nodes', Int(min=1)),
    ('hw:numa_cpus.{num}', Pattern(_CPU_SET)),
    ('hw:numa_mem.{num}', Int(min=1)),
    ('hw:pci_numa_affinity_policy', Enum(('required', 'preferred', 'legacy', 'socket'))),
    *((f'hw:{name}', Int(min=1)) for name in _TOPOLOGY),
    ('hw:boot_menu', Bool()),
    ('hw:vif_multiqueue_enabled', Bool()),
    ('hw:mem_encryption', Bool()),
    ('hw:mem_encryption_model', Enum(('amd-sev', 'amd-sev-es', 'amd-sev-snp',
                                      'intel-tdx'))),
    ('hw:pmem', Pattern('([a-zA-Z0-9_]+(,)?)+')),
    ('hw:pmu', Bool()),
    ('hw:serial_port_count', Int(min=0)),
    ('hw:tpm_model', Enum(('tpm-tis', 'tpm-crb'))),
    ('hw:tpm_version', Enum(('1.2', '2.0'))),
    ('hw:tpm_secret_security', Enum(('user', 'host', 'deployment'))),
    ('hw:watchdog_action', Enum(('none', 'pause', 'poweroff', 'reset', 'disabled'))),
    ('hw:viommu_model', Enum(('intel', 'smmuv3', 'virtio', 'auto'))),
    ('hw:virtio_packed_ring', Bool()),
    ('hw:sound_model', Enum(('sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb',
                             'virtio'))),
    ('hw:usb_model', Enum(('none', 'nec-xhci', 'qemu-xhci'))),
    ('hw:redirected_usb_ports', Int(min=0, max=15)),
    ('hw:ephemeral_encryption', Bool()),
    ('hw:ephemeral_encryption_format', Enum(('plain', 'luks', 'luksv2'))),

    ('hw_rng:allowed', Bool()),
    ('hw_rng:rate_bytes', Int(min=0)),
    ('hw_rng:rate_period', Int(min=0)),

    ('hw_video:ram_max_mb', Int(min=0)),

    ('os:secure_boot', Enum(('disabled', 'required'))),
]
