"""The courses service: creating courses, enrolling (by hand or from provider groups), feedback."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import replace

from everest_elearn.courses.model import (
    Course,
    CourseRole,
    Enrolment,
    Feedback,
    FeedbackSummary,
    PackageRef,
)
from everest_elearn.courses.store import CourseStore
from everest_elearn.errors import Conflict, Forbidden, InvalidInput, NotFound
from everest_elearn.security.identity import Role

IDP_SOURCE = "idp:"


class CourseService:
    """Everything the hub, the courses web service and the CLI do with courses."""

    def __init__(self, store: CourseStore) -> None:
        self.store = store

    async def create(self, course: Course) -> Course:
        if await self.store.get_course(course.id) is not None:
            raise Conflict(f"a course with the id {course.id!r} exists already")
        await self.store.put_course(course)
        return course

    async def update(self, course: Course) -> Course:
        await self.get(course.id)
        await self.store.put_course(course)
        return course

    async def get(self, course_id: str) -> Course:
        course = await self.store.get_course(course_id)
        if course is None:
            raise NotFound("course", course_id)
        return course

    async def all(self) -> list[Course]:
        return await self.store.list_courses()

    async def delete(self, course_id: str) -> None:
        if not await self.store.delete_course(course_id):
            raise NotFound("course", course_id)

    async def enrol(
        self,
        course_id: str,
        usernames: Iterable[str],
        role: CourseRole = CourseRole.PARTICIPANT,
        source: str = "manual",
    ) -> list[str]:
        """Enrol each user; returns those newly enrolled. A manual enrolment is never downgraded."""
        await self.get(course_id)
        added = []
        for username in usernames:
            enrolment = Enrolment(course_id, username, role, source)
            if await self.store.put_enrolment(enrolment):
                added.append(username)
        return added

    async def unenrol(self, course_id: str, username: str) -> None:
        if not await self.store.delete_enrolment(course_id, username):
            raise NotFound(f"enrolment in {course_id!r} of", username)

    async def participants(self, course_id: str) -> list[Enrolment]:
        await self.get(course_id)
        return await self.store.enrolments(course_id=course_id)

    async def courses_of(self, username: str) -> list[tuple[Course, Enrolment]]:
        """The user's courses with their enrolment, in course id order."""
        out = []
        for enrolment in await self.store.enrolments(username=username):
            course = await self.store.get_course(enrolment.course_id)
            if course is not None:
                out.append((course, enrolment))
        return out

    async def sync_idp_groups(self, username: str, idp_groups: Iterable[str]) -> set[str]:
        """Enrol the user in courses tied to their provider groups; returns the hub course groups.

        Enrolments made by hand are kept whatever the provider says: a login that resets the
        user's hub groups to the provider's list must not drop them from a course. Enrolments
        that came from a provider group the user has left are withdrawn.
        """
        groups = set(idp_groups)
        current = {e.course_id: e for e in await self.store.enrolments(username=username)}
        for course in await self.store.list_courses():
            matched = sorted(groups.intersection(course.idp_groups))
            existing = current.get(course.id)
            if matched and existing is None:
                enrolment = Enrolment(
                    course.id, username, CourseRole.PARTICIPANT, IDP_SOURCE + matched[0]
                )
                await self.store.put_enrolment(enrolment)
                current[course.id] = enrolment
            elif not matched and existing is not None and existing.source.startswith(IDP_SOURCE):
                await self.store.delete_enrolment(course.id, username)
                del current[course.id]
        return {f"course-{course_id}" for course_id in current}

    async def may_manage(self, username: str, roles: Iterable[Role], course_id: str) -> bool:
        roles = set(roles)
        if Role.ADMIN in roles:
            return True
        if Role.MANAGER not in roles:
            return False
        for enrolment in await self.store.enrolments(course_id=course_id, username=username):
            if enrolment.role is CourseRole.MANAGER:
                return True
        # A course manager who created no enrolment for themselves manages courses without one.
        return not any(e.role is CourseRole.MANAGER for e in await self.store.enrolments(course_id))

    async def give_feedback(
        self, username: str, course_id: str, module: str, rating: int, comment: str = ""
    ) -> Feedback:
        course = await self.get(course_id)
        if module not in {m.name for m in course.modules}:
            raise InvalidInput("module", f"the course {course_id!r} has no module {module!r}")
        if not await self.store.enrolments(course_id=course_id, username=username):
            raise Forbidden(f"only participants of {course.title!r} can rate its modules")
        feedback = Feedback(course_id, module, username, rating, comment.strip())
        await self.store.put_feedback(feedback)
        return feedback

    async def feedback_summary(self, course_id: str) -> list[FeedbackSummary]:
        course = await self.get(course_id)
        everything = await self.store.feedback(course_id)
        out = []
        for pin in course.modules:
            items = [f for f in everything if f.module == pin.name]
            histogram = {r: 0 for r in range(1, 6)}
            for item in items:
                histogram[item.rating] += 1
            average = round(sum(f.rating for f in items) / len(items), 2) if items else None
            comments = [(f.username, f.comment) for f in items if f.comment]
            out.append(
                FeedbackSummary(course_id, pin.name, len(items), average, histogram, comments)
            )
        return out

    async def export_feedback_csv(self, course_id: str) -> str:
        await self.get(course_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["course", "module", "participant", "rating", "comment", "created"])
        for f in await self.store.feedback(course_id):
            writer.writerow(
                [f.course_id, f.module, f.username, f.rating, f.comment, f.created.isoformat()]
            )
        return buffer.getvalue()


def with_packages(course: Course, packages: Iterable[str]) -> Course:
    """The course with its package list replaced (``name:version`` each)."""
    return replace(course, packages=tuple(PackageRef.parse(p) for p in packages))
