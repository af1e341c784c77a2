"""The GET /servers query string: which filters a caller may use, and how each one
narrows the instances (Nova's semantics, reference/NOTES.md section c).

Regex filters are matched in Python with the `regex` module and a time budget, the
same on every database backend, so no pattern can make a request run long.
"""
from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field

import regex
import sqlalchemy as sa
from oslo_utils import timeutils

from kumo_api import errors, policy
from kumo_api.microversion import APIVersion
from kumo_common import states
from kumo_common.db import models

# Seconds all regex filters of one request may spend matching: half the second a
# whole list call may take with a catastrophic pattern (the query and the views
# need the rest). The `regex` module counts its timeout in CPU time: on a machine
# with more runnable threads than CPUs a match takes longer by the wall clock.
REGEX_BUDGET = 0.5
# Largest product of a pattern's counted repeats ({m}, {m,n}). The `regex` module
# expands counted repeats when it compiles, before any time budget applies
# (a{4000000} takes seconds and hundreds of MB), and no name or address needs more.
MAX_REPEAT_PRODUCT = 100_000
_COUNTED_REPEAT = re.compile(r'\{(\d+)(?:,(\d*))?\}')
_ESCAPE = re.compile(r'\\.', re.DOTALL)

# Filters a non-admin may use, by the microversion that allowed them.
_USER_FILTERS: list[tuple[tuple[int, int], set[str]]] = [
    ((2, 1), {'reservation_id', 'name', 'status', 'image', 'flavor', 'ip',
              'changes-since', 'all_tenants'}),
    ((2, 5), {'ip6'}),
    ((2, 26), {'tags', 'tags-any', 'not-tags', 'not-tags-any'}),
    ((2, 66), {'changes-before'}),
    ((2, 73), {'locked'}),
    ((2, 83), {'availability_zone', 'config_drive', 'key_name', 'created_at',
               'launched_at', 'terminated_at', 'power_state', 'task_state', 'vm_state',
               'progress', 'user_id'}),
    ((2, 90), {'hostname'}),
]

# Exact-match filters: query parameter -> column.
_EXACT = {
    'project_id': 'project_id', 'tenant_id': 'project_id', 'user_id': 'user_id',
    'image': 'image_ref', 'image_ref': 'image_ref', 'vm_state': 'vm_state',
    'task_state': 'task_state', 'uuid': 'uuid', 'host': 'host',
}

# Unanchored regex-search filters: query parameter -> column (matched on its text).
_REGEX = {
    'name': 'display_name', 'display_name': 'display_name', 'hostname': 'hostname',
    'key_name': 'key_name', 'availability_zone': 'availability_zone', 'node': 'node',
    'reservation_id': 'reservation_id', 'description': 'display_description',
    'display_description': 'display_description', 'kernel_id': 'kernel_id',
    'ramdisk_id': 'ramdisk_id', 'root_device_name': 'root_device_name',
    'access_ip_v4': 'access_ip_v4', 'access_ip_v6': 'access_ip_v6',
    'locked_by': 'locked_by', 'launch_index': 'launch_index',
    'power_state': 'power_state', 'progress': 'progress', 'config_drive': 'config_drive',
    'auto_disk_config': 'auto_disk_config', 'created_at': 'created_at',
    'launched_at': 'launched_at', 'terminated_at': 'terminated_at',
}

_OTHER = {'status', 'flavor', 'ip', 'ip6', 'changes-since', 'changes-before', 'tags',
          'tags-any', 'not-tags', 'not-tags-any', 'locked', 'deleted', 'soft_deleted',
          'all_tenants', 'sort_key', 'sort_dir', 'limit', 'marker'}

ALL_PARAMS = set(_EXACT) | set(_REGEX) | _OTHER

# Keys naming joined tables: an admin using them gets a 400, as in Nova.
_JOINED = {'block_device_mapping', 'services', 'metadata', 'system_metadata',
           'info_cache', 'security_groups', 'pci_devices'}

_REGEX_PARAMS = {'name', 'ip', 'ip6', 'display_name', 'hostname', 'node', 'description',
                 'display_description', 'key_name', 'availability_zone', 'kernel_id',
                 'ramdisk_id', 'root_device_name', 'access_ip_v4', 'access_ip_v6',
                 'locked_by'}

_STRICT_TRUE = {'1', 't', 'true', 'on', 'y', 'yes'}
_STRICT_FALSE = {'0', 'f', 'false', 'off', 'n', 'no'}


def query_schema(want: APIVersion) -> dict:
    """Nova's index query schema: every value a list of strings; regex ones compile."""
    props: dict = {}
    for name in ALL_PARAMS | _JOINED:
        item = {'type': 'string'}
        if name in _REGEX_PARAMS:
            item = {'type': 'string', 'format': 'regex', 'minLength': 1}
        props[name] = {'type': 'array', 'items': item}
    props['limit'] = {'type': 'array', 'items': {'type': 'string',
                                                 'pattern': r'^\d+$'}}
    for name in ('changes-since', 'changes-before'):
        props[name] = {'type': 'array', 'items': {'type': 'string', 'format': 'date-time'}}
    return {'type': 'object', 'properties': props,
            'additionalProperties': not want.at_least(2, 75)}


