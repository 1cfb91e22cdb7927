"""The embedded catalogue backend: one SQLite file with an R*Tree (space + time) and FTS5 (free text)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import shapely

from everest_elearn.catalogue import geometry as geo
from everest_elearn.catalogue.backends import sqlite_schema as schema
from everest_elearn.catalogue.backends.sqlite_query import Where, base_where, order_by
from everest_elearn.catalogue.backends.sqlite_write import ColumnPlan, delete_record, write_batch
from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.query import Query, SpatialRelation
from everest_elearn.catalogue.registry import REGISTRY, ParamType, Registry
from everest_elearn.catalogue.store import Capabilities, SearchResult, UpsertOutcome
from everest_elearn.errors import BackendUnavailable

# SQL here is assembled from fixed fragments and registry column names (checked against a strict
# pattern in sqlite_schema.column); every value is a bound parameter, hence the S608 exemptions.
T = TypeVar("T")
SERVICE = "catalogue database (sqlite)"


class SqliteStore:
    """CatalogueStore on one SQLite file in WAL mode; readers get one connection per thread."""

    capabilities = Capabilities(exact_totals=True, scales_out=False, persistent=True)

    def __init__(self, path: Path | str, registry: Registry = REGISTRY) -> None:
        self.path = Path(path)
        self.registry = registry
        self._columns = schema.property_columns(registry)
        self._plan = ColumnPlan(registry, self._columns)
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache per connection
        conn.execute("PRAGMA mmap_size = 1073741824")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = 1")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "unable to open" in str(exc) or "disk" in str(exc):
                raise BackendUnavailable(SERVICE, retry_after=5) from exc
            raise

    def _writer_conn(self) -> sqlite3.Connection:
        if self._writer is None:
            raise BackendUnavailable(SERVICE, retry_after=5)
        return self._writer

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect()
            conn.execute("PRAGMA journal_mode = WAL")
            for statement in schema.ddl(self.registry):
                conn.execute(statement)
            existing = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
            for field, sql_type in self._columns.items():
                col = schema.column(field)
                if col not in existing:
                    conn.execute(f"ALTER TABLE records ADD COLUMN {col} {sql_type}")
                conn.execute(schema.property_index_ddl(field))
            self._writer = conn

    async def close(self) -> None:
        await self._run(self._close)

    def _close(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.execute("PRAGMA optimize")
                self._writer.close()
                self._writer = None
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._local = threading.local()

    async def ping(self) -> bool:
        try:
            return await self._run(lambda: self._reader().execute("SELECT 1").fetchone() == (1,))
        except (sqlite3.Error, BackendUnavailable):
            return False

    # -- writes --------------------------------------------------------------------------------

    async def upsert(self, records: Sequence[Record]) -> list[UpsertOutcome]:
        return await self._run(self._upsert, list(records))

    def _upsert(self, records: list[Record]) -> list[UpsertOutcome]:
        with self._write_lock:
            conn = self._writer_conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                outcomes = write_batch(conn, records, self._plan)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if len(records) >= 10_000:
            # Fresh statistics after bulk loads keep the planner choosing the selective index.
            with self._write_lock:
                self._writer_conn().execute("PRAGMA analysis_limit = 1000")
                self._writer_conn().execute("ANALYZE")
        return outcomes

    async def delete(self, identifier: str) -> bool:
        return await self._run(self._delete, identifier)

    def _delete(self, identifier: str) -> bool:
        with self._write_lock:
            conn = self._writer_conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                found = delete_record(conn, identifier)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return found

    # -- reads ---------------------------------------------------------------------------------

    async def get(self, identifier: str) -> Record | None:
        return await self._run(self._get, identifier)

    def _get(self, identifier: str) -> Record | None:
        row = (
            self._reader()
            .execute(
                "SELECT d.doc FROM records r JOIN docs d ON d.rid = r.rid WHERE r.identifier = ?",
                (identifier,),
            )
            .fetchone()
        )
        return Record.model_validate_json(row[0]) if row else None

    async def count(self) -> int:
        return await self._run(
            lambda: int(self._reader().execute("SELECT count(*) FROM records").fetchone()[0])
        )

    async def search(self, query: Query) -> SearchResult:
        return await self._run(self._search, query)

    def _meta(self, conn: sqlite3.Connection, kind: str) -> tuple[set[str], int | None]:
        rows = dict(
            conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('multi_fields', ?)",
                (f"max_duration:{kind}",),
            ).fetchall()
        )
        multi = set(json.loads(rows.get("multi_fields", "[]")))
        duration = rows.get(f"max_duration:{kind}")
        return multi, int(duration) if duration is not None else None

    def _search(self, query: Query) -> SearchResult:
        conn = self._reader()
        multi, max_duration = self._meta(conn, query.kind.value)
        where = base_where(query, multi, max_duration, self.registry)
        known_total: int | None = None
        if query.geometry is not None:
            clause, params, known_total = self._spatial(conn, query, where)
            where.add(clause, *params)
        total, exact = (
            (known_total, True) if known_total is not None else self._count(conn, where, query)
        )
        records: list[Record] = []
        if query.limit > 0 and total > query.offset:
            rows = conn.execute(
                f"SELECT d.doc FROM records r JOIN docs d ON d.rid = r.rid WHERE {where.sql}"  # noqa: S608
                f" ORDER BY {order_by(query.sort, self.registry)} LIMIT ? OFFSET ?",
                [*where.params, query.limit, query.offset],
            ).fetchall()
            records = [Record.model_validate_json(row[0]) for row in rows]
        facets = {name: self._facet(conn, where, name, multi) for name in query.facets}
        return SearchResult(records=records, total=total, total_exact=exact, facets=facets)

    def _count(self, conn: sqlite3.Connection, where: Where, query: Query) -> tuple[int, bool]:
        if query.count_limit is None:
            row = conn.execute(f"SELECT count(*) FROM records r WHERE {where.sql}", where.params)  # noqa: S608
            return int(row.fetchone()[0]), True
        row = conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM records r WHERE {where.sql} LIMIT ?)",  # noqa: S608
            [*where.params, query.count_limit + 1],
        )
        counted = int(row.fetchone()[0])
        if counted > query.count_limit:
            return query.count_limit, False
        return counted, True

    def _facet(
        self, conn: sqlite3.Connection, where: Where, name: str, multi: set[str]
    ) -> dict[str, int]:
        param = self.registry.by_field(name)
        if param is None or name not in self._columns:
            return {}
        col = "r." + schema.column(name)
        counts: dict[str, int] = {}
        sql = f"SELECT {col}, count(*) FROM records r WHERE {where.sql} AND {col} IS NOT NULL GROUP BY 1"  # noqa: S608
        rows = conn.execute(sql, where.params).fetchall()
        if name in multi:
            rows += conn.execute(
                f"SELECT m.value, count(*) FROM multi m JOIN records r ON r.rid = m.rid"  # noqa: S608
                f" WHERE m.field = ? AND {where.sql} GROUP BY 1",
                [name, *where.params],
            ).fetchall()
        for value, n in rows:
            key = _facet_key(param.type, value)
            counts[key] = counts.get(key, 0) + int(n)
        return counts

    def _spatial(
        self, conn: sqlite3.Connection, query: Query, base: Where
    ) -> tuple[str, list[Any], int | None]:
        """R*Tree prefilter, then an exact shapely test of the records on the window's border."""
        assert query.geometry is not None
        target = geo.to_shape(query.geometry, "geometry")
        relation = query.spatial_relation
        parts = list(target.geoms) if isinstance(target, shapely.MultiPolygon) else [target]
        if relation is SpatialRelation.CONTAINS:
            parts = parts[:1]  # a record containing the whole contains the first part
        window = _time_window(query)
        sure: set[int] = set()
        unsure: dict[int, bytes] = {}
        for part in parts:
            x0, y0, x1, y1 = part.bounds
            if relation is SpatialRelation.CONTAINS:
                box_sql, params = (
                    "s.x0 <= ? AND s.x1 >= ? AND s.y0 <= ? AND s.y1 >= ?",
                    [x0, x1, y0, y1],
                )
            else:
                box_sql, params = (
                    "s.x0 <= ? AND s.x1 >= ? AND s.y0 <= ? AND s.y1 >= ?",
                    [x1, x0, y1, y0],
                )
            inside, inside_params = "0", []
            if relation is not SpatialRelation.CONTAINS and geo.is_rectangle(part):
                inside = "s.x0 >= ? AND s.x1 <= ? AND s.y0 >= ? AND s.y1 <= ?"
                inside_params = [x0, x1, y0, y1]
            if window is not None:
                box_sql += " AND s.t0 <= ? AND s.t1 >= ?"
                params += [window[1], window[0]]
            rows = conn.execute(
                f"SELECT r.rid, {inside}, r.geom FROM space AS s CROSS JOIN records AS r"  # noqa: S608
                f" WHERE r.rid = s.id AND {box_sql} AND r.geom IS NOT NULL AND {base.sql}",
                [*inside_params, *params, *base.params],
            )
            for rid, is_inside, wkb in rows:
                if is_inside:
                    sure.add(rid)
                elif rid not in sure:
                    unsure[rid] = wkb
        for rid in sure:
            unsure.pop(rid, None)
        if unsure:
            rids = np.fromiter(unsure.keys(), dtype=np.int64, count=len(unsure))
            shapes = shapely.from_wkb(list(unsure.values()))
            if relation is SpatialRelation.CONTAINS:
                hits = shapely.contains(shapes, target)
            else:
                shapely.prepare(target)
                hits = shapely.intersects(target, shapes)
            sure.update(int(r) for r in rids[hits])
        ids = json.dumps(sorted(sure))
        if relation is SpatialRelation.DISJOINT:
            return (
                "r.geom IS NOT NULL AND r.rid NOT IN (SELECT value FROM json_each(?))",
                [ids],
                None,
            )
        return "r.rid IN (SELECT value FROM json_each(?))", [ids], len(sure)


def _time_window(query: Query) -> tuple[float, float] | None:
    from everest_elearn.catalogue.backends.sqlite_query import time_window_days

    return time_window_days(query)


def _facet_key(kind: ParamType, value: Any) -> str:
    if kind is ParamType.DATETIME and isinstance(value, int):
        from datetime import timedelta

        return (schema.EPOCH + timedelta(microseconds=value)).isoformat().replace("+00:00", "Z")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
