"""The embedded catalogue's SQLite schema and the mapping of records and values onto its columns."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from everest_elearn.catalogue.registry import REGISTRY, ParamType, Registry
from everest_elearn.errors import InvalidInput

# No record lies outside these times (days since 1970) in the R*Tree's time axis.
NO_TIME = (-1.0e7, 1.0e7)
WORLD = (-180.0, 180.0, -90.0, 90.0)
# Record fields that feed a registry field when the properties do not carry it.
DERIVED = {"parentIdentifier": "parent_identifier"}
# Registry fields whose values come from a list on the record itself.
MULTI_FROM_RECORD = {"keyword": "keywords"}
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SQL_TYPES = {
    ParamType.KEYWORD: "TEXT",
    ParamType.TEXT: "TEXT",
    ParamType.INT: "INTEGER",
    ParamType.FLOAT: "REAL",
    ParamType.DATETIME: "INTEGER",
    ParamType.BOOL: "INTEGER",
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def column(field: str) -> str:
    if not _FIELD_NAME.match(field):
        raise InvalidInput("field", f"{field!r} is not a valid field name")
    return f"p_{field}"


def property_columns(registry: Registry = REGISTRY) -> dict[str, str]:
    """field -> SQL type of every registry field stored as a column."""
    return {
        p.field: _SQL_TYPES[p.type] for p in registry.fields if p.field and p.type in _SQL_TYPES
    }


def ddl(registry: Registry = REGISTRY) -> list[str]:
    """Statements creating every table and index; all idempotent."""
    return [
        """CREATE TABLE IF NOT EXISTS records (
            rid INTEGER PRIMARY KEY,
            identifier TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            parent TEXT,
            t0 INTEGER,
            t1 INTEGER,
            restricted INTEGER NOT NULL DEFAULT 0,
            geom BLOB)""",
        "CREATE TABLE IF NOT EXISTS docs (rid INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
        """CREATE TABLE IF NOT EXISTS groups (
            rid INTEGER NOT NULL, grp TEXT NOT NULL, PRIMARY KEY (rid, grp)) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS multi (
            field TEXT NOT NULL, value NOT NULL, rid INTEGER NOT NULL,
            PRIMARY KEY (field, value, rid)) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS multi_rid ON multi (rid)",
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # Space (x, y) and time (days since 1970): one R*Tree answers box + time windows together.
        "CREATE VIRTUAL TABLE IF NOT EXISTS space USING rtree(id, x0, x1, y0, y1, t0, t1)",
        """CREATE VIRTUAL TABLE IF NOT EXISTS text USING fts5(
            title, abstract, keywords, identifier, tokenize = 'unicode61 remove_diacritics 2')""",
        "CREATE INDEX IF NOT EXISTS records_kind_parent_t0 ON records (kind, parent, t0)",
        "CREATE INDEX IF NOT EXISTS records_kind_t0 ON records (kind, t0)",
    ]


def property_index_ddl(field: str) -> str:
    # Partial: most EO fields are empty for most records, so the index stays small.
    col = column(field)
    return f"CREATE INDEX IF NOT EXISTS ix_{col} ON records ({col}) WHERE {col} IS NOT NULL"


def micros(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def days(us: int) -> float:
    return us / 86_400_000_000


def parse_datetime(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(where, f"{value!r} is not an RFC 3339 date") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise InvalidInput(where, f"{value!r} is not a date")


def to_sql(kind: ParamType, value: Any, where: str) -> Any:
    """A property or filter value as stored in its column."""
    if value is None:
        return None
    if kind is ParamType.DATETIME:
        return micros(parse_datetime(value, where))
    if kind is ParamType.BOOL:
        if isinstance(value, str):
            return 1 if value.strip().lower() in {"true", "1", "yes"} else 0
        return 1 if value else 0
    if kind in (ParamType.INT, ParamType.FLOAT):
        if isinstance(value, bool):
            raise InvalidInput(where, f"{value!r} is not a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(where, f"{value!r} is not a number") from None
        return int(number) if kind is ParamType.INT and number.is_integer() else number
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)
