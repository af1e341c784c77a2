"""Validation of flavor extra specs from microversion 2.86 (a lenient subset of Nova's).

Nova 2.86 checks every key of a namespace it knows (hw:, hw_rng:, resources:, ...)
against a registry of ~150 validators and rejects unknown keys in those namespaces.
Kumo checks the VALUES of the extra specs its scheduler and drivers read or that
clients commonly set (the table below), and accepts any other key, known namespace
or not. A typo in a value of a well-known key is caught; an unknown key in a known
namespace is stored as given (Nova would answer 400). Messages are Nova's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kumo_api import errors

_TRUE = ('1', 't', 'true', 'on', 'y', 'yes')
_FALSE = ('0', 'f', 'false', 'off', 'n', 'no')


@dataclass(frozen=True)
class Rule:
    """What values a key (a regex over the whole key) accepts."""
    kind: type = str
    minimum: int | None = None
    enum: tuple | None = None
    pattern: str | None = None


_RULES: dict[str, Rule] = {
    'hw:cpu_policy': Rule(enum=('dedicated', 'shared', 'mixed')),
    'hw:cpu_thread_policy': Rule(enum=('prefer', 'isolate', 'require')),
    'hw:emulator_threads_policy': Rule(enum=('share', 'isolate')),
    'hw:cpu_realtime': Rule(bool),
    'hw:cpu_(sockets|cores|threads|max_sockets|max_cores|max_threads)': Rule(int, 1),
    'hw:numa_nodes': Rule(int, 1),
    r'hw:numa_cpus\.\d+': Rule(pattern=r'\^?\d+(-\d+)?(,\^?\d+(-\d+)?)*'),
    r'hw:numa_mem\.\d+': Rule(int, 0),
    'hw:mem_page_size': Rule(pattern=r'(small|large|any|\d+([kKMGT]i?)?(b|bit|B)?)'),
    'hw:watchdog_action': Rule(enum=('none', 'pause', 'poweroff', 'reset', 'disabled')),
    'hw:pci_numa_affinity_policy': Rule(enum=('required', 'legacy', 'preferred',
                                              'socket')),
    'hw:(boot_menu|vif_multiqueue_enabled|pmu|hide_hypervisor_id|mem_encryption)':
        Rule(bool),
    'hw:serial_port_count': Rule(int, 0),
    'hw_rng:allowed': Rule(bool),
    'hw_rng:rate_(bytes|period)': Rule(int, 0),
    'hw_video:ram_max_mb': Rule(int, 0),
    'os:secure_boot': Rule(enum=('required', 'disabled', 'optional')),
    r'resources([a-zA-Z0-9_-]{1,64})?:[A-Z0-9_]+': Rule(int, 0),
    r'trait([a-zA-Z0-9_-]{1,64})?:[A-Z0-9_]+': Rule(enum=('required', 'forbidden')),
}


def _fail(detail: str):
    raise errors.BadRequest(f'Validation failed; {detail}')


def _check(rule: Rule, value) -> None:
    text = str(value)
    if rule.kind is int:
        try:
            number = int(text)
        except ValueError:
            _fail(f"'{text}' is not a valid integer value.")
        if rule.minimum is not None and number < rule.minimum:
            _fail(f"'{number}' is less than the minimum of {rule.minimum}.")
        return
    if rule.kind is bool:
        if text.strip().lower() not in _TRUE + _FALSE:
            _fail(f"'{text}' is not a valid boolean-like value.")
        return
    if rule.enum is not None and text not in rule.enum:
        _fail(f"'{text}' is not one of {list(rule.enum)}.")
    if rule.pattern is not None and not re.fullmatch(rule.pattern, text):
        _fail(f"'{text}' does not match the pattern {rule.pattern}.")


def validate(specs: dict) -> None:
    """400 if a well-known extra spec has a value its consumers would reject."""
    for key, value in specs.items():
        for pattern, rule in _RULES.items():
            if re.fullmatch(pattern, key):
                _check(rule, value)
                break
