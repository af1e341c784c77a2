"""What the live migration tests share: tools/second-libvirtd.sh, which runs a second,
independent libvirtd on this machine (its own mount namespace) as a second host, and
whether this machine can run it with the test guest."""
from __future__ import annotations

import os
import shutil
import subprocess

from tests.guest import base

SCRIPT = os.path.join(base.REPO, 'tools', 'second-libvirtd.sh')


def problem() -> str | None:
    """Why the live migration tests cannot run here (None: they can)."""
    if os.geteuid() != 0:
        return 'needs root (a second libvirtd, guests of qemu:///system)'
    if not os.path.exists(os.path.join(base.GUEST_DIR, 'manifest.json')):
        return f'no test guest in {base.GUEST_DIR} (make guest)'
    for tool in ('libvirtd', 'virtlogd', 'unshare', 'qemu-img'):
        if shutil.which(tool) is None:
            return f'{tool} is not installed'
    try:
        import libvirt  # noqa: F401
    except ImportError as exc:
        return f'libvirt-python is not installed: {exc}'
    return base.libvirt_problem()


def run(*args: str, env: dict) -> str:
    """second-libvirtd.sh ARGS (its LM_* settings in `env`); what it prints."""
    proc = subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=120,
                          env=env)
    if proc.returncode != 0:
        raise RuntimeError(f'second-libvirtd.sh {" ".join(args)}: {proc.stderr}')
    return proc.stdout.strip()