def strict_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _STRICT_TRUE:
        return True
    if lowered in _STRICT_FALSE:
        return False
    raise errors.BadRequest(f"Invalid input for query parameters {name}. Value: {value}. "
                            f"Unrecognized value '{value}', acceptable values are: "
                            "'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', "
                            "'true', 'y', 'yes'")


def check_pattern(name: str, value: str) -> None:
    """A 400 unless `value` compiles with the `regex` module, cheaply: the schema
    checks patterns with `re`, whose syntax differs ('{i' is a literal for `re`, a
    broken fuzzy constraint for `regex`), and admin-only filters have no schema."""
    def invalid(why: str) -> errors.BadRequest:
        return errors.BadRequest(f'Invalid input for query parameters {name}. Value: '
                                 f'{value}. {why}')
    product = 1
    for match in _COUNTED_REPEAT.finditer(_ESCAPE.sub('_', value)):
        digits = max(match.group(1), match.group(2) or '', key=lambda d: (len(d), d))
        product *= max(1, int(digits)) if len(digits) <= 6 else MAX_REPEAT_PRODUCT + 1
        if product > MAX_REPEAT_PRODUCT:
            raise invalid(f'Repeat counts multiply to more than {MAX_REPEAT_PRODUCT}.')
    try:
        regex.compile(value)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise invalid(f"'{value}' is not a 'regex'") from exc


def _parse_time(name: str, value: str) -> datetime.datetime:
    try:
        parsed = timeutils.parse_isotime(value)
    except ValueError as exc:
        raise errors.BadRequest(f'Invalid input for query parameters {name}. '
                                f'Value: {value}. {exc}') from exc
    return timeutils.normalize_time(parsed)


@dataclass
class ServerFilters:
    """What a list call selects, after policy and parsing."""
    conditions: list = field(default_factory=list)
    regexes: dict[str, str] = field(default_factory=dict)  # column -> pattern
    ip_patterns: list[tuple[int, str]] = field(default_factory=list)  # (version, pattern)
    empty: bool = False  # a filter that can match nothing (unknown flavor, ...)


def allowed_params(ctxt, want: APIVersion, params: dict) -> dict:
    """Drop the filters the caller may not use (silently, as Nova)."""
    if policy.authorize(ctxt, 'os_compute_api:servers:allow_all_filters', fatal=False):
        bad = sorted(k for k in params if k in _JOINED or k.startswith('_'))
        if bad:
            raise errors.BadRequest(f'Invalid filter field: {bad[0]}.')
        return params
    allowed = {'sort_key', 'sort_dir', 'limit', 'marker'}
    for (major, minor), names in _USER_FILTERS:
        if want.at_least(major, minor):
            allowed |= names
    return {k: v for k, v in params.items() if k in allowed}


def build(ctxt, want: APIVersion, params: dict, session) -> ServerFilters:
    """Turn allowed query parameters (each a list of strings) into filters."""
    result = ServerFilters()
    inst = models.Instance
    last = {k: v[-1] for k, v in params.items() if v}

    for name, column in _EXACT.items():
        if name in last and name not in ('project_id', 'tenant_id'):
            result.conditions.append(getattr(inst, column) == last[name])
    for name, column in _REGEX.items():
        if name in last:
            check_pattern(name, last[name])
            result.regexes[column] = last[name]

    if 'flavor' in last:
        flavor_id = session.scalars(sa.select(models.Flavor.id).where(
            models.Flavor.flavorid == last['flavor'])).first()
        if flavor_id is None:
            result.empty = True
        result.conditions.append(inst.instance_type_id == flavor_id)
    for name, version in (('ip', 4), ('ip6', 6)):
        if name in last:
            check_pattern(name, last[name])
            result.ip_patterns.append((version, last[name]))
    if 'locked' in last:
        result.conditions.append(inst.locked.is_(strict_bool('locked', last['locked'])))
    _tag_filters(result, last)
    _status_and_deleted(ctxt, want, params, last, result)
    return result


def _tag_filters(result: ServerFilters, last: dict) -> None:
    # One IN list per filter, as Nova's: a condition per tag would nest one level
    # per tag, and a few thousand tags overflow SQLite's expression depth (a 500).
    inst, tag = models.Instance, models.Tag

    def has_all(tags):
        return inst.uuid.in_(
            sa.select(tag.resource_id).where(tag.tag.in_(tags)).group_by(tag.resource_id)
            .having(sa.func.count(sa.distinct(tag.tag)) == len(tags)))

    def has_any(tags):
        return sa.exists().where(tag.resource_id == inst.uuid, tag.tag.in_(tags))

    def split(name):
        return list(dict.fromkeys(t for t in last[name].split(',') if t)) \
            if name in last else []

    if tags := split('tags'):
        result.conditions.append(has_all(tags))
    if tags := split('tags-any'):
        result.conditions.append(has_any(tags))
    if tags := split('not-tags'):
        result.conditions.append(sa.not_(has_all(tags)))
    if tags := split('not-tags-any'):
        result.conditions.append(sa.not_(has_any(tags)))


