"""Writing and deleting one record in the embedded backend (inside the caller's transaction)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import shapely

from everest_elearn.catalogue.backends import sqlite_schema as schema
from everest_elearn.catalogue.geometry_batch import shapes_of
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.registry import ParamType, Registry
from everest_elearn.catalogue.store import UpsertOutcome

_SIDE_TABLES = (
    "DELETE FROM docs WHERE rid = ?",
    "DELETE FROM groups WHERE rid = ?",
    "DELETE FROM multi WHERE rid = ?",
    "DELETE FROM space WHERE id = ?",
    "DELETE FROM text WHERE rowid = ?",
    "DELETE FROM records WHERE rid = ?",
)


def _insert_sql(columns: dict[str, str]) -> str:
    names = ["rid", "identifier", "kind", "parent", "t0", "t1", "restricted", "geom"]
    names += [schema.column(f) for f in columns]
    return f"INSERT INTO records ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"  # noqa: S608


class ColumnPlan:
    """Where each registry field goes in a records row, computed once per store."""

    def __init__(self, registry: Registry, columns: dict[str, str]) -> None:
        self.fields = list(columns)
        self.position = {f: i for i, f in enumerate(self.fields)}
        self.types = {f: p.type for f in self.fields if (p := registry.by_field(f)) is not None}
        self.insert = _insert_sql(columns)

        self.convert = {f: _converter(t, f) for f, t in self.types.items()}

    def values(self, rec: Record) -> tuple[list[object], list[tuple[str, object]]]:
        """Column values, and (field, value) pairs of list-valued fields for the side table."""
        values: list[object] = [None] * len(self.fields)
        multi: list[tuple[str, object]] = []
        position, convert = self.position, self.convert
        for field, raw in rec.properties.items():
            index = position.get(field)
            if index is None or raw is None:
                continue
            to_column = convert[field]
            if isinstance(raw, (list, tuple)):
                multi.extend((field, to_column(v)) for v in raw if v is not None)
            else:
                values[index] = to_column(raw)
        for field, attribute in schema.DERIVED.items():
            index = position.get(field)
            if index is not None and values[index] is None:
                values[index] = getattr(rec, attribute)
        for field, attribute in schema.MULTI_FROM_RECORD.items():
            if field in position:
                multi.extend((field, v) for v in getattr(rec, attribute))
        return values, multi


def _converter(kind: ParamType, field: str) -> Callable[[Any], Any]:
    """``schema.to_sql`` for one field, with the common value types passed through untouched."""
    where = f"properties.{field}"
    same: tuple[type, ...] = ()
    if kind is ParamType.FLOAT:
        same = (float, int)
    elif kind is ParamType.INT:
        same = (int,)
    elif kind in (ParamType.KEYWORD, ParamType.TEXT):
        same = (str,)

    def convert(value: Any) -> Any:
        if type(value) in same:
            return value
        return schema.to_sql(kind, value, where)

    return convert


def write_batch(
    conn: sqlite3.Connection, records: list[Record], plan: ColumnPlan
) -> list[UpsertOutcome]:
    """Insert or replace records (inside the caller's transaction); replaced ones keep their row id."""
    identifiers = json.dumps([r.identifier for r in records])
    existing: dict[str, int] = dict(
        conn.execute(
            "SELECT identifier, rid FROM records WHERE identifier IN (SELECT value FROM json_each(?))",
            (identifiers,),
        ).fetchall()
    )
    # Before the deletes: a replaced record may hold the largest row id, which it keeps.
    next_rid = int(conn.execute("SELECT coalesce(max(rid), 0) + 1 FROM records").fetchone()[0])
    if existing:
        gone = [(rid,) for rid in existing.values()]
        for statement in _SIDE_TABLES:
            conn.executemany(statement, gone)
    pending: dict[str, tuple[Any, ...]] = {}
    rids: dict[str, int] = {}
    outcomes: list[UpsertOutcome] = []
    durations: dict[str, int] = {}
    multi_fields: set[str] = set()
    shapes = shapes_of([r.geometry for r in records])
    wkbs = shapely.to_wkb(shapes)
    boxes = shapely.bounds(shapes).tolist()
    present: set[str] = set()
    for rec, wkb, box in zip(records, wkbs, boxes, strict=True):
        present.update(rec.properties)
        created = rec.identifier not in existing and rec.identifier not in pending
        rid = existing.get(rec.identifier) or rids.get(rec.identifier)
        if rid is None:
            rid, next_rid = next_rid, next_rid + 1
        rids[rec.identifier] = rid
        footprint = None if wkb is None else (wkb, (box[0], box[2], box[1], box[3]))
        pending[rec.identifier] = _rows(rec, rid, plan, footprint, durations, multi_fields)
        outcomes.append(UpsertOutcome(identifier=rec.identifier, created=created))
    rows = list(pending.values())
    conn.executemany(plan.insert, [r[0] for r in rows])
    conn.executemany("INSERT INTO space VALUES (?, ?, ?, ?, ?, ?, ?)", [r[1] for r in rows])
    conn.executemany(
        "INSERT INTO text (rowid, title, abstract, keywords, identifier) VALUES (?, ?, ?, ?, ?)",
        [r[2] for r in rows],
    )
    conn.executemany("INSERT INTO docs VALUES (?, ?)", [r[3] for r in rows])
    conn.executemany("INSERT OR IGNORE INTO groups VALUES (?, ?)", [g for r in rows for g in r[4]])
    conn.executemany(
        "INSERT OR IGNORE INTO multi VALUES (?, ?, ?)", [m for r in rows for m in r[5]]
    )
    present = (present & set(plan.position)) | multi_fields
    present.update(f for f in schema.DERIVED if f in plan.position)
    remember(conn, "present_fields", present)
    if multi_fields:
        remember(conn, "multi_fields", multi_fields)
    bump_generation(conn)
    for kind, longest in durations.items():
        conn.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
            " SET value = CAST(excluded.value AS INTEGER)"
            " WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)",
            (f"max_duration:{kind}", longest),
        )
    return outcomes


