"""Checks of record values before any backend sees them, so both backends store the same records
and refuse the same ones, per record, with the reason."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.registry import ParamType, Registry
from everest_elearn.errors import InvalidInput

_NUMBERS = (ParamType.INT, ParamType.FLOAT)
_STRINGS = (ParamType.KEYWORD, ParamType.TEXT)
# Lucene's longest term: a longer keyword makes Elasticsearch refuse the whole record, so both
# backends refuse it here, per record, with the reason.
MAX_KEYWORD_BYTES = 32_766


def check_keyword(where: str, value: str) -> None:
    # Four bytes per character at most: only long strings need encoding to be measured.
    if len(value) * 4 > MAX_KEYWORD_BYTES and len(value.encode()) > MAX_KEYWORD_BYTES:
        raise InvalidInput(where, f"is longer than {MAX_KEYWORD_BYTES} bytes, too long to index")


def check_value(
    field: str, kind: ParamType, value: Any, low: float | None, high: float | None
) -> None:
    where = f"properties.{field}"
    if kind in (ParamType.INT, ParamType.FLOAT):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(where, f"{value!r} is not a number")
        if not math.isfinite(value):
            raise InvalidInput(where, f"{value!r} is not a finite number")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidInput(where, f"{value} lies outside [{low}, {high}]")
    elif kind is ParamType.DATETIME:
        if isinstance(value, datetime):
            return
        if not isinstance(value, str):
            raise InvalidInput(where, f"{value!r} is not a date")
        try:
            datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InvalidInput(where, f"{value!r} is not an RFC 3339 date") from None
    elif kind is ParamType.BOOL:
        if not isinstance(value, (bool, str)):
            raise InvalidInput(where, f"{value!r} is not a boolean")
    elif isinstance(value, (dict, list)) and kind is not ParamType.KEYWORD:
        raise InvalidInput(where, "expected a single value")


def check_properties(record: Record, registry: Registry) -> None:
    """Raise InvalidInput naming the first property (or keyword) no backend can store as typed."""
    for keyword in record.keywords:
        check_keyword("keywords", keyword)
    by_field = registry.by_field
    for field, value in record.properties.items():
        if value is None:
            continue
        param = by_field(field)
        if param is None:
            continue
        kind = param.type
        values = value if isinstance(value, (list, tuple)) else (value,)
        for item in values:
            # The common case (a finite number inside its range, a string) costs no call.
            if kind in _NUMBERS and type(item) in (int, float):
                low, high = param.minimum, param.maximum
                if (
                    math.isfinite(item)
                    and (low is None or item >= low)
                    and (high is None or item <= high)
                ):
                    continue
            elif kind in _STRINGS and type(item) is str:
                if kind is ParamType.KEYWORD:
                    check_keyword(f"properties.{field}", item)
                continue
            check_value(field, kind, item, param.minimum, param.maximum)
