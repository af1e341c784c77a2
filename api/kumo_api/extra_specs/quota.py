"""Extra specs of the `quota:` namespace (CPU, memory, disk and VIF limits of the
VMware and libvirt drivers), as Nova 34 registers them."""
from __future__ import annotations

from kumo_api.extra_specs.rules import Enum, Int

SPECS = [
    # VMware: limit, reservation and shares of CPU, memory, disk IO and VIFs.
    *(spec for resource in ('cpu', 'memory', 'disk_io', 'vif') for spec in (
        (f'quota:{resource}_limit', Int(min=0)),
        (f'quota:{resource}_reservation', Int()),
        (f'quota:{resource}_shares_level', Enum(('custom', 'high', 'normal', 'low'))),
        (f'quota:{resource}_shares_share', Int(min=0)),
    )),
    # libvirt CPU tuning; a negative cpu_quota means unlimited.
    ('quota:cpu_shares', Int(min=0)),
    ('quota:cpu_period', Int(min=0)),
    ('quota:cpu_quota', Int()),
    # libvirt disk and VIF tuning.
    *((f'quota:disk_{stat}_{metric}_sec', Int(min=0))
      for stat in ('read', 'write', 'total') for metric in ('bytes', 'iops')),
    *((f'quota:vif_{direction}_{metric}', Int(min=0))
      for direction in ('inbound', 'outbound') for metric in ('average', 'peak', 'burst')),
]
