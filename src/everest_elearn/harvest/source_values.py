"""Reading the values of a source entry; each reader records a problem with its line."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from everest_elearn.gateway.rules import parse_duration, parse_size
from everest_elearn.gateway.yamlines import LineDict
from everest_elearn.harvest.fetch import Limits

# Query parameter names that carry secrets (as harvest.fetch.safe_url masks them).
_SECRET_WORDS = ("key", "token", "secret", "password", "signature", "credential")
_LIMIT_KEYS = {
    "seconds", "pages", "response_bytes", "records", "request_seconds", "retries", "backoff",
}  # fmt: skip


class ValueReader:
    """Reads typed values from source mappings; problems collect instead of raising."""

    def __init__(self, defaults: Limits) -> None:
        self.defaults = defaults
        self.problems: list[tuple[int, str]] = []

    def fail(self, line: int, message: str) -> None:
        self.problems.append((line, message))

    def text(self, node: LineDict, key: str, required: bool = False) -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.fail(node.line, f"'{key}' is required")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.fail(node.line_of(key), f"{key} must be text")
            return None
        return str(value).strip() or None

    def identifier(self, node: LineDict, key: str) -> str | None:
        value = self.text(node, key)
        if value is not None and not re.match(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,254}$", value):
            self.fail(node.line_of(key), f"{key} {value!r} is not a valid collection identifier")
        return value

    def choice(
        self, node: LineDict, key: str, options: tuple[str, ...], required: bool = False
    ) -> str | None:
        value = self.text(node, key, required)
        if value is not None and value not in options:
            self.fail(node.line_of(key), f"{key} {value!r} is not one of {', '.join(options)}")
            return None
        return value

    def flag(self, node: LineDict, key: str, default: bool) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            self.fail(node.line_of(key), f"{key} must be true or false")
            return default
        return value

    def integer(self, node: LineDict, key: str, default: int, low: int, high: int) -> int:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(node.line_of(key), f"{key} must be a whole number in {low}..{high}")
            return default
        return value

    def duration(self, node: LineDict, key: str) -> timedelta | None:
        if node.get(key) is None:
            return None
        try:
            value = parse_duration(node[key])
        except ValueError as exc:
            self.fail(node.line_of(key), f"{key}: {exc}")
            return None
        if value < timedelta(seconds=1):
            self.fail(node.line_of(key), f"{key} must be at least 1 s")
            return None
        return value

    def check_url(self, node: LineDict, kind: str, url: str) -> None:
        schemes = {"stac": ("http://", "https://"), "opensearch": ("http://", "https://"),
                   "http": ("http://", "https://"), "s3": ("s3://",), "local": ("/", "file://")}  # fmt: skip
        if not url.lower().startswith(schemes[kind]):
            self.fail(
                node.line_of("url"),
                f"url of a {kind} source must start with {' or '.join(schemes[kind])}",
            )
        if "@" in url.split("/")[2 if "://" in url else 0]:
            self.fail(
                node.line_of("url"), "url must not carry a user or password; use 'credential'"
            )
        self.no_secret_query(node, "url", url)

    def no_secret_query(self, node: LineDict, key: str, url: str) -> None:
        """A key in a query (``apikey=``, ``X-Amz-Signature=``) would sit in this file and in
        every request log line; it belongs in a credential sent as a header."""
        for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            if any(word in name.lower() for word in _SECRET_WORDS):
                self.fail(
                    node.line_of(key),
                    f"{key} carries '{name}' in its query: a secret goes in 'credential' "
                    "(auth: bearer or header), never in the file",
                )

    def base_url(self, node: LineDict) -> str | None:
        value = self.text(node, "base_url")
        if value is not None and not value.lower().startswith(("http://", "https://", "s3://")):
            self.fail(node.line_of("base_url"), "base_url must be an http(s) or s3 URL")
            return None
        if value is not None:
            self.no_secret_query(node, "base_url", value)
        return value.rstrip("/") + "/" if value else None

    def area(self, node: LineDict) -> tuple[float, float, float, float] | None:
        value = node.get("area")
        if value is None:
            return None
        ok = isinstance(value, list) and len(value) == 4
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        if ok:
            west, south, east, north = (float(v) for v in value)
            ok = -180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90
            if ok:
                return (west, south, east, north)
        self.fail(node.line_of("area"), "area must be [west, south, east, north] in degrees")
        return None

    def time(self, node: LineDict) -> tuple[datetime | None, datetime | None]:
        value = node.get("time")
        if value is None:
            return None, None
        if not isinstance(value, LineDict):
            self.fail(node.line_of("time"), "time must be a mapping {start: DATE, end: DATE}")
            return None, None
        moments: list[datetime | None] = []
        for key in ("start", "end"):
            moments.append(self.moment(value, key))
        for key in value:
            if key not in ("start", "end"):
                self.fail(value.line_of(key), f"time: unknown key '{key}' (expected start, end)")
        start, end = moments
        if start and end and end < start:
            self.fail(value.line, "time: end is before start")
        return start, end

    def moment(self, node: LineDict, key: str) -> datetime | None:
        raw = node.get(key)
        if raw is None:
            return None
        if isinstance(raw, datetime):
            return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
        if isinstance(raw, date):
            return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
        try:
            moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            self.fail(
                node.line_of(key), f"time {key} {raw!r} is not a date (YYYY-MM-DD[THH:MM:SSZ])"
            )
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def limits(self, node: LineDict) -> Limits:
        value = node.get("limits")
        limits = self.defaults
        if value is None:
            return limits
        if not isinstance(value, LineDict):
            self.fail(node.line_of("limits"), "limits must be a mapping")
            return limits
        for key in value:
            line = value.line_of(key)
            raw = value[key]
            if key not in _LIMIT_KEYS:
                self.fail(
                    line, f"limits: unknown key '{key}' (expected {', '.join(sorted(_LIMIT_KEYS))})"
                )
                continue
            try:
                if key == "response_bytes":
                    number: float = parse_size(raw)
                elif key in ("seconds", "request_seconds", "backoff"):
                    plain = isinstance(raw, int | float) and not isinstance(raw, bool)
                    number = float(raw) if plain else parse_duration(raw).total_seconds()
                elif isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
                    number = raw
                else:
                    raise ValueError(f"{raw!r} is not a whole number")
            except ValueError as exc:
                self.fail(line, f"limits {key}: {exc}")
                continue
            if number <= 0 and key != "retries":
                self.fail(line, f"limits {key} must be above 0")
                continue
            cast: Any = (
                int(number) if key in ("pages", "records", "response_bytes", "retries") else number
            )
            limits = replace(limits, **{key: cast})
        return limits
