"""The embedded catalogue backend: one SQLite file with an R*Tree (space + time) and FTS5 (free text)."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from everest_elearn.catalogue.backends import sqlite_maintain as maintain
from everest_elearn.catalogue.backends import sqlite_schema as schema
from everest_elearn.catalogue.backends.sqlite_facets import FacetCache, facet_key, facets
from everest_elearn.catalogue.backends.sqlite_query import Where, base_where, order_by
from everest_elearn.catalogue.backends.sqlite_spatial import spatial
from everest_elearn.catalogue.backends.sqlite_write import ColumnPlan, delete_record, write_batch
from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.registry import REGISTRY, ParamType, Registry
from everest_elearn.catalogue.store import Capabilities, SearchResult, UpsertOutcome
from everest_elearn.errors import BackendUnavailable
from everest_elearn.storage.migrations import immediate, use_wal

# SQL here is assembled from fixed fragments and registry column names (checked against a strict
# pattern in sqlite_schema.column); every value is a bound parameter, hence the S608 exemptions.
T = TypeVar("T")
SERVICE = "catalogue database (sqlite)"
CACHE_KIB = 65_536  # page cache per connection
BULK_CACHE_KIB = 524_288  # the writer's during a bulk load: index pages stay in memory
log = logging.getLogger(__name__)


class SqliteStore:
    """CatalogueStore on one SQLite file in WAL mode; readers get one connection per thread."""

    capabilities = Capabilities(
        exact_totals=True, scales_out=False, persistent=True, bulk_load=True, field_ranges=True
    )

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
        # Names of the indices a running bulk load dropped; None outside a bulk load.
        self._bulk: list[str] | None = None
        self._bulk_users = 0
        self._facets = FacetCache()

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
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
            use_wal(conn)
            wanted = maintain.fingerprint(self._columns)
            refreshed = 0
            # One transaction: a process opening the file at the same time waits, then finds
            # the schema and the derived columns done.
            with immediate(conn):
                maintain.ensure_schema(conn, self._columns)
                if maintain.stored_fingerprint(conn) != wanted:
                    # A registry change (or a file from before fingerprints): refill them.
                    refreshed = maintain.refresh_derived(conn, self._plan, wanted)
            if refreshed:
                log.info("catalogue: refreshed derived columns of %d records", refreshed)
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
            if self._bulk is not None and not self._bulk:
                # First batch of a bulk load: its fields' indices are rebuilt once at the end.
                fields = {f for r in records for f in r.properties if f in self._columns}
                fields.update(f for f in schema.DERIVED if f in self._columns)
                self._bulk.extend(maintain.drop_for_bulk(conn, fields))
            conn.execute("BEGIN IMMEDIATE")
            try:
                outcomes = write_batch(conn, records, self._plan)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            if len(records) >= 10_000 and self._bulk is None:
                self._analyze(conn)
        return outcomes

    @staticmethod
    def _analyze(conn: sqlite3.Connection) -> None:
        # Fresh statistics after bulk loads keep the planner choosing the selective index.
        conn.execute("PRAGMA analysis_limit = 1000")
        conn.execute("ANALYZE")

    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[None]:
        """Load many batches faster: secondary indices are rebuilt once at the end.

        Searches stay correct meanwhile, only slower. An interrupted load leaves no harm: the
        next ``open`` recreates whatever index is missing.
        """
        with self._write_lock:
            # Overlapping bulk loads share one: the last to finish rebuilds the indices.
            self._bulk_users += 1
            if self._bulk is None:
                self._bulk = []
                self._writer_conn().execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            yield
        finally:
            await self._run(self._end_bulk)

    def _end_bulk(self) -> None:
        with self._write_lock:
            self._bulk_users -= 1
            if self._bulk_users > 0:
                return
            conn = self._writer_conn()
            self._bulk = None
            maintain.ensure_schema(conn, self._columns)
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._analyze(conn)

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

    def _meta(self, conn: sqlite3.Connection, kind: str) -> dict[str, str]:
        keys = ("multi_fields", "present_fields", "generation", f"max_duration:{kind}")
        return dict(
            conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?, ?, ?)", keys).fetchall()
        )

    def _search(self, query: Query) -> SearchResult:
        conn = self._reader()
        meta = self._meta(conn, query.kind.value)
        multi = set(json.loads(meta.get("multi_fields", "[]")))
        duration = meta.get(f"max_duration:{query.kind.value}")
        max_duration = int(duration) if duration is not None else None
        present = set(json.loads(meta.get("present_fields", "[]")))
        absent = [f for f in query.filters if f in self._columns and f not in present]
        if absent:
            # No stored record has ever had a value for this field: nothing can match, and
            # saying so costs no scan (description documents ask this for every parameter).
            empty: dict[str, dict[str, int]] = {name: {} for name in query.facets}
            return SearchResult(records=[], total=0, total_exact=True, facets=empty)
        # A filtered column is never NULL in the result (multi-valued fields match elsewhere too).
        not_null = frozenset(name for name in query.filters if name not in multi)
        by_field = bool(query.sort) and query.sort[0].field in not_null and query.limit > 0
        where = base_where(
            query, multi, max_duration, self.registry, order_from_field_index=by_field
        )
        known_total: int | None = None
        if query.geometry is not None:
            clause, params, known_total = spatial(conn, query, where)
            if known_total is not None:
                # The matching row ids are known exactly (every other constraint was applied
                # with the R*Tree): page and facets start from them, not from another index.
                where = Where()
            where.add(clause, *params)
        generation = int(meta.get("generation", 0))
        if known_total is not None:
            total, exact = known_total, True
        else:
            total, exact = self._cached_count(conn, where, query, generation)
        records: list[Record] = []
        # A bounded count may stop short of the page: then the page is fetched all the same.
        if query.limit > 0 and (total > query.offset or not exact):
            rows = conn.execute(
                f"SELECT d.doc FROM records r JOIN docs d ON d.rid = r.rid WHERE {where.sql}"  # noqa: S608
                f" ORDER BY {order_by(query.sort, self.registry, not_null)} LIMIT ? OFFSET ?",
                [*where.params, query.limit, query.offset],
            ).fetchall()
            records = [Record.model_validate_json(row[0]) for row in rows]
            if records and not exact:
                total = max(total, query.offset + len(records))
        found: dict[str, dict[str, int]] = {}
        if query.facets:
            key = FacetCache.key(query, generation)
            cached = self._facets.get(key) if key is not None else None
            if cached is None:
                cached = facets(
                    conn, where, query.facets, self.registry, self._columns, present, multi
                )
                if key is not None:
                    self._facets.put(key, cached)
            found = {name: dict(counts) for name, counts in cached.items()}
        return SearchResult(records=records, total=total, total_exact=exact, facets=found)

    async def field_range(self, query: Query, field: str) -> tuple[Any, Any]:
        """Smallest and largest value of ``field`` over the query's records (None, None if none).

        One pass computes the range of every numeric and date field of the query's records;
        a whole level's ranges (the description documents') are cached until the next write.
        """
        return await self._run(self._field_range, query, field)

    def _field_range(self, query: Query, field: str) -> tuple[Any, Any]:
        conn = self._reader()
        meta = self._meta(conn, query.kind.value)
        present = set(json.loads(meta.get("present_fields", "[]")))
        if field not in self._columns or field not in present:
            return None, None
        key = FacetCache.key(replace(query, facets=("ranges",)), int(meta.get("generation", 0)))
        ranges = self._facets.get(key) if key is not None else None
        if ranges is None:
            multi = set(json.loads(meta.get("multi_fields", "[]")))
            ranges = self._ranges(conn, query, present, multi)
            if key is not None:
                self._facets.put(key, ranges)
        low, high = ranges.get(field, {}).get("low"), ranges.get(field, {}).get("high")
        return low, high

    def _ranges(
        self, conn: sqlite3.Connection, query: Query, present: set[str], multi: set[str]
    ) -> dict[str, dict[str, Any]]:
        kinds = {ParamType.INT, ParamType.FLOAT, ParamType.DATETIME}
        fields = [
            f
            for f in sorted(present)
            if f in self._columns and (p := self.registry.by_field(f)) and p.type in kinds
        ]
        if not fields:
            return {}
        where = base_where(query, multi, None, self.registry)
        cols = [schema.column(f) for f in fields]
        ends = ", ".join(f"min(r.{c}), max(r.{c})" for c in cols)
        row = conn.execute(f"SELECT {ends} FROM records r WHERE {where.sql}", where.params)  # noqa: S608
        values = list(row.fetchone())
        out: dict[str, dict[str, Any]] = {}
        for n, field in enumerate(fields):
            low, high = values[2 * n], values[2 * n + 1]
            if field in multi:
                extra = conn.execute(
                    "SELECT min(m.value), max(m.value) FROM multi m JOIN records r"  # noqa: S608
                    f" ON r.rid = m.rid WHERE m.field = ? AND {where.sql}",
                    [field, *where.params],
                ).fetchone()
                low, high = _pick(min, low, extra[0]), _pick(max, high, extra[1])
            param = self.registry.by_field(field)
            assert param is not None
            out[field] = {
                "low": None if low is None else _range_value(param.type, low),
                "high": None if high is None else _range_value(param.type, high),
            }
        return out

    def _cached_count(
        self, conn: sqlite3.Connection, where: Where, query: Query, generation: int
    ) -> tuple[int, bool]:
        """The count, remembered until the next write for a whole level (a collection's size)."""
        key = FacetCache.key(replace(query, facets=(f"count:{query.count_limit}",)), generation)
        cached = self._facets.get(key) if key is not None else None
        if cached is not None:
            return int(cached["count"]["total"]), bool(cached["count"]["exact"])
        total, exact = self._count(conn, where, query)
        if key is not None:
            self._facets.put(key, {"count": {"total": total, "exact": exact}})
        return total, exact

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


def _pick(choose: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else choose(a, b)


def _range_value(kind: ParamType, value: Any) -> Any:
    """A stored column value as the record carries it (dates back to RFC 3339 text)."""
    if kind is ParamType.DATETIME and isinstance(value, int):
        return facet_key(kind, value)
    return value
