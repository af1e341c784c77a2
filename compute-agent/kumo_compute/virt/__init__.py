"""Virt drivers: the hypervisor behind a compute agent."""
from kumo_compute.virt.driver import ComputeDriver


def load_driver(name: str, host: str) -> ComputeDriver:
    """The driver named by [compute] virt_driver."""
    if name == 'fake':
        from kumo_compute.virt.fake import FakeDriver
        return FakeDriver(host)
    raise ValueError(f'Unknown virt driver {name!r}')
