"""Write tests/deploy/schemas/v<N>/*.sql: each store's database as this release makes it.

    .venv/bin/python -m tests.deploy.schemas.make

Run it once per schema version, when a release appends a migration step, and keep the older
folders: tests/deploy/test_migrations.py upgrades every kept version to the current one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from everest_elearn.courses.backends.sqlite import VERSIONS as COURSES
from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, Enrolment, Feedback, ModulePin, PackageRef
from everest_elearn.harvest.checkpoint import VERSIONS as CHECKPOINTS
from everest_elearn.harvest.checkpoint import Checkpoints
from everest_elearn.packages.state import VERSIONS as PACKAGES
from everest_elearn.packages.state import Build, BuildState, PackageState
from everest_elearn.storage.migrations import Schema

HERE = Path(__file__).resolve().parent
STORES: dict[str, Schema] = {"packages": PACKAGES, "checkpoints": CHECKPOINTS, "courses": COURSES}
T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)


async def fill(folder: Path) -> None:
    """A little of everything each store keeps."""
    packages = PackageState(folder / "packages.sqlite")
    await packages.open()
    await packages.put_spec("nsanje-s1", "1", {"name": "nsanje-s1", "version": "1"}, "admin")
    build = Build("nsanje-s1", "1", "package", BuildState.BUILDING, "everest-pkg-nsanje-s1-1",
                  "docker", owner="admin", spec={"name": "nsanje-s1"})  # fmt: skip
    await packages.begin(build)
    await packages.transition("nsanje-s1", "1", (BuildState.BUILDING,), BuildState.READY,
                              total_files=2, total_bytes=2048, datasets=["a", "b"])  # fmt: skip
    await packages.close()

    checkpoints = Checkpoints(folder / "checkpoints.sqlite")
    await checkpoints.update("mundi-s2", since=T0, state="ok", totals={"stored": 42})

    courses = SqliteCourseStore(folder / "courses.sqlite")
    course = Course("flood-2024", "Flood mapping", starts=date(2024, 3, 4),
                    modules=(ModulePin("s1-flood-mapping-malawi", "v1"),),
                    packages=(PackageRef("nsanje-s1", "1"),), idp_groups=("flood",))  # fmt: skip
    await courses.put_course(course)
    await courses.put_enrolment(Enrolment("flood-2024", "alice"))
    await courses.put_feedback(
        Feedback("flood-2024", "s1-flood-mapping-malawi", "alice", 4, "clear", created=T0)
    )


def dump(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        lines = [f"PRAGMA user_version = {version};", *db.iterdump()]
    finally:
        db.close()
    return "\n".join(lines) + "\n"


def main() -> int:
    versions = {schema.version for schema in STORES.values()}
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(fill(Path(tmp)))
        for name, schema in STORES.items():
            target = HERE / f"v{schema.version}" / f"{name}.sql"
            target.parent.mkdir(exist_ok=True)
            target.write_text(dump(Path(tmp) / f"{name}.sqlite"), encoding="utf-8")
            print(target.relative_to(HERE.parents[2]))
    return 0 if versions else 1


if __name__ == "__main__":
    sys.exit(main())
