"""The courses store interface; the embedded SQLite backend lives in ``backends/sqlite.py``."""

from __future__ import annotations

from typing import Protocol

from everest_elearn.courses.model import Course, Enrolment, Feedback


class CourseStore(Protocol):
    """Keeps courses, enrolments and feedback. Writes are atomic; nothing is lost on bad input."""

    async def put_course(self, course: Course) -> bool:
        """Create or replace a course; True when it was new."""

    async def get_course(self, course_id: str) -> Course | None: ...

    async def list_courses(self) -> list[Course]: ...

    async def delete_course(self, course_id: str) -> bool:
        """Remove a course with its enrolments (feedback is kept for the record)."""

    async def put_enrolment(self, enrolment: Enrolment) -> bool:
        """Enrol (or change role); True when it was new."""

    async def delete_enrolment(self, course_id: str, username: str) -> bool: ...

    async def enrolments(
        self, course_id: str | None = None, username: str | None = None
    ) -> list[Enrolment]: ...

    async def put_feedback(self, feedback: Feedback) -> None:
        """One feedback per participant and module: a later one replaces the earlier."""

    async def feedback(self, course_id: str, module: str | None = None) -> list[Feedback]: ...

    async def put_sync(self, username: str, course_id: str, module: str, commit: str) -> None:
        """Record which commit of a module was last brought into the user's home."""

    async def syncs(self, username: str) -> dict[tuple[str, str], str]:
        """(course, module) -> commit last brought into the user's home."""
