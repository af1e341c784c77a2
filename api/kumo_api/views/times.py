"""Timestamps as Nova formats them.

isoformat() rather than strftime(): the same text for the naive UTC times stored, at a
third of the cost (a page of 1,000 servers formats 3,000 of them).
"""
from __future__ import annotations

import datetime


def iso_z(value: datetime.datetime | None) -> str | None:
    """created/updated: YYYY-MM-DDTHH:MM:SSZ."""
    return value.isoformat(timespec='seconds') + 'Z' if value else None


def iso_naive(value: datetime.datetime | None) -> str | None:
    """OS-SRV-USG times: naive ISO with microseconds, no zone."""
    if value is None:
        return None
    return value.isoformat(timespec='microseconds')
