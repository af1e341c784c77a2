"""Query schemas of os-simple-tenant-usage, per microversion (Nova's): the period
(start, end; detailed on the list), limit/marker from 2.40, and unknown parameters
ignored before 2.75 and a 400 from it."""
from kumo_api import validation

_strings = {'type': 'array', 'items': {'type': 'string'}}
# Nova's non_negative_integer, once per repetition of the parameter.
_non_negative = {'type': 'array',
                 'items': {'type': 'string', 'pattern': '^[0-9]*$', 'minLength': 1}}
_PAGING = {'limit': _non_negative, 'marker': _strings}


def _query(properties: dict, want) -> dict:
    if want.at_least(2, 40):
        properties = {**properties, **_PAGING}
    return validation.query_schema(properties, allow_unknown=not want.at_least(2, 75))


def index_query(want) -> dict:
    """GET /os-simple-tenant-usage."""
    return _query({'start': _strings, 'end': _strings, 'detailed': _strings}, want)


def show_query(want) -> dict:
    """GET /os-simple-tenant-usage/{tenant_id}: no `detailed` (always detailed)."""
    return _query({'start': _strings, 'end': _strings}, want)
