"""Checkpoints, status and last error per source in SQLite: every change one atomic transaction.

A run's progress is two values: ``since`` (the high-water mark of the last *completed* run) and
``resume`` (where the current, unfinished run goes on, with the largest mark it has seen so far).
The agent saves ``resume`` only after a page's records are stored, and moves ``since`` forward
only when a run completes; a killed process therefore restarts at the first unsaved page.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from everest_elearn.storage.migrations import migrate, schema, use_wal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS source_state (
    name TEXT PRIMARY KEY,
    since TEXT,
    resume TEXT,
    run_mark TEXT,
    state TEXT NOT NULL DEFAULT 'idle',
    last_started TEXT,
    last_finished TEXT,
    last_success TEXT,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_due TEXT,
    totals TEXT NOT NULL DEFAULT '{}',
    last_run TEXT NOT NULL DEFAULT '{}',
    owner TEXT,
    lease_until TEXT
);
"""
# Append steps, never edit a released one (storage/migrations.py).
VERSIONS = schema("harvest checkpoints", _SCHEMA)


def _text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _time(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


@dataclass
class SourceState:
    name: str
    since: datetime | None = None
    resume: dict[str, Any] | None = None
    run_mark: datetime | None = None
    state: str = "idle"  # idle | running | ok | limited | failed | interrupted
    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    next_due: datetime | None = None
    totals: dict[str, int] | None = None
    last_run: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "since": _text(self.since),
            "resuming": self.resume is not None,
            "last_started": _text(self.last_started),
            "last_finished": _text(self.last_finished),
            "last_success": _text(self.last_success),
            "last_error": self.last_error,
            "failures": self.failures,
            "next_due": _text(self.next_due),
            "totals": self.totals or {},
            "last_run": self.last_run or {},
        }


class Checkpoints:
    """The agent's durable state; safe to share between processes (SQLite locking, WAL)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        use_wal(conn)
        conn.execute("PRAGMA synchronous=FULL")  # a saved checkpoint survives a power cut
        try:
            migrate(conn, VERSIONS, str(self.path))
        except BaseException:
            conn.close()
            raise
        return conn

    async def get(self, name: str) -> SourceState:
        return await asyncio.to_thread(self._get, name)

    def _get(self, name: str) -> SourceState:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT * FROM source_state WHERE name = ?", (name,)).fetchone()
            columns = [c[0] for c in conn.execute("SELECT * FROM source_state LIMIT 0").description]
        if row is None:
            return SourceState(name)
        data = dict(zip(columns, row, strict=True))
        return SourceState(
            name=name,
            since=_time(data["since"]),
            resume=json.loads(data["resume"]) if data["resume"] else None,
            run_mark=_time(data["run_mark"]),
            state=data["state"],
            last_started=_time(data["last_started"]),
            last_finished=_time(data["last_finished"]),
            last_success=_time(data["last_success"]),
            last_error=data["last_error"],
            failures=data["failures"],
            next_due=_time(data["next_due"]),
            totals=json.loads(data["totals"]),
            last_run=json.loads(data["last_run"]),
        )

    async def all(self) -> list[SourceState]:
        names = await asyncio.to_thread(self._names)
        return [await self.get(name) for name in names]

    def _names(self) -> list[str]:
        with closing(self._connect()) as conn:
            return [r[0] for r in conn.execute("SELECT name FROM source_state ORDER BY name")]

    async def update(self, name: str, **values: Any) -> None:
        """Set columns of one source in one transaction (``None`` clears a column)."""
        await asyncio.to_thread(self._update, name, values)

    def _update(self, name: str, values: dict[str, Any]) -> None:
        encoded: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, datetime):
                value = _text(value)
            elif isinstance(value, dict):
                value = json.dumps(value, sort_keys=True)
            encoded[key] = value
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR IGNORE INTO source_state (name) VALUES (?)", (name,))
            if encoded:
                assignments = ", ".join(f"{key} = ?" for key in encoded)
                conn.execute(
                    f"UPDATE source_state SET {assignments} WHERE name = ?",  # noqa: S608 - keys are ours
                    (*encoded.values(), name),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    async def claim(self, name: str, owner: str, until: datetime) -> bool:
        """Take the run lease of a source unless another live run holds it."""
        return await asyncio.to_thread(self._claim, name, owner, until)

    def _claim(self, name: str, owner: str, until: datetime) -> bool:
        now = datetime.now(UTC).isoformat()
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR IGNORE INTO source_state (name) VALUES (?)", (name,))
            row = conn.execute(
                "SELECT owner, lease_until FROM source_state WHERE name = ?", (name,)
            ).fetchone()
            held = row[0] and row[0] != owner and row[1] and row[1] > now and _alive(row[0])
            if not held:
                conn.execute(
                    "UPDATE source_state SET owner = ?, lease_until = ? WHERE name = ?",
                    (owner, until.astimezone(UTC).isoformat(), name),
                )
            conn.execute("COMMIT")
            return not held
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    async def release(self, name: str, owner: str) -> None:
        def run() -> None:
            with closing(self._connect()) as conn:
                conn.execute(
                    "UPDATE source_state SET owner = NULL, lease_until = NULL "
                    "WHERE name = ? AND owner = ?",
                    (name, owner),
                )

        await asyncio.to_thread(run)


def owner_id() -> str:
    """This process, as a lease owner: ``host:pid``."""
    return f"{os.uname().nodename}:{os.getpid()}"


def _alive(owner: str) -> bool:
    """A lease held by a dead process on this host is free (the run was killed)."""
    host, _, pid = owner.rpartition(":")
    if host != os.uname().nodename or not pid.isdigit():
        return True  # another host: trust its lease until it expires
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
