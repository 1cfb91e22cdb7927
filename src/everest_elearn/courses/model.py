"""What a course is: modules pinned to git refs, data packages, participants, image and limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from everest_elearn.errors import InvalidInput

COURSE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")
GIT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$")
MEM_LIMIT = re.compile(r"^[0-9]+[KMG]?$")
MAX_COMMENT = 4000


class CourseRole(StrEnum):
    PARTICIPANT = "participant"
    MANAGER = "manager"


@dataclass(frozen=True)
class ModulePin:
    """A module of the module repository, pinned to a git ref (branch, tag or commit)."""

    name: str
    ref: str = "main"

    def __post_init__(self) -> None:
        check(NAME, self.name, "module name")
        check(GIT_REF, self.ref, f"ref of module {self.name}")
        if ".." in self.ref:
            raise InvalidInput("module ref", f"{self.ref!r} may not contain '..'")


@dataclass(frozen=True)
class PackageRef:
    """A data package by name and version, as the packages feature names its volumes."""

    name: str
    version: str

    def __post_init__(self) -> None:
        check(NAME, self.name, "package name")
        check(NAME, self.version, f"version of package {self.name}")

    @classmethod
    def parse(cls, text: str) -> PackageRef:
        name, sep, version = text.partition(":")
        if not sep:
            raise InvalidInput("package", f"{text!r} must be written name:version")
        return cls(name, version)

    def __str__(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class Course:
    """A course as managers define it; participants are kept apart as enrolments."""

    id: str
    title: str
    starts: date | None = None
    ends: date | None = None
    modules: tuple[ModulePin, ...] = ()
    packages: tuple[PackageRef, ...] = ()
    # Identity-provider groups whose members are enrolled as participants when they log in.
    idp_groups: tuple[str, ...] = ()
    image: str | None = None
    mem_limit: str | None = None
    cpu_limit: float | None = None

    def __post_init__(self) -> None:
        check(COURSE_ID, self.id, "course id")
        if not self.title.strip() or len(self.title) > 200:
            raise InvalidInput("title", "a course needs a title of at most 200 characters")
        if self.starts and self.ends and self.ends < self.starts:
            raise InvalidInput(
                "ends", f"the course ends ({self.ends}) before it starts ({self.starts})"
            )
        if self.mem_limit is not None:
            check(MEM_LIMIT, self.mem_limit, "memory limit")
        if self.cpu_limit is not None and not 0 < self.cpu_limit <= 64:
            raise InvalidInput("cpu_limit", "the CPU limit must be between 0 and 64 cores")
        names = [m.name for m in self.modules]
        if len(set(names)) != len(names):
            raise InvalidInput("modules", "a module may appear only once in a course")

    @property
    def group(self) -> str:
        """The hub group that mirrors this course's enrolment."""
        return f"course-{self.id}"

    def running_on(self, day: date) -> bool:
        return (self.starts is None or self.starts <= day) and (
            self.ends is None or day <= self.ends
        )


@dataclass(frozen=True)
class Enrolment:
    course_id: str
    username: str
    role: CourseRole = CourseRole.PARTICIPANT
    # "manual" (a manager enrolled them) or "idp:<group>" (enrolled from a provider group).
    source: str = "manual"

    def __post_init__(self) -> None:
        check(USERNAME, self.username, "username")


@dataclass(frozen=True)
class Feedback:
    course_id: str
    module: str
    username: str
    rating: int
    comment: str = ""
    created: datetime = field(default_factory=datetime.now)

    def __post_init__(self) -> None:
        if not 1 <= self.rating <= 5:
            raise InvalidInput("rating", "a rating is a whole number from 1 to 5")
        if len(self.comment) > MAX_COMMENT:
            raise InvalidInput("comment", f"a comment has at most {MAX_COMMENT} characters")


@dataclass(frozen=True)
class FeedbackSummary:
    """Per module: how many rated it, the average, how often each rating was given, comments."""

    course_id: str
    module: str
    count: int
    average: float | None
    histogram: dict[int, int]
    comments: list[tuple[str, str]]


def check(pattern: re.Pattern[str], value: str, where: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidInput(where, f"{value!r} is not a valid {where}")
    return value
