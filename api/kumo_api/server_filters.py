"""The GET /servers query string: which filters a caller may use and how their values
parse (Nova's semantics, reference/NOTES.md section c), into the typed
kumo_common.db.server_list.ServerQuery that the database layer runs.

Regex patterns are checked here (they must compile, cheaply); they are matched by the
database layer, with a time budget, so no pattern can make a request run long.
"""
from __future__ import annotations

import datetime
import re

from oslo_utils import timeutils

from kumo_api import errors, policy
from kumo_api.microversion import APIVersion
from kumo_common import states
from kumo_common.db.server_list import ServerQuery

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

# Sort keys Nova accepts (2.1-2.72), and those it accepts but ignores before 2.75.
_SORT_KEYS = {
    'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'availability_zone',
    'config_drive', 'created_at', 'display_description', 'display_name', 'host',
    'hostname', 'image_ref', 'instance_type_id', 'kernel_id', 'key_name', 'launch_index',
    'launched_at', 'locked_by', 'node', 'power_state', 'progress', 'project_id',
    'ramdisk_id', 'root_device_name', 'task_state', 'terminated_at', 'updated_at',
    'user_id', 'uuid', 'vm_state'}
_IGNORED_SORT_KEYS = {
    'architecture', 'cell_name', 'cleaned', 'default_ephemeral_device',
    'default_swap_device', 'deleted', 'deleted_at', 'disable_terminate', 'ephemeral_gb',
    'ephemeral_key_uuid', 'id', 'key_data', 'launched_on', 'locked', 'memory_mb',
    'os_type', 'reservation_id', 'root_gb', 'shutdown_terminate', 'user_data', 'vcpus',
    'vm_mode'}

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
    # Nova's non_negative_integer: its pattern and minLength are what the errors say.
    props['limit'] = {'type': 'array', 'items': {'type': 'string', 'pattern': '^[0-9]*$',
                                                 'minLength': 1}}
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
    import regex  # only lists with regex filters need it (1.3 MB of the API's memory)
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


def build(ctxt, want: APIVersion, params: dict, detail: bool) -> ServerQuery:
    """Turn allowed query parameters (each a list of strings) into a ServerQuery
    (its limit, marker and columns are the caller's to set)."""
    last = {k: v[-1] for k, v in params.items() if v}
    q = ServerQuery()
    for name, column in _EXACT.items():
        if name in last and name not in ('project_id', 'tenant_id'):
            q.exact[column] = last[name]
    for name, column in _REGEX.items():
        if name in last:
            check_pattern(name, last[name])
            q.regexes[column] = last[name]
    if 'flavor' in last:
        q.flavorid = last['flavor']
    for name, version in (('ip', 4), ('ip6', 6)):
        if name in last:
            check_pattern(name, last[name])
            q.ip_patterns.append((version, last[name]))
    if 'locked' in last:
        q.locked = strict_bool('locked', last['locked'])
    for name, attribute in (('tags', 'tags'), ('tags-any', 'tags_any'),
                            ('not-tags', 'not_tags'), ('not-tags-any', 'not_tags_any')):
        if name in last:
            setattr(q, attribute, list(dict.fromkeys(t for t in last[name].split(',') if t)))
    _status_and_deleted(ctxt, want, params, last, q)
    q.project_id = _project_scope(ctxt, last, detail)
    if not q.empty:  # an unknown status (before 2.38) lists nothing, whatever the order
        q.sort = _sort(ctxt, want, params)
    return q


def _project_scope(ctxt, last: dict, detail: bool) -> str | None:
    """Without all_tenants every caller sees its own project only; with it (admin)
    tenant_id/project_id narrow the projects (None: all of them)."""
    raw = last.get('all_tenants')
    all_tenants = 'all_tenants' in last and (raw == '' or strict_bool('all_tenants', raw))
    if not all_tenants:
        return ctxt.project_id
    policy.authorize(ctxt, f"os_compute_api:servers:{'detail' if detail else 'index'}"
                           ':get_all_tenants')
    return last.get('project_id') or last.get('tenant_id') or None


def _sort(ctxt, want, params: dict) -> list[tuple[str, str]] | None:
    """[(column, direction)] of the sort_key/sort_dir pairs (None: Nova's default
    order, created_at desc). As Nova's: every direction is checked, keys or not; a
    direction without a key applies to created_at."""
    keys = params.get('sort_key') or []
    dirs = params.get('sort_dir') or []
    if any(d not in ('asc', 'desc') for d in dirs):
        raise errors.BadRequest("Invalid input received: Unknown sort direction, must be "
                                "'desc' or 'asc'")
    if len(dirs) > max(len(keys), 1):
        raise errors.BadRequest('Invalid input received: Sort direction size exceeds sort '
                                'key size')
    if not keys:
        return None if dirs in ([], ['desc']) else [('created_at', dirs[0])]
    order = []
    for i, key in enumerate(keys):
        direction = dirs[i] if i < len(dirs) else ('desc' if not dirs else 'asc')
        if key == 'locked' and want.at_least(2, 73):
            pass
        elif key in _SORT_KEYS:
            if key in ('host', 'node') and not ctxt.is_admin_role:
                raise errors.Forbidden(f"Policy doesn't allow sort_key={key} to be "
                                       'performed.')
        elif key in _IGNORED_SORT_KEYS and not want.at_least(2, 75):
            continue
        else:
            raise errors.BadRequest(f'Invalid input for query parameters sort_key. '
                                    f'Value: {key}.')
        order.append((key, direction))
    return order


def _status_and_deleted(ctxt, want, params, last, q: ServerQuery) -> None:
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
                q.empty = True
                continue
            vm_states.extend(vms)
            if tasks is None:
                task_states = None
            elif task_states is not None:
                task_states.extend(tasks)
        q.vm_states = vm_states
        q.task_states = task_states

    since = _parse_time('changes-since', last['changes-since']) \
        if 'changes-since' in last else None
    before = _parse_time('changes-before', last['changes-before']) \
        if 'changes-before' in last else None
    if since and before and before < since:
        raise errors.BadRequest('The value of changes-since must be less than or equal to '
                                'changes-before.')
    q.changes_since, q.changes_before = since, before
    if deleted is None and (since or before):
        q.deleted = None  # changes-* include deleted and soft-deleted servers
    else:
        q.deleted = bool(deleted)
    if 'soft_deleted' in params:
        q.soft_deleted = bool(last.get('soft_deleted', ''))
