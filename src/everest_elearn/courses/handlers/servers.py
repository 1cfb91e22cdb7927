"""The servers of a course's participants: who runs what, start and stop (through the hub API)."""

from __future__ import annotations

from typing import Any

from everest_elearn import errors
from everest_elearn.courses.handlers.base import Base
from everest_elearn.courses.hubapi import HubApi
from everest_elearn.courses.service import CourseService


async def server_rows(
    service: CourseService, hub_api: HubApi, course_id: str
) -> list[dict[str, Any]]:
    """Each participant of the course with the state of their server, from the hub."""
    out = []
    for enrolment in await service.participants(course_id):
        try:
            model = await hub_api.user(enrolment.username)
        except errors.NotFound:
            model = {}
        server = (model.get("servers") or {}).get("", {})
        if server.get("ready"):
            state = "ready"
        elif model.get("pending"):
            state = str(model["pending"])
        else:
            state = "stopped" if model else "never logged in"
        # What the spawner put in its state: the course the server was started for, its image.
        what = (server.get("state") or {}).get("everest_running") or {}
        out.append(
            {
                "username": enrolment.username,
                "role": str(enrolment.role),
                "server": state,
                "course": what.get("course"),
                "image": what.get("image"),
                "started": server.get("started"),
                "last_activity": server.get("last_activity") or model.get("last_activity"),
            }
        )
    return out


class ServersApi(Base):
    """Who runs what, and start or stop a participant's server (through the hub API)."""

    async def get(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        self.write_json(await server_rows(self.service, self.hub_api, course_id))

    async def post(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        await self._enrolled(course_id, username or "")
        await self.hub_api.start(username or "", course_id)
        self.write_json({"starting": username}, 202)

    async def delete(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        await self._enrolled(course_id, username or "")
        await self.hub_api.stop(username or "")
        self.write_json({"stopping": username}, 202)

    async def _enrolled(self, course_id: str, username: str) -> None:
        if not any(e.username == username for e in await self.service.participants(course_id)):
            raise errors.NotFound(f"participant of {course_id!r}", username)
