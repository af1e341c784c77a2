"""Request bodies of the network service: {"<resource>": {attributes}}, checked
attribute by attribute with Neutron's messages ("Invalid input for X. Reason: ...",
"Unrecognized attribute(s) 'x'")."""
from __future__ import annotations

import ipaddress
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

from flask import request

from kumo_api.network_service import errors

Check = Callable[[str, Any], Any]


def _invalid(name: str, reason: str) -> errors.BadRequest:
    return errors.BadRequest(f'Invalid input for {name}. Reason: {reason}.')


def boolean(name: str, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ('true', 'false'):
        return value.lower() == 'true'
    raise _invalid(name, f"'{value}' is not a valid boolean value")


def string(max_length: int = 255) -> Check:
    def check(name: str, value):
        if not isinstance(value, str):
            raise _invalid(name, f"'{value}' is not a valid string")
        if len(value) > max_length:
            raise _invalid(name, f"'{value}' exceeds maximum length of {max_length}")
        return value
    return check


def integer(minimum: int, maximum: int) -> Check:
    def check(name: str, value):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise _invalid(name, f"'{value}' is not an integer")
        try:
            number = int(value)
        except ValueError as exc:
            raise _invalid(name, f"'{value}' is not an integer") from exc
        if not minimum <= number <= maximum:
            raise _invalid(name, f"'{value}' is not in range {minimum} through {maximum}")
        return number
    return check


def uuid(name: str, value):
    try:
        return str(uuidlib.UUID(str(value)))
    except ValueError as exc:
        raise _invalid(name, f"'{value}' is not a valid UUID") from exc


def ip_address(name: str, value):
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise _invalid(name, f"'{value}' is not a valid IP address") from exc


def nullable(check: Check) -> Check:
    return lambda name, value: None if value is None else check(name, value)


def string_list(name: str, value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(name, f"'{value}' is not a list of strings")
    return value


def dict_list(keys: dict[str, Check], required: tuple[str, ...] = ()) -> Check:
    def check(name: str, value):
        if not isinstance(value, list):
            raise _invalid(name, f"'{value}' is not a list")
        result = []
        for item in value:
            if not isinstance(item, dict):
                raise _invalid(name, f"'{item}' is not a dictionary")
            unknown = set(item) - set(keys)
            if unknown:
                raise _invalid(name, f"Unrecognized keys {sorted(unknown)} in '{item}'")
            missing = [k for k in required if k not in item]
            if missing:
                raise _invalid(name, f"'{item}' lacks {missing[0]}")
            result.append({k: keys[k](name, v) for k, v in item.items()})
        return result
    return check


def parse(resource: str, attributes: dict[str, Check], ignored: tuple[str, ...] = (),
          required: tuple[str, ...] = ()) -> dict:
    """The checked attributes of {"<resource>": {...}}; `ignored` ones are accepted
    and dropped (Neutron extensions Kumo does not implement but clients send)."""
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not isinstance(body.get(resource), dict):
        raise errors.BadRequest(f'Resource body required: a JSON object with a '
                                f'"{resource}" object.')
    values = body[resource]
    unknown = sorted(set(values) - set(attributes) - set(ignored))
    if unknown:
        raise errors.BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    for name in required:
        if name not in values:
            raise errors.BadRequest(f"Failed to parse request. Required attribute '{name}' "
                                    f"not specified")
    return {name: attributes[name](name, value) for name, value in values.items()
            if name in attributes}