def _status_and_deleted(ctxt, want, params, last, result: ServerFilters) -> None:
    inst = models.Instance
    deleted = None
    if 'deleted' in last:
        deleted = last['deleted'].lower() in _STRICT_TRUE
    statuses = params.get('status', [])
    if statuses:
        vm_states: list[str] = []
        task_states: list | None = []
        for status in statuses:
            if status.upper() == 'DELETED':
                if not ctxt.is_admin_role:
                    raise errors.Forbidden('Only administrators may list deleted instances')
                deleted = True
            vms, tasks = states.states_from_status(status)
            if not vms and status.upper() != 'DELETED':
                if want.at_least(2, 38):
                    raise errors.BadRequest(f'Invalid status value: {status}')
                result.empty = True
                continue
            vm_states.extend(vms)
            if tasks is None:
                task_states = None
            elif task_states is not None:
                task_states.extend(tasks)
        if vm_states:
            cond = inst.vm_state.in_(vm_states)
            if task_states:
                cond = sa.and_(cond, inst.task_state.in_(task_states))
            result.conditions.append(cond)

    since = _parse_time('changes-since', last['changes-since']) \
        if 'changes-since' in last else None
    before = _parse_time('changes-before', last['changes-before']) \
        if 'changes-before' in last else None
    if since and before and before < since:
        raise errors.BadRequest('The value of changes-since must be less than or equal to '
                                'changes-before.')
    if since:
        result.conditions.append(sa.func.coalesce(inst.updated_at, inst.created_at) >= since)
    if before:
        result.conditions.append(sa.func.coalesce(inst.updated_at, inst.created_at)
                                 <= before)
    if deleted is None and (since or before):
        return  # changes-* include deleted and soft-deleted servers
    soft = 'soft_deleted' in params and bool(last.get('soft_deleted', ''))
    if deleted:
        result.conditions.append(inst.deleted != 0 if not soft and 'soft_deleted' in params
                                 else sa.or_(inst.deleted != 0,
                                             inst.vm_state == states.SOFT_DELETED))
    else:
        result.conditions.append(inst.deleted == 0)
        if not soft:
            result.conditions.append(inst.vm_state != states.SOFT_DELETED)


def _as_text(value) -> str:
    if value is None:
        return ''
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=' ')
    if isinstance(value, bool):
        return '1' if value else '0'
    return str(value)


def _matches(pattern, text: str, deadline: float, anchored: bool = False) -> bool:
    """One bounded regex test; running out of the request's budget is a 400."""
    remaining = deadline - time.monotonic()
    try:
        if remaining <= 0:
            raise TimeoutError
        found = (pattern.match if anchored else pattern.search)(text, timeout=remaining)
    except TimeoutError as exc:
        raise errors.BadRequest('The filter pattern took too long to match; use a '
                                'simpler regular expression.') from exc
    return found is not None


def regex_matching_ids(session, base_query, filters: ServerFilters) -> set[int] | None:
    """Ids of instances passing the regex and ip filters (None when there are none)."""
    if not filters.regexes and not filters.ip_patterns:
        return None
    deadline = time.monotonic() + REGEX_BUDGET
    compiled = [regex.compile(p) for p in filters.regexes.values()]
    columns = [models.Instance.id, models.Instance.uuid] + [
        getattr(models.Instance, c) for c in filters.regexes]
    rows = session.execute(base_query.with_only_columns(*columns)).all()
    ids = {row[0] for row in rows
           if all(_matches(p, _as_text(row[i + 2]), deadline)
                  for i, p in enumerate(compiled))}
    if filters.ip_patterns and ids:
        uuids = {row[1]: row[0] for row in rows if row[0] in ids}
        ids = _ip_matching_ids(session, uuids, filters.ip_patterns, deadline)
    return ids


def _ip_matching_ids(session, id_of: dict[str, int], patterns, deadline: float) -> set[int]:
    """Nova's fallback ip filter: a match anchored at the start, on fixed IPs."""
    compiled = [(version, regex.compile(p)) for version, p in patterns]
    addresses: dict[str, list[str]] = {}
    for device_id, address in session.execute(
            sa.select(models.Port.device_id, models.IPAllocation.ip_address)
            .join(models.IPAllocation, models.IPAllocation.port_id == models.Port.id)
            .where(models.Port.device_id.in_(list(id_of)))):
        addresses.setdefault(device_id, []).append(address)
    return {id_of[uuid] for uuid, addrs in addresses.items()
            if all(any(_matches(p, a, deadline, anchored=True)
                       for a in addrs if (':' in a) == (version == 6))
                   for version, p in compiled)}
