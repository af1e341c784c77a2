"""Nova's extra-spec matching language (nova/scheduler/filters/extra_specs_ops.py).

A requirement is either a plain value (string equality) or `<op> value`:
`=` (numeric >=), `==` `!=` `>=` `<=` (numeric), `s==` `s!=` `s<` `s<=` `s>` `s>=`
(string), `<in>` (substring), `<all-in>` (every listed word), `<or>` (any of the
alternatives).
"""
from __future__ import annotations

import operator


def _float(value):
    return float(value)


_NUMERIC = {'=': operator.ge, '==': operator.eq, '!=': operator.ne, '>=': operator.ge,
            '<=': operator.le}
_STRING = {'s==': operator.eq, 's!=': operator.ne, 's<': operator.lt, 's<=': operator.le,
           's>': operator.gt, 's>=': operator.ge}


def match(value, req: str) -> bool:
    """Whether the host's `value` satisfies the requirement `req`."""
    if req is None:
        return False
    words = str(req).split()
    if not words:
        return value == req
    op, rest = words[0], words[1:]
    if op == '<or>':
        return any(str(value) == w for w in rest if w != '<or>')
    if op == '<in>':
        return bool(rest) and rest[0] in str(value)
    if op == '<all-in>':
        return bool(rest) and all(w in str(value).split() for w in rest)
    if op in _STRING:
        return bool(rest) and _STRING[op](str(value), rest[0])
    if op in _NUMERIC:
        if not rest:
            return False
        try:
            return _NUMERIC[op](_float(value), _float(rest[0]))
        except ValueError:
            return False
    return str(value) == str(req)
