"""Server diagnostics views: what the agent's driver told (objects.InstanceDiagnostics)
in Nova's two shapes. Before 2.48 Nova answers its driver's own dict, which for
libvirt is flat keys named after the devices (cpu0_time, vda_read, vnet0_rx,
memory, memory-rss...); from 2.48 the standard diagnostics, the same keys whatever
the driver, memory in MiB."""
from __future__ import annotations

from kumo_common import objects
from kumo_common.states import power

_CPU_FIELDS = ('id', 'time', 'utilisation')
_DISK_FIELDS = ('read_bytes', 'read_requests', 'write_bytes', 'write_requests',
                'errors_count')
_NIC_FIELDS = ('mac_address', 'rx_octets', 'rx_errors', 'rx_drop', 'rx_packets', 'rx_rate',
               'tx_octets', 'tx_errors', 'tx_drop', 'tx_packets', 'tx_rate')
# Nova's libvirt key suffix of each counter, before 2.48.
_DISK_KEYS = (('read_req', 'read_requests'), ('read', 'read_bytes'),
              ('write_req', 'write_requests'), ('write', 'write_bytes'),
              ('errors', 'errors_count'))
_NIC_KEYS = (('rx', 'rx_octets'), ('rx_packets', 'rx_packets'), ('rx_errors', 'rx_errors'),
             ('rx_drop', 'rx_drop'), ('tx', 'tx_octets'), ('tx_packets', 'tx_packets'),
             ('tx_errors', 'tx_errors'), ('tx_drop', 'tx_drop'))


def driver_view(diags: objects.InstanceDiagnostics) -> dict:
    """Up to 2.47: the libvirt driver's dict. Only what was counted has a key (a NIC
    without a host device has none, as in Nova's)."""
    view: dict = {}
    for cpu in diags.cpus:
        if cpu.time is not None:
            view[f'cpu{cpu.id}_time'] = cpu.time
    for disk in diags.disks:
        for suffix, name in _DISK_KEYS:
            view[f'{disk.device}_{suffix}'] = getattr(disk, name)
    for nic in diags.nics:
        if nic.device:
            for suffix, name in _NIC_KEYS:
                view[f'{nic.device}_{suffix}'] = getattr(nic, name)
    view['memory'] = diags.memory_kib
    for name, value in diags.memory_stats.items():
        view[f'memory-{name}'] = value
    return view


def standard_view(diags: objects.InstanceDiagnostics, uptime: int | None) -> dict:
    """From 2.48: Nova's standard diagnostics (`uptime` as the caller settled it)."""
    return {
        'state': power.NAMES.get(diags.power_state, 'pending'),
        'driver': diags.driver,
        'hypervisor': diags.hypervisor,
        'hypervisor_os': diags.hypervisor_os,
        'uptime': uptime,
        'config_drive': diags.config_drive,
        'num_cpus': len(diags.cpus),
        'num_nics': len(diags.nics),
        'num_disks': len(diags.disks),
        'cpu_details': [_pick(cpu, _CPU_FIELDS) for cpu in diags.cpus],
        'nic_details': [_pick(nic, _NIC_FIELDS) for nic in diags.nics],
        'disk_details': [_pick(disk, _DISK_FIELDS) for disk in diags.disks],
        # MiB, as the API reference says (Nova's libvirt driver divides the KiB it
        # reads by 2**20 and so shows GiB, rounded down: 0 for a small guest).
        'memory_details': {'maximum': _mib(diags.memory_kib),
                           'used': _mib(diags.memory_used_kib)},
    }


def _pick(payload: objects.Payload, names: tuple[str, ...]) -> dict:
    return {name: getattr(payload, name) for name in names}


def _mib(kib: int | None) -> int | None:
    return None if kib is None else kib // 1024
