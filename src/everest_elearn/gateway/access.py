"""When each cached object was last read, shared by every worker of one data directory (SQLite).

The record lives beside the gateway (not in the object store), so it serves the local store and
S3 alike, and it outlives restarts: least-recently-used eviction run by any worker ranks an
object by its last read in any worker.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from everest_elearn.storage.migrations import use_wal


class AccessLog:
    """Last-access times (Unix seconds) per object key; a write keeps the later of two times."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False
        # The periodic flush and an eviction may write from two threads at once.
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # A short wait: a hit that cannot record its time says so rather than stalling.
        db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        if not self._ready:
            use_wal(db)  # readers never wait for the writer
            db.execute("CREATE TABLE IF NOT EXISTS access (key TEXT PRIMARY KEY, at REAL NOT NULL)")
            self._ready = True
        db.execute("PRAGMA synchronous=NORMAL")  # losing the last second in a crash is harmless
        return db

    def record(self, times: dict[str, float]) -> None:
        """Note these reads (blocking: call from a thread)."""
        self._write(
            "INSERT INTO access (key, at) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET at = max(at, excluded.at)",
            list(times.items()),
        )

    def forget(self, keys: Iterable[str]) -> None:
        """Drop the records of objects no longer stored (blocking: call from a thread)."""
        self._write("DELETE FROM access WHERE key = ?", [(key,) for key in keys])

    def times(self) -> dict[str, float]:
        """Every key's last read (blocking: call from a thread)."""
        if not self.path.exists():
            return {}
        db = self._connect()
        try:
            return {key: float(at) for key, at in db.execute("SELECT key, at FROM access")}
        finally:
            db.close()

    def _write(self, sql: str, rows: list[tuple[str, float]] | list[tuple[str]]) -> None:
        if not rows:
            return
        with self._lock:
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")  # one transaction for the batch, not one a row
                db.executemany(sql, rows)
                db.execute("COMMIT")
            finally:
                db.close()
