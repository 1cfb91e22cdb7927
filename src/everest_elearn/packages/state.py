"""The package registry (SQLite): specs, builds and their files, with atomic state transitions.

A build moves building -> ready | failed | interrupted, and ready/failed/interrupted -> deleting;
each move is one ``UPDATE ... WHERE state IN (...)`` so two processes never both win.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

from everest_elearn.errors import Conflict
from everest_elearn.packages.connection import RegistryConnection
from everest_elearn.packages.records import (
    VERSIONS,
    Build,
    BuildState,
    FileRow,
    FileState,
    now,
    runner_alive,
    runner_id,
)

# The rows live in records; the modules and tests that import them from here keep doing so.
__all__ = [
    "VERSIONS",
    "Build",
    "BuildState",
    "FileRow",
    "FileState",
    "PackageState",
    "runner_alive",
]


class PackageState(RegistryConnection):
    """All reads and writes of the registry; blocking sqlite calls run in a worker thread."""

    # specs -------------------------------------------------------------------------------

    async def put_spec(self, name: str, version: str, spec: dict[str, Any], by: str | None) -> None:
        await asyncio.to_thread(
            self._change,
            "INSERT INTO specs VALUES (?,?,?,?,?) ON CONFLICT (name, version) DO UPDATE "
            "SET spec = excluded.spec, created_by = excluded.created_by",
            (name, version, json.dumps(spec, sort_keys=True), now(), by),
        )

    async def get_spec(self, name: str, version: str) -> dict[str, Any] | None:
        rows = await asyncio.to_thread(
            self._run, "SELECT spec FROM specs WHERE name=? AND version=?", (name, version)
        )
        return json.loads(rows[0]["spec"]) if rows else None

    async def list_specs(self) -> list[dict[str, Any]]:
        rows = await asyncio.to_thread(self._run, "SELECT spec FROM specs ORDER BY name, version")
        return [json.loads(r["spec"]) for r in rows]

    async def delete_spec(self, name: str, version: str) -> None:
        await asyncio.to_thread(
            self._change, "DELETE FROM specs WHERE name=? AND version=?", (name, version)
        )

    # builds ------------------------------------------------------------------------------

    @staticmethod
    def _build(row: sqlite3.Row) -> Build:
        data = dict(row)
        data["state"] = BuildState(data["state"])
        data["spec"] = json.loads(data["spec"]) if data["spec"] else None
        data["datasets"] = json.loads(data["datasets"])
        data["notes"] = json.loads(data["notes"])
        return Build(**data)

    async def get(self, name: str, version: str) -> Build | None:
        rows = await asyncio.to_thread(
            self._run, "SELECT * FROM builds WHERE name=? AND version=?", (name, version)
        )
        return self._build(rows[0]) if rows else None

    async def builds(self, kind: str | None = None) -> list[Build]:
        sql, args = "SELECT * FROM builds", tuple[str, ...]()
        if kind:
            sql, args = sql + " WHERE kind=?", (kind,)
        rows = await asyncio.to_thread(self._run, sql + " ORDER BY name, started", args)
        return [self._build(r) for r in rows]

    async def current(self, name: str) -> Build | None:
        """The version containers mount: the most recently finished ready one."""
        rows = await asyncio.to_thread(
            self._run,
            "SELECT * FROM builds WHERE name=? AND state='ready' ORDER BY finished DESC LIMIT 1",
            (name,),
        )
        return self._build(rows[0]) if rows else None

    async def begin(self, build: Build) -> Build:
        """Start (or restart) a build: a new row, or failed/interrupted -> building. Atomic."""
        build.runner, build.started, build.updated = runner_id(), now(), now()

        def begin() -> bool:
            with self._lock:
                db = self._open()
                db.execute("BEGIN IMMEDIATE")
                try:
                    row = db.execute(
                        "SELECT state FROM builds WHERE name=? AND version=?",
                        (build.name, build.version),
                    ).fetchone()
                    if row is not None and row["state"] not in ("failed", "interrupted"):
                        db.execute("ROLLBACK")
                        return False
                    db.execute(
                        "INSERT OR REPLACE INTO builds (name, version, kind, state, volume, backend,"
                        " owner, runner, spec, error, started, finished, updated, total_files,"
                        " total_bytes, datasets, notes) VALUES (?,?,?,?,?,?,?,?,?,NULL,?,NULL,?,?,?,"
                        "'[]','[]')",
                        (
                            build.name,
                            build.version,
                            build.kind,
                            BuildState.BUILDING.value,
                            build.volume,
                            build.backend,
                            build.owner,
                            build.runner,
                            json.dumps(build.spec, sort_keys=True) if build.spec else None,
                            build.started,
                            build.updated,
                            build.total_files,
                            build.total_bytes,
                        ),
                    )
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
                return True

        if not await asyncio.to_thread(begin):
            current = await self.get(build.name, build.version)
            state = current.state.value if current else "unknown"
            raise Conflict(f"package {build.name} {build.version} is {state}")
        build.state = BuildState.BUILDING
        return build

    async def transition(
        self,
        name: str,
        version: str,
        sources: tuple[BuildState, ...],
        target: BuildState,
        **values: Any,
    ) -> bool:
        """Move a build from one of ``sources`` to ``target`` in one statement; False if it was not."""
        values = {k: json.dumps(v) if isinstance(v, list) else v for k, v in values.items()}
        if target in (BuildState.READY, BuildState.FAILED):
            values.setdefault("finished", now())
        assignments = ", ".join(f"{key}=?" for key in values)
        sql = (
            f"UPDATE builds SET state=?, updated=?{', ' if values else ''}{assignments} "  # noqa: S608
            f"WHERE name=? AND version=? AND state IN ({','.join('?' * len(sources))})"
        )
        args = (target.value, now(), *values.values(), name, version, *(s.value for s in sources))
        return await asyncio.to_thread(self._change, sql, args) == 1

    async def update(self, name: str, version: str, **values: Any) -> None:
        values = {k: json.dumps(v) if isinstance(v, list) else v for k, v in values.items()}
        assignments = ", ".join(f"{key}=?" for key in values)
        await asyncio.to_thread(
            self._change,
            f"UPDATE builds SET updated=?, {assignments} WHERE name=? AND version=?",  # noqa: S608
            (now(), *values.values(), name, version),
        )

    async def forget(self, name: str, version: str) -> None:
        """Remove a deleted build and its files from the registry."""
        await asyncio.to_thread(
            self._many,
            [
                ("DELETE FROM files WHERE name=? AND version=?", (name, version)),
                ("DELETE FROM builds WHERE name=? AND version=?", (name, version)),
            ],
        )

    async def stale(self) -> list[Build]:
        """Builds marked building whose process is gone (the machine restarted, a crash)."""
        return [
            b
            for b in await self.builds()
            if b.state is BuildState.BUILDING and not runner_alive(b.runner)
        ]

    # files -------------------------------------------------------------------------------

    async def plan_files(self, name: str, version: str, files: list[FileRow]) -> None:
        """Record the planned files; rows already durable with the same size are kept."""
        await asyncio.to_thread(
            self._many,
            [
                (
                    "INSERT INTO files (name, version, path, product, file_name, size, done, state)"
                    " VALUES (?,?,?,?,?,?,0,'pending') ON CONFLICT (name, version, path) DO UPDATE"
                    " SET state = CASE WHEN files.state='durable' AND files.size IS excluded.size"
                    " THEN 'durable' ELSE 'pending' END,"
                    " done = CASE WHEN files.state='durable' AND files.size IS excluded.size"
                    " THEN files.done ELSE 0 END, product=excluded.product,"
                    " file_name=excluded.file_name, size=excluded.size, error=NULL",
                    (name, version, f.path, f.product, f.file_name, f.size),
                )
                for f in files
            ]
            + [
                (
                    "DELETE FROM files WHERE name=? AND version=? AND path NOT IN "  # noqa: S608
                    f"({','.join('?' * len(files))})",
                    (name, version, *(f.path for f in files)),
                )
            ],
        )

    async def files(self, name: str, version: str) -> list[FileRow]:
        rows = await asyncio.to_thread(
            self._run,
            "SELECT * FROM files WHERE name=? AND version=? ORDER BY path",
            (name, version),
        )
        return [
            FileRow(
                path=r["path"],
                product=r["product"],
                file_name=r["file_name"],
                size=r["size"],
                done=r["done"],
                state=FileState(r["state"]),
                sha256=r["sha256"],
                entry=json.loads(r["entry"]) if r["entry"] else None,
                error=r["error"],
            )
            for r in rows
        ]

    async def file_progress(
        self, name: str, version: str, path: str, state: FileState, done: int, **values: Any
    ) -> None:
        values = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()}
        extra = "".join(f", {key}=?" for key in values)
        await asyncio.to_thread(
            self._change,
            f"UPDATE files SET state=?, done=?{extra} WHERE name=? AND version=? AND path=?",  # noqa: S608
            (state.value, done, *values.values(), name, version, path),
        )

    async def mark_durable(self, name: str, version: str, paths: list[str]) -> None:
        await asyncio.to_thread(
            self._many,
            [
                (
                    "UPDATE files SET state='durable' WHERE name=? AND version=? AND path=?"
                    " AND state='written'",
                    (name, version, path),
                )
                for path in paths
            ],
        )
