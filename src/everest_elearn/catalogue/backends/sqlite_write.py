"""Writing and deleting one record in the embedded backend (inside the caller's transaction)."""

from __future__ import annotations

import json
import sqlite3

import shapely

from everest_elearn.catalogue import geometry as geo
from everest_elearn.catalogue.backends import sqlite_schema as schema
from everest_elearn.catalogue.model import Kind, Record
from everest_elearn.catalogue.registry import Registry
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


_INSERT_CACHE: dict[tuple[str, ...], str] = {}


def write_record(
    conn: sqlite3.Connection, rec: Record, registry: Registry, columns: dict[str, str]
) -> UpsertOutcome:
    """Insert or replace one record and its index entries; keeps its row id when replacing."""
    row = conn.execute("SELECT rid FROM records WHERE identifier = ?", (rec.identifier,)).fetchone()
    rid: int | None = row[0] if row else None
    if rid is not None:
        for statement in _SIDE_TABLES:
            conn.execute(statement, (rid,))
    values: list[object] = []
    multi: list[tuple[str, object]] = []
    for field in columns:
        param = registry.by_field(field)
        assert param is not None
        raw = rec.properties.get(field)
        if raw is None and field in schema.DERIVED:
            raw = getattr(rec, schema.DERIVED[field])
        if field in schema.MULTI_FROM_RECORD:
            raw = list(getattr(rec, schema.MULTI_FROM_RECORD[field])) or raw
        if isinstance(raw, (list, tuple)):
            where = f"properties.{field}"
            multi.extend((field, schema.to_sql(param.type, v, where)) for v in raw if v is not None)
            values.append(None)
        else:
            values.append(schema.to_sql(param.type, raw, f"properties.{field}"))
    first = rec.start or rec.end
    last = rec.end or rec.start
    t0 = schema.micros(first) if first else None
    t1 = schema.micros(last) if last else None
    wkb: bytes | None = None
    box = schema.WORLD
    if rec.geometry is not None:
        shape = geo.to_shape(rec.geometry)
        wkb = shapely.to_wkb(shape)
        x0, y0, x1, y1 = shape.bounds
        box = (x0, x1, y0, y1)
    key = tuple(columns)
    sql = _INSERT_CACHE.get(key) or _INSERT_CACHE.setdefault(key, _insert_sql(columns))
    cur = conn.execute(
        sql,
        [
            rid,
            rec.identifier,
            rec.kind.value,
            rec.parent_identifier,
            t0,
            t1,
            1 if rec.restricted_to else 0,
            wkb,
            *values,
        ],
    )
    new_rid = rid if rid is not None else cur.lastrowid
    times = (
        (schema.days(t0), schema.days(t1)) if t0 is not None and t1 is not None else schema.NO_TIME
    )
    conn.execute("INSERT INTO space VALUES (?, ?, ?, ?, ?, ?, ?)", (new_rid, *box, *times))
    conn.execute(
        "INSERT INTO text (rowid, title, abstract, keywords, identifier) VALUES (?, ?, ?, ?, ?)",
        (new_rid, rec.title or "", rec.abstract or "", " ".join(rec.keywords), rec.identifier),
    )
    conn.execute("INSERT INTO docs VALUES (?, ?)", (new_rid, rec.model_dump_json()))
    if rec.restricted_to:
        conn.executemany(
            "INSERT OR IGNORE INTO groups VALUES (?, ?)", [(new_rid, g) for g in rec.restricted_to]
        )
    if multi:
        conn.executemany(
            "INSERT OR IGNORE INTO multi VALUES (?, ?, ?)", [(f, v, new_rid) for f, v in multi]
        )
        _remember_multi(conn, {f for f, _ in multi})
    if t0 is not None and t1 is not None:
        conn.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
            " SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))"
            " WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)",
            (f"max_duration:{rec.kind.value}", t1 - t0),
        )
    return UpsertOutcome(identifier=rec.identifier, created=rid is None)


def _remember_multi(conn: sqlite3.Connection, fields: set[str]) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'multi_fields'").fetchone()
    known = set(json.loads(row[0])) if row else set()
    if not fields <= known:
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('multi_fields', ?)",
            (json.dumps(sorted(known | fields)),),
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
    return True
