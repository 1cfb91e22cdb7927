"""What a user's container gets: mounts, image and limits, worked out from courses and roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from everest_elearn.courses.model import Course, ModulePin, PackageRef
from everest_elearn.errors import InvalidInput
from everest_elearn.packages.results import slug


@dataclass(frozen=True)
class Mount:
    """A Docker volume mounted at ``target``; ``mode`` is "ro" or "rw"."""

    source: str
    target: str
    mode: str
    label: str = ""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SpawnPlan:
    image: str
    mem_limit: str | int | None
    cpu_limit: float | None
    mounts: tuple[Mount, ...]
    packages: tuple[PackageRef, ...]
    # (course id, module) pairs to bring into the home.
    modules: tuple[tuple[str, ModulePin], ...]
    course: str | None

    def describe(self) -> str:
        course = f"course {self.course}" if self.course else "no course"
        return f"{course}, image {self.image}"


def make_plan(
    *,
    spawner: Any,
    username: str,
    escaped: str,
    courses: list[Course],
    chosen: str | None,
    roles: set[str],
    shares: list[Mount],
    today: date | None = None,
) -> SpawnPlan:
    """Mount every package of every course the user is in; image and limits from one course.

    The course whose image applies is the one the user chose, else the first running today,
    else the first; roles' limits apply where the course sets none.
    """
    today = today or date.today()
    by_id = {c.id: c for c in courses}
    if chosen and chosen not in by_id:
        raise InvalidInput("course", f"you are not enrolled in a course called {chosen!r}")
    running = [c for c in courses if c.running_on(today)]
    main = by_id.get(chosen or "") or (running[0] if running else (courses[0] if courses else None))

    image, mem, cpu = spawner.image, spawner.mem_limit, spawner.cpu_limit
    for role in sorted(roles):
        limits = spawner.role_limits.get(role) or {}
        image = limits.get("image", image)
        mem = limits.get("mem_limit", mem)
        cpu = limits.get("cpu_limit", cpu)
    if main is not None:
        image = main.image or image
        mem = main.mem_limit or mem
        cpu = main.cpu_limit or cpu

    mounts: list[Mount] = []
    fmt = {"username": escaped, "slug": slug(username)}
    if spawner.home_volume_template:
        mounts.append(
            Mount(
                spawner.home_volume_template.format(**fmt),
                "/home/jovyan",
                "rw",
                "home",
                {"everest.kind": "home", "everest.owner": username},
            )
        )
    mounts.append(
        Mount(
            spawner.results_volume_template.format(**fmt),
            spawner.results_path,
            "rw",
            "results",
            {"everest.kind": "results", "everest.owner": username},
        )
    )
    packages: dict[str, PackageRef] = {}
    for course in courses:
        for package in course.packages:
            if packages.setdefault(package.name, package) != package:
                raise InvalidInput(
                    "packages",
                    f"your courses use two versions of the data package {package.name!r}; "
                    "ask the course managers to agree on one",
                )
    for package in packages.values():
        volume = spawner.package_volume_template.format(name=package.name, version=package.version)
        mounts.append(Mount(volume, f"{spawner.packages_path}/{package.name}", "ro", package.name))
    mounts.extend(shares)
    modules = tuple((c.id, pin) for c in courses for pin in c.modules)
    return SpawnPlan(
        image=image,
        mem_limit=mem or None,
        cpu_limit=float(cpu) if cpu else None,
        mounts=tuple(mounts),
        packages=tuple(packages.values()),
        modules=modules,
        course=main.id if main else None,
    )
