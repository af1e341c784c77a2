"""Virt drivers: the hypervisor behind a compute agent."""
from kumo_compute.virt.driver import ComputeDriver


def load_driver(name: str, host: str, node_uuid: str | None = None) -> ComputeDriver:
    """The driver named by [compute] virt_driver, for the agent of `host` (whose stable
    node uuid tells its guests from those of other agents on the same hypervisor)."""
    if name == 'fake':
        from kumo_compute.virt.fake import FakeDriver
        return FakeDriver(host)
    if name == 'libvirt':
        # Imported only here: libvirt-python is the agent's optional `libvirt` extra.
        from kumo_compute.virt.libvirt.driver import LibvirtDriver
        return LibvirtDriver(host, node_uuid)
    raise ValueError(f'Unknown virt driver {name!r}')


def probe_libvirt(uri: str, timeout: float = 5.0) -> str | None:
    """None if libvirtd answers at `uri` (and libvirt-python is installed), else why
    not. Used by kumo-all to pick its driver; never hangs longer than `timeout`."""
    import threading

    outcome: list[str | None] = []

    def attempt() -> None:
        try:
            from kumo_compute.virt.libvirt import driver
        except ImportError as exc:
            outcome.append(f'libvirt-python is not installed ({exc})')
            return
        outcome.append(driver.probe(uri))

    thread = threading.Thread(target=attempt, name='libvirt-probe', daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else f'no answer from {uri} within {timeout:.0f}s'

