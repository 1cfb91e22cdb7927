"""Per user and module: which commit they have, which the course's ref points at now."""

from __future__ import annotations

from typing import Any

from everest_elearn.courses.service import CourseService
from everest_elearn.errors import NotFound
from everest_elearn.modules.repository import ModuleRepository


async def module_status(
    service: CourseService, repository: ModuleRepository, username: str
) -> list[dict[str, Any]]:
    """The user's courses; each module says ``update_available`` when its ref moved on."""
    synced = await service.store.syncs(username)
    out = []
    for course, enrolment in await service.courses_of(username):
        modules = []
        for pin in course.modules:
            try:
                latest: str | None = await repository.resolve(pin.name, pin.ref)
            except NotFound:
                latest = None
            have = synced.get((course.id, pin.name))
            modules.append(
                {
                    "name": pin.name,
                    "ref": pin.ref,
                    "latest": latest,
                    "synced": have,
                    "update_available": bool(have and latest and have != latest),
                }
            )
        out.append(
            {
                "id": course.id,
                "title": course.title,
                "role": str(enrolment.role),
                "packages": [str(p) for p in course.packages],
                "modules": modules,
            }
        )
    return out
