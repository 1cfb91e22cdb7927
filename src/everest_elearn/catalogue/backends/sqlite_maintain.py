"""Schema upkeep of the embedded backend: creation, registry changes, and bulk-load index deferral.

The columns and indices derived from records follow the parameter registry. The registry's
fingerprint is stored in the file; when a release changes the registry (a field added, a type
changed), opening the file refills the derived columns and side tables from the stored documents,
so old records are found by the new fields.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from everest_elearn.catalogue.backends import sqlite_schema as schema
from everest_elearn.catalogue.backends.sqlite_write import ColumnPlan
from everest_elearn.catalogue.model import Record
from everest_elearn.storage.migrations import immediate

# Bump when the derivation of columns from records changes without a registry change.
DERIVATION_VERSION = 1
# Secondary indices of the records table that bulk loads rebuild once at the end.
BULK_DEFERRED = ("records_kind_parent_t0", "records_kind_t0")
_REBUILD_CHUNK = 5_000


def fingerprint(columns: dict[str, str]) -> str:
    """What the derived columns depend on: the registry's stored fields and the derivation."""
    basis = {
        "version": DERIVATION_VERSION,
        "columns": columns,
        "derived": schema.DERIVED,
        "multi": schema.MULTI_FROM_RECORD,
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:16]


def ensure_schema(conn: sqlite3.Connection, columns: dict[str, str]) -> None:
    """Create what is missing (tables, a column per registry field, indices). Idempotent.

    One write transaction from the look to the last change: processes opening one fresh file
    at once would otherwise both see a column missing and both add it (duplicate column name).
    """
    with immediate(conn):
        for statement in schema.ddl():
            conn.execute(statement)
        existing = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
        for field, sql_type in columns.items():
            col = schema.column(field)
            if col not in existing:
                conn.execute(f"ALTER TABLE records ADD COLUMN {col} {sql_type}")
            conn.execute(schema.property_index_ddl(field))


def stored_fingerprint(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'registry'").fetchone()
    return str(row[0]) if row else None


def refresh_derived(conn: sqlite3.Connection, plan: ColumnPlan, wanted: str) -> int:
    """Refill every derived column and the multi-value table from the stored documents.

    Runs inside the caller's transaction; returns how many records were refreshed.
    """
    names = [schema.column(f) for f in plan.fields]
    update = f"UPDATE records SET {', '.join(f'{n} = ?' for n in names)} WHERE rid = ?"  # noqa: S608
    conn.execute("DELETE FROM multi")
    multi_fields: set[str] = set()
    present: set[str] = set()
    done = 0
    last = 0
    while True:
        rows = conn.execute(
            "SELECT rid, doc FROM docs WHERE rid > ? ORDER BY rid LIMIT ?", (last, _REBUILD_CHUNK)
        ).fetchall()
        if not rows:
            break
        updates: list[list[object]] = []
        multis: list[list[object]] = []
        for rid, doc in rows:
            values, multi = plan.values(Record.model_validate_json(doc))
            updates.append([*values, rid])
            multis.extend([f, v, rid] for f, v in multi)
            multi_fields.update(f for f, _ in multi)
            present.update(f for f, v in zip(plan.fields, values, strict=True) if v is not None)
        conn.executemany(update, updates)
        conn.executemany("INSERT OR IGNORE INTO multi VALUES (?, ?, ?)", multis)
        done += len(rows)
        last = rows[-1][0]
    conn.execute(
        "INSERT OR REPLACE INTO meta VALUES ('multi_fields', ?)",
        (json.dumps(sorted(multi_fields)),),
    )
    conn.execute(
        "INSERT OR REPLACE INTO meta VALUES ('present_fields', ?)",
        (json.dumps(sorted(present | multi_fields)),),
    )
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('registry', ?)", (wanted,))
    return done


def drop_for_bulk(conn: sqlite3.Connection, fields: set[str]) -> list[str]:
    """Drop the secondary indices a bulk load would otherwise update row by row."""
    dropped = []
    for field in sorted(fields):
        dropped.append(f"ix_{schema.column(field)}")
    dropped.extend(BULK_DEFERRED)
    for name in dropped:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    return dropped
