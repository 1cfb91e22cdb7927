"""Gateway statistics: hits, misses, bytes, evictions, fallbacks; per process and summed."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Stats:
    """Counters since the process started; the store's usage is added by the service."""

    requests: int = 0
    hits: int = 0
    misses: int = 0  # requests that found nothing stored (joined or started a fetch)
    upstream_fetches: int = 0  # downloads started to fill the store
    joined_fetches: int = 0  # requests served from a download already in flight
    pipes: int = 0
    redirects: int = 0
    fallbacks: int = 0  # object store unreachable: piped or redirected instead
    policy_overrides: int = 0  # a policy's strategy the matched rule does not allow
    bytes_served: int = 0  # bytes handed to clients (all strategies but redirect)
    bytes_fetched: int = 0  # bytes received from providers
    bytes_stored: int = 0  # bytes promoted into the object store
    evictions: int = 0
    bytes_evicted: int = 0
    checksum_failures: int = 0
    upstream_errors: int = 0
    store_errors: int = 0
    since: str = ""

    def __post_init__(self) -> None:
        if not self.since:
            self.since = datetime.now(UTC).isoformat(timespec="seconds")

    def snapshot(self) -> dict[str, int | str]:
        return asdict(self)

    @property
    def hit_ratio(self) -> float:
        looked = self.hits + self.misses
        return self.hits / looked if looked else 0.0


class Ledger:
    """Counters summed over every worker process sharing one data directory (SQLite).

    Each process keeps its own ``Stats`` and adds what changed since its last ``flush``; the
    report reads the sums, so it is the same whichever worker answers.
    """

    def __init__(self, path: Path, stats: Stats) -> None:
        self.path = path
        self.stats = stats
        self._flushed: dict[str, int] = {}
        # The periodic flush and a report's flush run in threads: one at a time, or a delta
        # would be added twice.
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute(
            "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
        )
        db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return db

    def flush(self) -> None:
        """Add this process's counts since the last flush (blocking: call from a thread)."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        now = {k: v for k, v in self.stats.snapshot().items() if isinstance(v, int)}
        deltas = [(k, v - self._flushed.get(k, 0)) for k, v in now.items()]
        deltas = [(k, d) for k, d in deltas if d]
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                deltas,
            )
            db.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('since', ?)", (self.stats.since,)
            )
            db.execute("COMMIT")
        finally:
            db.close()
        self._flushed = now

    def totals(self) -> dict[str, int | str]:
        """The sums over all workers (blocking: call from a thread)."""
        db = self._connect()
        try:
            counts = dict(db.execute("SELECT name, value FROM counters").fetchall())
            since = db.execute("SELECT value FROM meta WHERE name = 'since'").fetchone()
        finally:
            db.close()
        out: dict[str, int | str] = {
            k: int(counts.get(k, 0)) for k, v in self.stats.snapshot().items() if isinstance(v, int)
        }
        out["since"] = since[0] if since else self.stats.since
        return out
