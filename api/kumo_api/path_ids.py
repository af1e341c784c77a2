"""Integer ids in URL paths (aggregates, services and hypervisors before 2.53)."""
from __future__ import annotations

# Ids are INTEGER columns: a number outside 32 bits names no row, and must not reach
# the database (PostgreSQL would fail the query rather than find nothing).
_MIN, _MAX = -2 ** 31, 2 ** 31 - 1


def integer_id(value: str) -> int | None:
    """`value` as an int if it is a decimal integer (as Nova's validate_integer)."""
    text = value.strip()
    digits = text[1:] if text[:1] in ('-', '+') else text
    # isdecimal, not isdigit: int() refuses digits such as '¹' that isdigit accepts.
    if not digits.isdecimal():
        return None
    if len(digits) > 18:  # int() refuses > 4300 digits; nothing this long fits anyway
        return _MAX + 1 if text[:1] != '-' else _MIN - 1
    return int(text)


def fits(number: int) -> bool:
    """Whether an id can exist at all (else: not found, without asking the DB)."""
    return _MIN <= number <= _MAX
