"""What a user's container gets: every course package read-only, image and limits by course or role."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from everest_elearn.courses.model import Course, ModulePin, PackageRef
from everest_elearn.errors import InvalidInput
from everest_elearn.hub.plan import Mount, make_plan
from everest_elearn.packages.results import slug

SPAWNER = SimpleNamespace(
    image="everest/notebook:latest",
    mem_limit=4 * 1024**3,
    cpu_limit=2.0,
    role_limits={
        "module-developer": {"image": "everest/notebook:dev", "mem_limit": "8G", "cpu_limit": 4}
    },
    home_volume_template="everest-home-{username}",
    results_volume_template="everest-results-{slug}",
    results_path="/home/jovyan/results",
    package_volume_template="everest-pkg-{name}-{version}",
    packages_path="/home/jovyan/data",
)
FOREST = Course("forest", "Forests", starts=date(2025, 3, 1), ends=date(2025, 3, 31),
                modules=(ModulePin("intro"),), packages=(PackageRef("s2", "1"),),
                image="everest/notebook:forest", mem_limit="2G")  # fmt: skip
OCEAN = Course("ocean", "Oceans", packages=(PackageRef("s3", "2"), PackageRef("s2", "1")))


def plan(courses: list[Course], roles: set[str], chosen: str | None = None) -> object:
    return make_plan(spawner=SPAWNER, username="alice@x.org", escaped="alice-40x-2eorg",
                     courses=courses, chosen=chosen, roles=roles, shares=[],
                     today=date(2025, 3, 10))  # fmt: skip


def test_every_package_of_every_course_is_mounted_read_only_once() -> None:
    p = plan([FOREST, OCEAN], {"participant"})
    mounts = {m.target: m for m in p.mounts}  # type: ignore[attr-defined]
    assert mounts["/home/jovyan/data/s2"] == Mount(
        "everest-pkg-s2-1", "/home/jovyan/data/s2", "ro", "s2"
    )
    assert mounts["/home/jovyan/data/s3"].mode == "ro"
    assert mounts["/home/jovyan"].source == "everest-home-alice-40x-2eorg"
    # The results volume is named as the packages service names it, for the raw user name.
    assert mounts["/home/jovyan/results"].source == f"everest-results-{slug('alice@x.org')}"
    assert mounts["/home/jovyan/results"].mode == "rw"
    assert p.modules == (("forest", ModulePin("intro")),)  # type: ignore[attr-defined]


def test_image_and_limits_come_from_the_course_then_the_role() -> None:
    running = plan([FOREST], {"module-developer"})
    assert (running.image, running.mem_limit, running.cpu_limit) == (
        "everest/notebook:forest",
        "2G",
        4.0,
    )  # type: ignore[attr-defined]
    no_course = plan([], {"module-developer"})
    assert (no_course.image, no_course.mem_limit) == ("everest/notebook:dev", "8G")  # type: ignore[attr-defined]
    default = plan([OCEAN], {"participant"})
    assert (default.image, default.cpu_limit) == ("everest/notebook:latest", 2.0)  # type: ignore[attr-defined]
    chosen = plan([FOREST, OCEAN], set(), chosen="ocean")
    assert chosen.course == "ocean" and chosen.image == "everest/notebook:latest"  # type: ignore[attr-defined]


def test_refusals_name_the_problem() -> None:
    with pytest.raises(InvalidInput, match="not enrolled in a course called 'soil'"):
        plan([FOREST], set(), chosen="soil")
    clash = Course("other", "Other", packages=(PackageRef("s2", "9"),))
    with pytest.raises(InvalidInput, match="two versions of the data package 's2'"):
        plan([FOREST, clash], set())