def _rows(
    rec: Record,
    rid: int,
    plan: ColumnPlan,
    footprint: tuple[bytes, tuple[float, float, float, float]] | None,
    durations: dict[str, int],
    multi_fields: set[str],
) -> tuple[Any, ...]:
    values, multi = plan.values(rec)
    first = rec.start or rec.end
    last = rec.end or rec.start
    t0 = schema.micros(first) if first else None
    t1 = schema.micros(last) if last else None
    wkb, box = footprint if footprint is not None else (None, schema.WORLD)
    times = schema.NO_TIME
    if t0 is not None and t1 is not None:
        times = (schema.days(t0), schema.days(t1))
        kind = rec.kind.value
        durations[kind] = max(durations.get(kind, 0), t1 - t0)
    restricted = 1 if rec.restricted_to else 0
    multi_fields.update(f for f, _ in multi)
    return (
        [
            rid,
            rec.identifier,
            rec.kind.value,
            rec.parent_identifier,
            t0,
            t1,
            restricted,
            wkb,
            *values,
        ],
        [rid, *box, *times],
        [rid, rec.title or "", rec.abstract or "", " ".join(rec.keywords), rec.identifier],
        [rid, rec.model_dump_json()],
        [[rid, g] for g in rec.restricted_to],
        [[f, v, rid] for f, v in multi],
    )


def remember(conn: sqlite3.Connection, key: str, fields: set[str]) -> None:
    """Add fields to a set of field names kept in the meta table (it never shrinks)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    known = set(json.loads(row[0])) if row else set()
    if not fields <= known:
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(sorted(known | fields)))
        )


def bump_generation(conn: sqlite3.Connection) -> None:
    """Count writes, so caches of derived answers (facets) know when they are stale."""
    conn.execute(
        "INSERT INTO meta VALUES ('generation', 1) ON CONFLICT(key) DO UPDATE"
        " SET value = CAST(value AS INTEGER) + 1"
    )


def delete_record(conn: sqlite3.Connection, identifier: str) -> bool:
    """Delete a record; a collection takes its products with it."""
    row = conn.execute(
        "SELECT rid, kind FROM records WHERE identifier = ?", (identifier,)
    ).fetchone()
    if row is None:
        return False
    rid, kind = row
    if kind == Kind.COLLECTION.value:
        children = "SELECT rid FROM records WHERE kind = 'product' AND parent = ?"
        for statement in _SIDE_TABLES:
            target = statement.rsplit(" = ?", 1)[0]
            conn.execute(f"{target} IN ({children})", (identifier,))
    for statement in _SIDE_TABLES:
        conn.execute(statement, (rid,))
    bump_generation(conn)
    return True
