"""``everest-elearn courses``: create courses, enrol participants, read feedback (on the courses store)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, CourseRole, ModulePin, PackageRef
from everest_elearn.courses.service import CourseService
from everest_elearn.errors import InvalidInput
from everest_elearn.settings import load_settings

app = typer.Typer(help="Courses, enrolment and feedback.", no_args_is_help=True)


def service() -> CourseService:
    settings = load_settings()
    path = settings.hub.courses_db or settings.data_dir / "courses.sqlite"
    return CourseService(SqliteCourseStore(Path(path)))


def parse_date(text: str | None, where: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(where, f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_module(text: str) -> ModulePin:
    name, _, ref = text.partition("@")
    return ModulePin(name, ref or "main")


@app.command("create")
def create(
    course_id: Annotated[str, typer.Argument(help="Short id, e.g. forest-2025.")],
    title: Annotated[str, typer.Option(help="Title participants see.")],
    starts: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD).")] = None,
    ends: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD).")] = None,
    module: Annotated[list[str] | None, typer.Option(help="name@ref (repeatable).")] = None,
    package: Annotated[list[str] | None, typer.Option(help="name:version (repeatable).")] = None,
    idp_group: Annotated[
        list[str] | None,
        typer.Option(help="Provider group whose members are enrolled (repeatable)."),
    ] = None,
    image: Annotated[str | None, typer.Option(help="Notebook image for this course.")] = None,
    mem_limit: Annotated[str | None, typer.Option(help="Memory per participant, e.g. 4G.")] = None,
    cpu_limit: Annotated[float | None, typer.Option(help="CPU cores per participant.")] = None,
) -> None:
    """Create a course."""
    course = Course(
        id=course_id,
        title=title,
        starts=parse_date(starts, "starts"),
        ends=parse_date(ends, "ends"),
        modules=tuple(parse_module(m) for m in module or []),
        packages=tuple(PackageRef.parse(p) for p in package or []),
        idp_groups=tuple(idp_group or []),
        image=image,
        mem_limit=mem_limit,
        cpu_limit=cpu_limit,
    )
    asyncio.run(service().create(course))
    typer.echo(f"created course {course.id}")


@app.command("list")
def list_courses() -> None:
    """The courses, with their number of participants."""

    async def work() -> list[tuple[Course, int]]:
        svc = service()
        return [(c, len(await svc.participants(c.id))) for c in await svc.all()]

    table = Table("id", "title", "dates", "modules", "packages", "participants")
    for course, count in asyncio.run(work()):
        dates = (
            f"{course.starts or ''} - {course.ends or ''}" if course.starts or course.ends else ""
        )
        table.add_row(
            course.id,
            course.title,
            dates,
            ", ".join(f"{m.name}@{m.ref}" for m in course.modules),
            ", ".join(map(str, course.packages)),
            str(count),
        )
    Console().print(table)


@app.command("enrol")
def enrol(
    course_id: str,
    usernames: Annotated[list[str], typer.Argument(help="Users to enrol.")],
    manager: Annotated[bool, typer.Option(help="Enrol them as managers of the course.")] = False,
) -> None:
    """Enrol users (kept whatever the identity provider says at their next login)."""
    role = CourseRole.MANAGER if manager else CourseRole.PARTICIPANT
    added = asyncio.run(service().enrol(course_id, usernames, role))
    typer.echo(f"enrolled {len(added)} new: {', '.join(added) or '-'}")


@app.command("unenrol")
def unenrol(course_id: str, username: str) -> None:
    """Withdraw a user from a course."""
    asyncio.run(service().unenrol(course_id, username))
    typer.echo(f"{username} left {course_id}")


@app.command("participants")
def participants(course_id: str) -> None:
    """Who is enrolled, in which role, and how."""
    table = Table("user", "role", "enrolled by")
    for e in asyncio.run(service().participants(course_id)):
        table.add_row(e.username, str(e.role), e.source)
    Console().print(table)


@app.command("feedback")
def feedback(
    course_id: str,
    csv: Annotated[bool, typer.Option("--csv", help="Every rating and comment as CSV.")] = False,
) -> None:
    """Feedback per module: count, average, histogram; or the full export."""
    if csv:
        typer.echo(asyncio.run(service().export_feedback_csv(course_id)), nl=False)
        return
    table = Table("module", "ratings", "average", "1-5", "comments")
    for s in asyncio.run(service().feedback_summary(course_id)):
        average = f"{s.average:.2f}" if s.average is not None else "-"
        histogram = " ".join(str(s.histogram[r]) for r in range(1, 6))
        table.add_row(s.module, str(s.count), average, histogram, str(len(s.comments)))
    Console().print(table)


@app.command("delete")
def delete(course_id: str) -> None:
    """Delete a course and its enrolments (feedback is kept)."""
    asyncio.run(service().delete(course_id))
    typer.echo(f"deleted course {course_id}")
