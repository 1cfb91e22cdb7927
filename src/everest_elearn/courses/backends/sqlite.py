"""The embedded courses store: one SQLite file, every call in a worker thread."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from everest_elearn.courses.model import (
    Course,
    CourseRole,
    Enrolment,
    Feedback,
    ModulePin,
    PackageRef,
)
from everest_elearn.storage.migrations import migrate, schema, use_wal

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS courses (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS enrolments (
  course_id TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL,
  PRIMARY KEY (course_id, username));
CREATE INDEX IF NOT EXISTS enrolments_user ON enrolments (username);
CREATE TABLE IF NOT EXISTS feedback (
  course_id TEXT NOT NULL, module TEXT NOT NULL, username TEXT NOT NULL, rating INTEGER NOT NULL,
  comment TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (course_id, module, username));
CREATE TABLE IF NOT EXISTS module_syncs (
  username TEXT NOT NULL, course_id TEXT NOT NULL, module TEXT NOT NULL, commit_id TEXT NOT NULL,
  PRIMARY KEY (username, course_id, module));
"""
# Append steps, never edit a released one (storage/migrations.py).
VERSIONS = schema("courses store", SCHEMA)


def course_to_json(course: Course) -> str:
    return json.dumps(
        {
            "id": course.id,
            "title": course.title,
            "starts": course.starts.isoformat() if course.starts else None,
            "ends": course.ends.isoformat() if course.ends else None,
            "modules": [{"name": m.name, "ref": m.ref} for m in course.modules],
            "packages": [str(p) for p in course.packages],
            "idp_groups": list(course.idp_groups),
            "image": course.image,
            "mem_limit": course.mem_limit,
            "cpu_limit": course.cpu_limit,
        }
    )


def course_from_json(text: str) -> Course:
    doc: dict[str, Any] = json.loads(text)
    return Course(
        id=doc["id"],
        title=doc["title"],
        starts=date.fromisoformat(doc["starts"]) if doc.get("starts") else None,
        ends=date.fromisoformat(doc["ends"]) if doc.get("ends") else None,
        modules=tuple(ModulePin(m["name"], m["ref"]) for m in doc.get("modules", [])),
        packages=tuple(PackageRef.parse(p) for p in doc.get("packages", [])),
        idp_groups=tuple(doc.get("idp_groups", [])),
        image=doc.get("image"),
        mem_limit=doc.get("mem_limit"),
        cpu_limit=doc.get("cpu_limit"),
    )


class SqliteCourseStore:
    """Courses in one SQLite file (WAL, so the hub and the courses service can share it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        db = self._connect()
        try:
            migrate(db, VERSIONS, str(path))
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        use_wal(db)
        db.execute("PRAGMA busy_timeout=30000")
        return db

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            db = self._connect()
            try:
                with db:  # one transaction: all or nothing
                    db.execute("BEGIN IMMEDIATE")
                    return work(db)
            finally:
                db.close()

        return await asyncio.to_thread(call)

    async def put_course(self, course: Course) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            new = db.execute("SELECT 1 FROM courses WHERE id=?", (course.id,)).fetchone() is None
            db.execute(
                "INSERT INTO courses (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc=excluded.doc",
                (course.id, course_to_json(course)),
            )
            return new

        return await self._run(work)

    async def get_course(self, course_id: str) -> Course | None:
        def work(db: sqlite3.Connection) -> Course | None:
            row = db.execute("SELECT doc FROM courses WHERE id=?", (course_id,)).fetchone()
            return course_from_json(row[0]) if row else None

        return await self._run(work)

    async def list_courses(self) -> list[Course]:
        def work(db: sqlite3.Connection) -> list[Course]:
            rows = db.execute("SELECT doc FROM courses ORDER BY id").fetchall()
            return [course_from_json(r[0]) for r in rows]

        return await self._run(work)

    async def delete_course(self, course_id: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            db.execute("DELETE FROM enrolments WHERE course_id=?", (course_id,))
            return db.execute("DELETE FROM courses WHERE id=?", (course_id,)).rowcount > 0

        return await self._run(work)

    async def put_enrolment(self, enrolment: Enrolment) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            new = (
                db.execute(
                    "SELECT 1 FROM enrolments WHERE course_id=? AND username=?",
                    (enrolment.course_id, enrolment.username),
                ).fetchone()
                is None
            )
            db.execute(
                "INSERT INTO enrolments VALUES (?, ?, ?, ?) ON CONFLICT(course_id, username)"
                " DO UPDATE SET role=excluded.role, source=excluded.source",
                (enrolment.course_id, enrolment.username, str(enrolment.role), enrolment.source),
            )
            return new

        return await self._run(work)

    async def delete_enrolment(self, course_id: str, username: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            cur = db.execute(
                "DELETE FROM enrolments WHERE course_id=? AND username=?", (course_id, username)
            )
            return cur.rowcount > 0

        return await self._run(work)

    async def enrolments(
        self, course_id: str | None = None, username: str | None = None
    ) -> list[Enrolment]:
        def work(db: sqlite3.Connection) -> list[Enrolment]:
            rows = db.execute(
                "SELECT course_id, username, role, source FROM enrolments"
                " WHERE (?1 IS NULL OR course_id=?1) AND (?2 IS NULL OR username=?2)"
                " ORDER BY course_id, username",
                (course_id, username),
            ).fetchall()
            return [Enrolment(c, u, CourseRole(r), s) for c, u, r, s in rows]

        return await self._run(work)

    async def put_feedback(self, feedback: Feedback) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(course_id, module, username)"
                " DO UPDATE SET rating=excluded.rating, comment=excluded.comment, created=excluded.created",
                (
                    feedback.course_id,
                    feedback.module,
                    feedback.username,
                    feedback.rating,
                    feedback.comment,
                    feedback.created.isoformat(),
                ),
            )

        await self._run(work)

    async def feedback(self, course_id: str, module: str | None = None) -> list[Feedback]:
        def work(db: sqlite3.Connection) -> list[Feedback]:
            rows = db.execute(
                "SELECT course_id, module, username, rating, comment, created FROM feedback"
                " WHERE course_id=?1 AND (?2 IS NULL OR module=?2) ORDER BY module, created",
                (course_id, module),
            ).fetchall()
            return [Feedback(c, m, u, r, t, datetime.fromisoformat(d)) for c, m, u, r, t, d in rows]

        return await self._run(work)

    async def put_sync(self, username: str, course_id: str, module: str, commit: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO module_syncs VALUES (?, ?, ?, ?) ON CONFLICT(username, course_id, module)"
                " DO UPDATE SET commit_id=excluded.commit_id",
                (username, course_id, module, commit),
            )

        await self._run(work)

    async def syncs(self, username: str) -> dict[tuple[str, str], str]:
        def work(db: sqlite3.Connection) -> dict[tuple[str, str], str]:
            rows = db.execute(
                "SELECT course_id, module, commit_id FROM module_syncs WHERE username=?",
                (username,),
            ).fetchall()
            return {(c, m): commit for c, m, commit in rows}

        return await self._run(work)
