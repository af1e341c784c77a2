"""JsonFilter: the `query` hint, Nova's JSON query language over host states.

A query is `[op, arg, ...]`; args are nested queries, `$variables` (a host state
attribute, `$a.b.c` digging into dicts), other strings (literals) or JSON numbers
and booleans. Nova's quirks are kept on purpose so queries carry over:
* unresolvable variables and None results are DROPPED from the argument list;
* `=`, `<`, `>`, `<=`, `>=` compare the first argument with every other one and are
  false with fewer than two arguments; `in` tests the first among the rest;
* `not` returns the list of negated arguments, `or` any, `and` all;
* an empty query passes; a list result passes if any element is true.
Kumo differences: `$cpu_info` is the parsed dict (Nova's is a JSON string, so
`$cpu_info.arch` works here), and a query that cannot be evaluated (unknown
operator, comparing a number with a string) rejects the host with a reason instead
of failing the whole request.
"""
from __future__ import annotations

import json
import operator

from kumo_common import scheduler_hints
from kumo_scheduler.filters import PASS, BaseFilter, Verdict, reject


def _op_compare(args, op):
    if len(args) < 2:
        return False
    if op is operator.contains:
        bad = args[0] not in args[1:]
    else:
        bad = [arg for arg in args[1:] if not op(args[0], arg)]
    return not bool(bad)


def _not(args):
    return [not arg for arg in args]


def _or(args):
    return True in args


def _and(args):
    return False not in args


COMMANDS = {
    '=': lambda args: _op_compare(args, operator.eq),
    '<': lambda args: _op_compare(args, operator.lt),
    '>': lambda args: _op_compare(args, operator.gt),
    'in': lambda args: _op_compare(args, operator.contains),
    '<=': lambda args: _op_compare(args, operator.le),
    '>=': lambda args: _op_compare(args, operator.ge),
    'not': _not,
    'or': _or,
    'and': _and,
}


def _variable(host, name: str):
    if name == 'limits':
        return {}
    if name == 'metrics':
        return {}
    if name == 'num_io_ops':
        return 0
    if name == 'total_usable_ram_mb':
        return host.memory_mb
    if name == 'total_usable_disk_gb':
        return host.local_gb
    if name == 'disk_mb_used':
        return host.local_gb_used * 1024
    if name == 'aggregates':
        return [{'name': a.name, 'uuid': a.uuid, 'metadata': a.metadata}
                for a in host.aggregates]
    if name.startswith('_'):
        return None
    return getattr(host, name, None)


def _parse_string(string: str, host):
    if not string:
        return None
    if not string.startswith('$'):
        return string
    path = string[1:].split('.')
    obj = _variable(host, path[0])
    if obj is None:
        return None
    for item in path[1:]:
        obj = obj.get(item) if isinstance(obj, dict) else None
        if obj is None:
            return None
    return obj


def evaluate(query, host):
    """Nova's _process_filter. Raises KeyError for an unknown operator and
    TypeError for comparisons Python cannot make."""
    if not query:
        return True
    method = COMMANDS[query[0]]
    cooked = []
    for arg in query[1:]:
        if isinstance(arg, list):
            arg = evaluate(arg, host)
        elif isinstance(arg, str):
            arg = _parse_string(arg, host)
        if arg is not None:
            cooked.append(arg)
    return method(cooked)


parse = scheduler_hints.parse_query
check_syntax = scheduler_hints.query_problem


class JsonFilter(BaseFilter):
    name = 'JsonFilter'
    hints = ('query',)

    def passes(self, host, request) -> Verdict:
        raw = request.hint('query')
        if not raw:
            return PASS
        try:
            query = parse(raw)
        except ValueError:
            return reject('query.invalid', f'query: not valid JSON: {raw[:80]!r}')
        return self._judge(host, query, raw)

    @staticmethod
    def _judge(host, query, raw) -> Verdict:
        try:
            result = evaluate(query, host)
        except KeyError as exc:
            return reject('query.invalid', f'query: unknown operator {exc.args[0]!r}')
        except TypeError as exc:
            return reject('query.error', f'query: cannot evaluate on this host ({exc})')
        if isinstance(result, list):
            result = any(result)
        if result:
            return PASS
        return reject('query.false', f'query: {raw if isinstance(raw, str) else json.dumps(raw)}'
                      ' is false for this host')

    def filter_all(self, hosts, request):
        raw = request.hint('query')
        if not raw:
            return hosts, []
        try:
            query = parse(raw)
        except ValueError:
            verdict = reject('query.invalid', f'query: not valid JSON: {raw[:80]!r}')
            return [], [(h, verdict) for h in hosts]
        if not query:
            return hosts, []
        passed, removed = [], []
        for host in hosts:
            verdict = self._judge(host, query, raw)
            if verdict.passed:
                passed.append(host)
            else:
                removed.append((host, verdict))
        return passed, removed
