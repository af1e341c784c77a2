"""Entry point for oslo-config-generator: every Kumo option group."""
from kumo_common import conf


def list_opts():
    """Return [(group, [opts])] as the generator expects."""
    result = []
    for module in conf.GROUP_MODULES:
        for group, opts in module.list_opts().items():
            result.append((group, opts))
    return result
