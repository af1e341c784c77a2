"""Extra specs of the small namespaces (`accel:`, `pci_passthrough:`, `vmware:`) and the
two un-namespaced keys Nova knows (`hide_hypervisor_id`, `group_policy`), as Nova 34
registers them."""
from __future__ import annotations

from kumo_api.extra_specs.rules import Bool, Enum, Pattern, Text

SPECS = [
    ('accel:device_profile', Text()),
    # Un-namespaced: checked when present, but other un-namespaced keys pass.
    ('hide_hypervisor_id', Bool()),
    ('group_policy', Enum(('isolate', 'none'))),
    # One or more comma-separated `$alias:$count`.
    ('pci_passthrough:alias', Pattern(r'[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*')),
    ('vmware:hw_version', Text()),
    ('vmware:storage_policy', Text()),
]
