"""The embedded catalogue backend: one SQLite file with an R*Tree (space + time) and FTS5 (free text)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from everest_elearn.catalogue.backends import sqlite_maintain as maintain
from everest_elearn.catalogue.backends import sqlite_schema as schema
from everest_elearn.catalogue.backends.sqlite_read import Searcher
from everest_elearn.catalogue.backends.sqlite_write import ColumnPlan, delete_record, write_batch
from everest_elearn.catalogue.model import Record
from everest_elearn.catalogue.query import Query
from everest_elearn.catalogue.registry import REGISTRY, Registry
from everest_elearn.catalogue.store import Capabilities, SearchResult, UpsertOutcome
from everest_elearn.errors import BackendUnavailable
from everest_elearn.storage.migrations import immediate, use_wal

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
        self._searcher = Searcher(registry, self._columns)

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
        return await self._run(lambda: self._searcher.search(self._reader(), query))

    async def field_range(self, query: Query, field: str) -> tuple[Any, Any]:
        """Smallest and largest value of ``field`` over the query's records (None, None if none).

        One pass computes the range of every numeric and date field of the query's records;
        a whole level's ranges (the description documents') are cached until the next write.
        """
        return await self._run(lambda: self._searcher.field_range(self._reader(), query, field))
