"""Validation of flavor extra specs from microversion 2.86, as Nova 34 validates them.

The registry is data: each namespace module of this package lists (key template,
value rule) pairs, taken from Nova's registry (nova/api/validation/extra_specs/) with
the standard trait and resource class names pinned in `placement`. A template is a regular
expression over the whole key in which `{param}` stands for one of the PARAMS
patterns below (so `hw:numa_cpus.{num}` is `hw:numa_cpus.` followed by digits; the
`.` stays a regex dot, as in Nova). A key is checked against the first template it
matches. A key that matches none passes if it has no namespace (no `:`) or a
namespace Nova does not know, and is refused if its namespace (the text before its
first `:`) matches the namespace part of any template: `hw:bogus` is a 400,
`custom:anything` is stored. Messages are Nova's, word for word.
"""
from __future__ import annotations

import re

from kumo_api import errors
from kumo_api.extra_specs import filters, hw, misc, placement, quota
from kumo_api.extra_specs.rules import Rule

PARAMS = {
    'num': r'\d+',                      # a guest NUMA node
    'group': r'([a-zA-Z0-9_-]{1,64})?',  # a granular request group suffix
    'custom': r'[A-Z0-9_]+',            # the rest of a CUSTOM_ resource class or trait
    'key': r'.+',                       # aggregate metadata key
    'filter': r'(:\w+)*',               # nested capability path
    'standard_rc': '|'.join(map(re.escape, placement.STANDARD_RESOURCE_CLASSES)),
    'standard_trait': '|'.join(map(re.escape, placement.STANDARD_TRAITS)),
}


def _regex(template: str) -> str:
    # A plain group, not (?:...): its colon would cut the namespace off too early.
    return re.sub(r'\{(\w+)\}', lambda m: f'({PARAMS[m.group(1)]})', template)


def _build(modules) -> tuple[dict[str, Rule], list[tuple[re.Pattern, Rule]],
                             list[re.Pattern]]:
    exact: dict[str, Rule] = {}
    patterned: list[tuple[re.Pattern, Rule]] = []
    namespaces: dict[str, re.Pattern] = {}
    for module in modules:
        for template, rule in module.SPECS:
            regex = _regex(template)
            if regex == template:
                exact.setdefault(template, rule)
            else:
                patterned.append((re.compile(regex), rule))
            if ':' in regex:
                namespace = regex.split(':', 1)[0]
                namespaces.setdefault(namespace, re.compile(namespace))
    return exact, patterned, list(namespaces.values())


# The templates are disjoint (distinct literals; no standard resource class or trait
# starts with CUSTOM_), so the order of the modules changes no answer.
_EXACT, _PATTERNED, _NAMESPACES = _build((filters, hw, misc, quota, placement))


def rule_for(key: str) -> Rule | None:
    """The rule of the template `key` matches; None if no template does."""
    if key in _EXACT:
        return _EXACT[key]
    for regex, rule in _PATTERNED:
        if regex.fullmatch(key):
            return rule
    return None


def problem(key: str, value) -> str | None:
    """What is wrong with one extra spec (Nova's words, without the prefix), or None.

    Numbers (JSON numbers are allowed) are judged by their text, as Nova does."""
    text = value if isinstance(value, str) else str(value)
    rule = rule_for(key)
    if rule is not None:
        return rule.problem(text)
    if ':' in key and any(ns.fullmatch(key.split(':', 1)[0]) for ns in _NAMESPACES):
        return f"extra spec '{key}' does not appear to be a valid extra spec."
    return None


def validate(key: str, value) -> None:
    """400 with Nova's message if Nova 2.86+ would refuse this extra spec."""
    detail = problem(key, value)
    if detail is not None:
        raise errors.BadRequest(f'Validation failed; {detail}')
