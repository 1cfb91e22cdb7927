"""Courses, their enrolments and their feedback as JSON (course managers; feedback from anyone)."""

from __future__ import annotations

from everest_elearn import errors
from everest_elearn.courses.handlers.base import Base, course_from_json, course_json
from everest_elearn.courses.model import CourseRole
from everest_elearn.security.identity import Role


class CoursesApi(Base):
    async def get(self) -> None:
        courses = await self.service.all()
        if not self.identity.roles & {Role.ADMIN, Role.MANAGER}:
            mine = {c.id for c, _ in await self.service.courses_of(self.identity.subject or "")}
            courses = [c for c in courses if c.id in mine]
        self.write_json([course_json(c) for c in courses])

    async def post(self) -> None:
        self.require_manager()
        course = await self.service.create(course_from_json(self.body()))
        if Role.ADMIN not in self.identity.roles:
            await self.service.enrol(course.id, [self.identity.subject or ""], CourseRole.MANAGER)
        self.write_json(course_json(course), 201)


class CourseApi(Base):
    async def get(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        course = await self.service.get(course_id)
        enrolments = await self.service.participants(course_id)
        self.write_json(
            {
                **course_json(course),
                "enrolments": [
                    {"username": e.username, "role": str(e.role), "source": e.source}
                    for e in enrolments
                ],
            }
        )

    async def put(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        self.write_json(
            course_json(await self.service.update(course_from_json(self.body(), course_id)))
        )

    async def delete(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        await self.service.delete(course_id)
        self.set_status(204)
        self.finish()


class EnrolmentsApi(Base):
    async def post(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        data = self.body()
        names = data.get("usernames") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise errors.InvalidInput("usernames", "must be a list of user names")
        role = CourseRole(data.get("role", "participant"))
        added = await self.service.enrol(course_id, names, role)
        self.write_json({"enrolled": added}, 201 if added else 200)

    async def delete(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        await self.service.unenrol(course_id, username or "")
        self.set_status(204)
        self.finish()


class FeedbackApi(Base):
    async def get(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        summary = await self.service.feedback_summary(course_id)
        self.write_json([s.__dict__ for s in summary])

    async def post(self, course_id: str) -> None:
        data = self.body()
        try:
            rating = int(data.get("rating", 0))
        except (TypeError, ValueError):
            raise errors.InvalidInput("rating", "a rating is a whole number from 1 to 5") from None
        feedback = await self.service.give_feedback(
            self.identity.subject or "",
            course_id,
            str(data.get("module", "")),
            rating,
            str(data.get("comment", "")),
        )
        self.write_json({"module": feedback.module, "rating": feedback.rating}, 201)


class FeedbackExport(Base):
    async def get(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="feedback-{course_id}.csv"')
        self.finish(await self.service.export_feedback_csv(course_id))
