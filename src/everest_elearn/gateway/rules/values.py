"""Value parsers for the rules (also used by harvest sources): sizes and durations."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_SIZE_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_size(value: Any) -> int:
    """``1024``, ``"500 MB"``, ``"2GiB"`` -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    m = _SIZE.match(str(value)) if isinstance(value, str | float) else None
    if not m:
        raise ValueError(f"{value!r} is not a size (e.g. 500 MB, 2 GiB, or bytes)")
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "B").upper()])


def parse_retention(value: Any) -> timedelta:
    """A retention: a duration above zero (0 would evict what was just fetched)."""
    duration = parse_duration(value)
    if duration <= timedelta(0):
        raise ValueError(f"{value!r} must be longer than zero")
    return duration


def parse_duration(value: Any) -> timedelta:
    """``3600``, ``"12h"``, ``"7d"`` -> timedelta."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    m = _DURATION.match(value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"{value!r} is not a duration (e.g. 90s, 30m, 12h, 7d, 2w)")
    return timedelta(seconds=float(m.group(1)) * _DURATION_UNITS[(m.group(2) or "s").lower()])
