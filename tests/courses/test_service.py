"""CourseService on the embedded SQLite store: validation, enrolment merging, feedback."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, CourseRole, ModulePin, PackageRef
from everest_elearn.courses.service import CourseService
from everest_elearn.errors import Conflict, Forbidden, InvalidInput, NotFound
from everest_elearn.security.identity import Role


@pytest.fixture
def service(tmp_path: Path) -> CourseService:
    return CourseService(SqliteCourseStore(tmp_path / "courses.sqlite"))


FOREST = Course(
    "forest",
    "Forests from space",
    starts=date(2025, 3, 1),
    ends=date(2025, 3, 31),
    modules=(ModulePin("intro"), ModulePin("ndvi", "v1.0")),
    packages=(PackageRef("s2-forest", "1"),),
    idp_groups=("cohort-forest",),
    image="everest/notebook:latest",
    mem_limit="2G",
    cpu_limit=1.5,
)


async def test_course_round_trips_and_ids_are_unique(service: CourseService) -> None:
    await service.create(FOREST)
    assert await service.get("forest") == FOREST
    with pytest.raises(Conflict):
        await service.create(FOREST)
    with pytest.raises(NotFound):
        await service.get("ocean")


@pytest.mark.parametrize(
    ("make", "where"),
    [
        (lambda: Course("Bad Id", "OK"), "course id"),
        (lambda: Course("ok-course", " "), "title"),
        (lambda: Course("ok-course", "OK", starts=date(2025, 2, 1), ends=date(2025, 1, 1)), "ends"),
        (lambda: PackageRef("Bad/name", "1"), "package name"),
        (lambda: ModulePin("intro", "../etc"), "ref of module intro"),
        (lambda: Course("ok-course", "OK", mem_limit="lots"), "memory limit"),
    ],
)
def test_bad_courses_are_refused_naming_what(make: object, where: str) -> None:
    with pytest.raises(InvalidInput) as error:
        make()  # type: ignore[operator]
    assert error.value.where == where


def test_package_refs_parse_name_and_version() -> None:
    assert PackageRef.parse("s2-forest:1") == PackageRef("s2-forest", "1")
    with pytest.raises(InvalidInput):
        PackageRef.parse("s2-forest")


async def test_manual_enrolment_survives_provider_group_changes(service: CourseService) -> None:
    await service.create(FOREST)
    await service.create(Course("ocean", "Oceans", idp_groups=("cohort-ocean",)))
    await service.enrol("ocean", ["alice"])  # by hand

    groups = await service.sync_idp_groups("alice", ["cohort-forest"])
    assert groups == {"course-forest", "course-ocean"}
    # She leaves the provider group: the enrolment that came from it goes, the manual one stays.
    groups = await service.sync_idp_groups("alice", [])
    assert groups == {"course-ocean"}
    sources = {e.course_id: e.source for e in await service.store.enrolments(username="alice")}
    assert sources == {"ocean": "manual"}


async def test_only_enrolled_participants_rate_known_modules(service: CourseService) -> None:
    await service.create(FOREST)
    await service.enrol("forest", ["alice", "bob"])
    await service.give_feedback("alice", "forest", "intro", 5, "  great  ")
    await service.give_feedback("bob", "forest", "intro", 3)
    await service.give_feedback("bob", "forest", "intro", 2, "changed my mind")  # replaces
    with pytest.raises(Forbidden):
        await service.give_feedback("mallory", "forest", "intro", 1)
    with pytest.raises(InvalidInput):
        await service.give_feedback("alice", "forest", "nope", 3)
    with pytest.raises(InvalidInput):
        await service.give_feedback("alice", "forest", "intro", 0)

    intro, ndvi = await service.feedback_summary("forest")
    assert (intro.count, intro.average) == (2, 3.5)
    assert intro.histogram == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    assert intro.comments == [("alice", "great"), ("bob", "changed my mind")]
    assert (ndvi.count, ndvi.average) == (0, None)
    csv = await service.export_feedback_csv("forest")
    assert csv.splitlines()[0] == "course,module,participant,rating,comment,created"
    assert len(csv.splitlines()) == 3


async def test_who_may_manage_a_course(service: CourseService) -> None:
    await service.create(FOREST)
    assert await service.may_manage("dave", {Role.ADMIN}, "forest")
    assert not await service.may_manage("alice", {Role.PARTICIPANT}, "forest")
    # A course without managers is open to every course manager; once one is named, only them.
    assert await service.may_manage("carol", {Role.MANAGER}, "forest")
    await service.enrol("forest", ["carol"], CourseRole.MANAGER)
    assert await service.may_manage("carol", {Role.MANAGER}, "forest")
    assert not await service.may_manage("frank", {Role.MANAGER}, "forest")


async def test_running_on_uses_the_dates() -> None:
    assert FOREST.running_on(date(2025, 3, 15))
    assert not FOREST.running_on(date(2025, 4, 1))
