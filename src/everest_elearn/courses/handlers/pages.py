"""The HTML pages of the courses service: the home page and a course's page."""

from __future__ import annotations

from everest_elearn.courses import pages
from everest_elearn.courses.handlers.base import Base
from everest_elearn.courses.handlers.me import my_server
from everest_elearn.courses.handlers.servers import server_rows
from everest_elearn.courses.updates import module_status
from everest_elearn.security.identity import Role


class HomePage(Base):
    async def get(self) -> None:
        mine = await module_status(
            self.service, self.settings["modules"], self.identity.subject or ""
        )
        managed = []
        if self.identity.roles & {Role.ADMIN, Role.MANAGER}:
            managed = await self.service.all()
        server = await my_server(self.hub_api, self.identity.subject or "")
        self.finish(
            pages.home(
                self.settings["prefix"],
                self.identity,
                mine,
                managed,
                server,
                self.xsrf_token.decode(),
            )
        )


class CoursePage(Base):
    async def get(self, course_id: str) -> None:
        course = await self.require_course_manager(course_id)
        enrolments = await self.service.participants(course_id)
        summary = await self.service.feedback_summary(course_id)
        servers = {
            r["username"]: r["server"] + (f" ({r['course']}, {r['image']})" if r["course"] else "")
            for r in await server_rows(self.service, self.hub_api, course_id)
        }
        self.finish(
            pages.course(
                self.settings["prefix"],
                course,
                enrolments,
                summary,
                servers,
                self.xsrf_token.decode(),
            )
        )
