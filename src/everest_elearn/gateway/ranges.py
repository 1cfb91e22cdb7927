"""HTTP byte ranges (RFC 9110): one range per request; parsing and resolving against a size."""

from __future__ import annotations

import re

from everest_elearn.errors import InvalidInput
from everest_elearn.gateway.delivery import ByteRange

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(InvalidInput):
    """The range lies outside the file (HTTP 416)."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__("Range", f"outside the file's {size} bytes")


def parse_range(header: str | None) -> ByteRange | None:
    """``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` (the last n: start -n). Multiple ranges and
    anything unparsable are ignored, as RFC 9110 allows: the whole file is sent."""
    if not header or "," in header:
        return None
    m = _RANGE.match(header)
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):
        return ByteRange(-int(m.group(2)))
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else None
    if end is not None and end < start:
        return None
    return ByteRange(start, end)


def resolve_range(byte_range: ByteRange | None, size: int | None) -> tuple[int, int | None]:
    """Inclusive (start, end) within a file of ``size`` bytes; raises when unsatisfiable."""
    if byte_range is None:
        return 0, (size - 1 if size else None)
    if size is None:
        if byte_range.start < 0:
            return 0, None  # a suffix of unknown length: send everything
        return byte_range.start, byte_range.end
    if byte_range.start < 0:
        if size == 0 or byte_range.start == 0:
            raise RangeNotSatisfiable(size)
        return max(0, size + byte_range.start), size - 1
    if byte_range.start >= size:
        raise RangeNotSatisfiable(size)
    end = size - 1 if byte_range.end is None else min(byte_range.end, size - 1)
    return byte_range.start, end
