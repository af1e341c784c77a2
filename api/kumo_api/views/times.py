"""Timestamps as Nova formats them."""
from __future__ import annotations

import datetime


def iso_z(value: datetime.datetime | None) -> str | None:
    """created/updated: YYYY-MM-DDTHH:MM:SSZ."""
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value else None


def iso_naive(value: datetime.datetime | None) -> str | None:
    """OS-SRV-USG times: naive ISO with microseconds, no zone."""
    if value is None:
        return None
    return value.strftime('%Y-%m-%dT%H:%M:%S.%f')
