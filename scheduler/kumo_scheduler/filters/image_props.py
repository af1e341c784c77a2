"""ImagePropertiesFilter: the host must run the image's architecture, hypervisor type,
VM mode and hypervisor version (Nova's properties and their legacy aliases).

A host advertises its architecture through its cpu_info `arch`, its hypervisor type
and version through its node report, and the `hvm` VM mode (the only one Kumo's
drivers run). An image asking for nothing passes everywhere. Two deliberate
differences from Nova, so that labs on the fake driver boot ordinary images: a host
that reports no architecture is not judged on it, and the `fake` hypervisor stands
in for any hypervisor type.
"""
from __future__ import annotations

import operator
import re

from kumo_scheduler.filters import NOTHING_REMOVED, PASS, Removed, SplitFilter, Verdict, reject
from kumo_scheduler.host_state import canonical_arch

# Nova's property names first, then the legacy names ImageMetaProps maps to them.
_ARCH = ('hw_architecture', 'architecture')
_HV_TYPE = ('img_hv_type', 'hypervisor_type')
_VM_MODE = ('hw_vm_mode', 'vm_mode')
_HV_VERSION = ('img_hv_requested_version', 'hypervisor_version_requires')

_HV_ALIASES = {'xapi': 'xen'}
_VM_MODE_ALIASES = {'hv': 'hvm', 'pv': 'xen', 'baremetal': 'hvm'}
HOST_VM_MODES = frozenset({'hvm'})
FAKE_HV_TYPE = 'fake'

_OPS = {'>=': operator.ge, '<=': operator.le, '==': operator.eq, '!=': operator.ne,
        '>': operator.gt, '<': operator.lt, '=': operator.eq}
_PREDICATE = re.compile(r'^\s*(>=|<=|==|!=|>|<|=)?\s*([0-9]+(?:\.[0-9]+)*)\s*$')


def _prop(props: dict, names: tuple[str, ...]):
    for name in names:
        if props.get(name) not in (None, ''):
            return props[name]
    return None


def version_tuple(value: int) -> tuple[int, ...]:
    """Nova's integer hypervisor version (major*1e6 + minor*1e3 + micro) as a tuple."""
    return (value // 1000000, value // 1000 % 1000, value % 1000)


def version_satisfies(hv_version: int, requirement: str) -> bool | None:
    """Whether `hv_version` meets e.g. '>=6.0' or '>= 2.1, < 3'; None if unparsable."""
    have = version_tuple(hv_version)
    for clause in str(requirement).split(','):
        match = _PREDICATE.match(clause)
        if match is None:
            return None
        op = _OPS[match.group(1) or '==']
        want = tuple(int(p) for p in match.group(2).split('.'))
        want = (want + (0, 0, 0))[:3]
        if not op(have, want):
            return False
    return True


class ImagePropertiesFilter(SplitFilter):
    name = 'ImagePropertiesFilter'

    @staticmethod
    def _wanted(request):
        image = request.spec.image
        props = (image.properties if image is not None else None) or {}
        arch = _prop(props, _ARCH)
        hv_type = _prop(props, _HV_TYPE)
        vm_mode = _prop(props, _VM_MODE)
        return (canonical_arch(arch) if arch else None,
                _HV_ALIASES.get(str(hv_type).lower(), str(hv_type).lower())
                if hv_type else None,
                _VM_MODE_ALIASES.get(str(vm_mode).lower(), str(vm_mode).lower())
                if vm_mode else None,
                _prop(props, _HV_VERSION))

    def passes(self, host, request) -> Verdict:
        arch, hv_type, vm_mode, hv_version = self._wanted(request)
        if not (arch or hv_type or vm_mode):
            return PASS
        if arch and host.architecture is not None and arch != host.architecture:
            return reject('image.arch_mismatch', f'image: needs architecture {arch}, host '
                          f'is {host.architecture}')
        host_type = (host.hypervisor_type or '').lower()
        if hv_type and hv_type != host_type and host_type != FAKE_HV_TYPE:
            return reject('image.hv_type_mismatch', f'image: needs hypervisor type '
                          f'{hv_type}, host runs {host_type or "an unknown one"}')
        if vm_mode and vm_mode not in HOST_VM_MODES:
            return reject('image.vm_mode_mismatch', f'image: needs VM mode {vm_mode}, host '
                          f'offers {", ".join(sorted(HOST_VM_MODES))}')
        if hv_version and host.hypervisor_version:
            ok = version_satisfies(host.hypervisor_version, hv_version)
            if not ok:
                have = '.'.join(map(str, version_tuple(host.hypervisor_version)))
                return reject('image.hv_version_mismatch', f'image: needs hypervisor '
                              f'version {hv_version}, host has {have}')
        return PASS

    def split(self, hosts, request):
        arch, hv_type, vm_mode, hv_version = self._wanted(request)
        if not (arch or hv_type or vm_mode):
            return hosts, NOTHING_REMOVED
        # Hosts alike in what this filter reads for this image get the same verdict:
        # judge each kind once (a cloud has a handful of kinds, not one per host).
        attrs = [name for name, wanted in (('architecture', arch),
                                           ('hypervisor_type', hv_type),
                                           ('hypervisor_version', hv_version)) if wanted]
        kind = operator.attrgetter(*attrs) if attrs else (lambda h: None)
        examples = dict(zip(map(kind, hosts), hosts, strict=True))
        verdicts = {key: self.passes(host, request) for key, host in examples.items()}
        refused = {key for key, verdict in verdicts.items() if not verdict.passed}
        if not refused:
            return hosts, NOTHING_REMOVED
        passed = [h for h in hosts if kind(h) not in refused]
        return passed, Removed([h for h in hosts if kind(h) in refused],
                               lambda h: verdicts[kind(h)])
