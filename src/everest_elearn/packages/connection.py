"""The package registry's SQLite connection: opened and migrated on first use, shared by threads."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

from everest_elearn.packages.records import VERSIONS
from everest_elearn.storage.migrations import migrate, use_wal


class RegistryConnection:
    """One connection behind a lock; callers run these blocking calls in a worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.row_factory = sqlite3.Row
            use_wal(db)
            db.execute("PRAGMA busy_timeout=10000")
            migrate(db, VERSIONS, str(self.path))
            self._db = db
        return self._db

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._open().execute(sql, args).fetchall()

    def _change(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self._lock:
            return self._open().execute(sql, args).rowcount

    def _many(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            db = self._open()
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    db.execute(sql, args)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    async def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
