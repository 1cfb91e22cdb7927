"""The OGC 13-026 interval notation for numeric and date parameters, parsed and written back.

Forms: ``10`` (equal), ``[10,20]``, ``]10,20[``, ``[10,20[``, ``]10,20]``, ``[10`` (at least),
``10]`` (at most), ``]10`` (greater than), ``10[`` (less than) and ``{10,20,30}`` (one of).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from everest_elearn.catalogue.query import Condition, Interval, OneOf
from everest_elearn.catalogue.registry import ParamType
from everest_elearn.errors import InvalidInput

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 with optional seconds/fraction/offset; a space instead of "T" is a common client slip.
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_datetime(text: str, where: str, *, end_of_day: bool = False) -> datetime:
    """An RFC 3339 date or date-time in UTC; a bare date is midnight (or the day's last instant)."""
    value = text.strip()
    try:
        if _DATE.match(value):
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            # time:end=2020-01-31 means "up to the end of that day" to anyone reading it.
            return day + timedelta(days=1, microseconds=-1) if end_of_day else day
        if _DATETIME.match(value):
            normalised = value.replace(" ", "T").replace("z", "Z")
            if "." in normalised:  # Python reads at most 6 fraction digits
                head, _, tail = normalised.partition(".")
                digits = re.match(r"\d+", tail)
                frac = digits.group(0) if digits else ""
                normalised = head + "." + frac[:6].ljust(6, "0") + tail[len(frac) :]
            parsed = datetime.fromisoformat(normalised)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(where, f"{text!r} is not a valid date ({exc})") from None
    raise InvalidInput(
        where, f"{text!r} is not an RFC 3339 date or date-time, e.g. 2021-06-01T10:00:00Z"
    )


def _number(kind: ParamType) -> Callable[[str, str], Any]:
    def convert(text: str, where: str) -> Any:
        value = text.strip()
        try:
            if kind is ParamType.INT:
                if not re.fullmatch(r"[+-]?\d{1,18}", value):
                    raise ValueError("not an integer")
                return int(value)
            number = float(value)
        except ValueError:
            expected = "an integer" if kind is ParamType.INT else "a number"
            raise InvalidInput(where, f"{text!r} is not {expected}") from None
        if not math.isfinite(number):
            raise InvalidInput(where, f"{text!r} is not a finite number")
        return number

    return convert


def converter(kind: ParamType) -> Callable[[str, str], Any]:
    """The scalar parser for a parameter type (numbers and dates)."""
    if kind is ParamType.DATETIME:
        return lambda text, where: parse_datetime(text, where)
    if kind in {ParamType.INT, ParamType.FLOAT}:
        return _number(kind)
    raise ValueError(f"{kind} does not take the interval notation")


def parse_condition(text: str, kind: ParamType, where: str) -> Condition:
    """Parse one value in the interval notation into an Interval or a OneOf."""
    convert = converter(kind)
    value = text.strip()
    if not value:
        raise InvalidInput(where, "the value is empty")
    if value.startswith("{") or value.endswith("}"):
        if not (value.startswith("{") and value.endswith("}")):
            raise InvalidInput(where, f"{text!r}: a set is written {{a,b,c}}")
        items = [item for item in value[1:-1].split(",")]
        if not any(item.strip() for item in items) or any(not item.strip() for item in items):
            raise InvalidInput(where, f"{text!r}: a set needs values separated by commas")
        return OneOf(tuple(convert(item, where) for item in items))
    opens = value[0] in "[]"
    closes = value[-1] in "[]"
    if not opens and not closes:
        if "," in value:
            raise InvalidInput(where, f"{text!r}: write a range as [a,b] or a set as {{a,b}}")
        return OneOf((convert(value, where),))
    if opens and closes and "," in value:
        low_text, _, high_text = value[1:-1].partition(",")
        if "," in high_text or not low_text.strip() or not high_text.strip():
            raise InvalidInput(where, f"{text!r}: a range is written [a,b] with two values")
        low, high = convert(low_text, where), convert(high_text, where)
        if low > high:
            raise InvalidInput(where, f"{text!r}: the lower bound is above the upper bound")
        return Interval(low, high, low_inclusive=value[0] == "[", high_inclusive=value[-1] == "]")
    if opens and not closes:  # "[10" at least, "]10" greater than
        return Interval(low=convert(value[1:], where), low_inclusive=value[0] == "[")
    if closes and not opens:  # "10]" at most, "10[" less than
        return Interval(high=convert(value[:-1], where), high_inclusive=value[-1] == "]")
    raise InvalidInput(
        where,
        f"{text!r} is not in the interval notation (e.g. 10, [10,20], ]10,20[, [10, 10], {10, 20})",
    )


def _scalar(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_condition(condition: Condition) -> str:
    """The canonical notation of a condition (used to echo applied parameters)."""
    if isinstance(condition, OneOf):
        if len(condition.values) == 1:
            return _scalar(condition.values[0])
        return "{" + ",".join(_scalar(v) for v in condition.values) + "}"
    low, high = condition.low, condition.high
    if low is not None and high is not None:
        return (
            ("[" if condition.low_inclusive else "]")
            + f"{_scalar(low)},{_scalar(high)}"
            + ("]" if condition.high_inclusive else "[")
        )
    if low is not None:
        return ("[" if condition.low_inclusive else "]") + _scalar(low)
    if high is not None:
        return _scalar(high) + ("]" if condition.high_inclusive else "[")
    return ""


def bounds_of(condition: Condition) -> tuple[Any, Any]:
    """Lowest and highest value a condition names (None when open), for range checks."""
    if isinstance(condition, OneOf):
        return min(condition.values), max(condition.values)
    return condition.low, condition.high


__all__ = ["bounds_of", "converter", "format_condition", "parse_condition", "parse_datetime"]
