"""The value rules of flavor extra specs (integer, boolean, enum, pattern, free text),
each saying what is wrong with a value in Nova's words (without the "Validation failed; "
prefix the caller adds)."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Booleans as oslo.utils' strict bool_from_string reads them (case-insensitive, the
# value stripped of surrounding whitespace).
_TRUE = ('1', 't', 'true', 'on', 'y', 'yes')
_FALSE = ('0', 'f', 'false', 'off', 'n', 'no')


@dataclass(frozen=True)
class Text:
    """Any string (the spec is free-form: a name, a filter expression, ...)."""

    def problem(self, value: str) -> str | None:
        return None


@dataclass(frozen=True)
class Bool:
    def problem(self, value: str) -> str | None:
        if value.strip().lower() in _TRUE + _FALSE:
            return None
        return f"'{value}' is not a valid boolean-like value."


@dataclass(frozen=True)
class Int:
    """An integer as Python's int() reads it (so ' 7' and '+7' pass, '7.0' fails),
    within the optional bounds; the maximum is checked first, as Nova does."""
    min: int | None = None
    max: int | None = None

    def problem(self, value: str) -> str | None:
        try:
            number = int(value)
        except ValueError:
            return f"'{value}' is not a valid integer value."
        if self.max is not None and number > self.max:
            return f"'{number}' is greater than the max value of '{self.max}'."
        if self.min is not None and number < self.min:
            return f"'{number}' is less than the min value of '{self.min}'."
        return None


@dataclass(frozen=True)
class Enum:
    values: tuple[str, ...]

    def problem(self, value: str) -> str | None:
        if value in self.values:
            return None
        return f"'{value}' is not one of: {', '.join(self.values)}."


@dataclass(frozen=True)
class Pattern:
    """A string the regex matches in full; the message quotes the regex."""
    regex: str

    def problem(self, value: str) -> str | None:
        if re.fullmatch(self.regex, value):
            return None
        return f"'{value}' is not of the format '{self.regex}'."


Rule = Text | Bool | Int | Enum | Pattern
