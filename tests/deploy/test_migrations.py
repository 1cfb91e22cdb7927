"""Schema versions of the platform's SQLite stores: kept fixtures of earlier versions upgrade with
their data, a file newer than the code is refused untouched, a failed step changes nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from everest_elearn.courses.backends.sqlite import VERSIONS as COURSES
from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.harvest.checkpoint import VERSIONS as CHECKPOINTS
from everest_elearn.harvest.checkpoint import Checkpoints
from everest_elearn.packages.state import VERSIONS as PACKAGES
from everest_elearn.packages.state import BuildState, PackageState
from everest_elearn.storage.migrations import Schema, SchemaTooNew, migrate, schema, split

SCHEMAS = Path(__file__).resolve().parent / "schemas"
KEPT = sorted(p.name for p in SCHEMAS.glob("v*") if p.is_dir())
CURRENT = {"packages": PACKAGES, "checkpoints": CHECKPOINTS, "courses": COURSES}
STORES = tuple(CURRENT)


def restore(version: str, store: str, target: Path, *, user_version: int | None = None) -> Path:
    """A database file from a kept dump (optionally claiming another schema version)."""
    with closing(sqlite3.connect(target)) as db:
        db.executescript((SCHEMAS / version / f"{store}.sql").read_text(encoding="utf-8"))
        if user_version is not None:
            db.execute(f"PRAGMA user_version = {user_version:d}")
    return target


def contents(path: Path) -> list[str]:
    """Schema, rows and version (opening in WAL mode rewrites header bytes, not content)."""
    with closing(sqlite3.connect(path)) as db:
        return [str(user_version(path)), *db.iterdump()]


def user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


async def read_back(store: str, path: Path) -> None:
    """Open with this release's store and read what the fixture holds."""
    if store == "packages":
        state = PackageState(path)
        await state.open()
        build = await state.get("nsanje-s1", "1")
        assert build is not None and build.state is BuildState.READY
        assert build.datasets == ["a", "b"] and build.total_bytes == 2048
        assert (await state.get_spec("nsanje-s1", "1")) == {"name": "nsanje-s1", "version": "1"}
        await state.close()
    elif store == "checkpoints":
        source = await Checkpoints(path).get("mundi-s2")
        assert source.since == datetime(2024, 3, 1, 12, tzinfo=UTC)
        assert source.state == "ok" and source.totals == {"stored": 42}
    else:
        courses = SqliteCourseStore(path)
        course = await courses.get_course("flood-2024")
        assert course is not None and course.title == "Flood mapping"
        assert [e.username for e in await courses.enrolments("flood-2024")] == ["alice"]
        assert [(f.rating, f.comment) for f in await courses.feedback("flood-2024")] == [
            (4, "clear")
        ]


async def open_store(store: str, path: Path) -> None:
    if store == "packages":
        await PackageState(path).open()
    elif store == "checkpoints":
        await Checkpoints(path).get("any")
    else:
        SqliteCourseStore(path)


def test_fixtures_exist_for_the_current_version() -> None:
    for store, current in CURRENT.items():
        kept = SCHEMAS / f"v{current.version}" / f"{store}.sql"
        assert kept.is_file(), f"no {kept}: run .venv/bin/python -m tests.deploy.schemas.make"


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("version", KEPT)
async def test_a_kept_version_opens_with_its_data(store: str, version: str, tmp_path: Path) -> None:
    path = restore(version, store, tmp_path / f"{store}.sqlite")
    await read_back(store, path)
    assert user_version(path) == CURRENT[store].version


@pytest.mark.parametrize("store", STORES)
async def test_files_from_before_schema_versions_are_adopted(store: str, tmp_path: Path) -> None:
    # Releases before schema versions left user_version at 0 with the version-1 tables.
    path = restore("v1", store, tmp_path / f"{store}.sqlite", user_version=0)
    await read_back(store, path)
    assert user_version(path) == 1


@pytest.mark.parametrize("store", STORES)
async def test_a_newer_file_is_refused_untouched(store: str, tmp_path: Path) -> None:
    path = restore("v1", store, tmp_path / f"{store}.sqlite", user_version=99)
    before = contents(path)
    with pytest.raises(SchemaTooNew, match=r"schema version 99, newer than this release's 1"):
        await open_store(store, path)
    assert contents(path) == before


def _with_step(base: Schema, step: str) -> Schema:
    return Schema(base.store, (*base.steps, *schema(base.store, step).steps))


def test_an_appended_step_upgrades_the_kept_file_with_its_data(tmp_path: Path) -> None:
    path = restore("v1", "packages", tmp_path / "packages.sqlite")
    # What a next release would append: a column, backfilled from the data already there.
    v2 = _with_step(
        PACKAGES,
        """ALTER TABLE builds ADD COLUMN size_mb INTEGER NOT NULL DEFAULT 0;
        UPDATE builds SET size_mb = total_bytes / 1024;""",
    )
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        assert migrate(db, v2, str(path)) == 1
        assert db.execute("SELECT name, size_mb FROM builds").fetchall() == [("nsanje-s1", 2)]
        assert migrate(db, v2, str(path)) == 2  # already there: nothing runs twice
    assert user_version(path) == 2


def test_a_failing_step_changes_nothing(tmp_path: Path) -> None:
    path = restore("v1", "packages", tmp_path / "packages.sqlite")
    broken = _with_step(
        PACKAGES,
        """ALTER TABLE builds ADD COLUMN size_mb INTEGER;
        UPDATE no_such_table SET x = 1;""",
    )
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
            migrate(db, broken, str(path))
        columns = [row[1] for row in db.execute("PRAGMA table_info(builds)")]
    assert "size_mb" not in columns and user_version(path) == 1


def test_scripts_split_into_whole_statements() -> None:
    script = "CREATE TABLE a (x TEXT DEFAULT ';');\nINSERT INTO a VALUES ('1;2');\n"
    assert split(script) == [
        "CREATE TABLE a (x TEXT DEFAULT ';');",
        "INSERT INTO a VALUES ('1;2');",
    ]
    with pytest.raises(ValueError, match="incomplete"):
        split("CREATE TABLE b (x")


def test_storage_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    restore("v1", "courses", data / "courses.sqlite", user_version=0)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "COLUMNS": "200", "EVEREST_DATA_DIR": str(data)}  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["everest-elearn", *args], capture_output=True, text=True, env=env,
                              timeout=120, check=False)  # fmt: skip

    shown = run("storage", "versions")
    assert shown.returncode == 0, shown.stderr
    assert "upgraded at next open" in shown.stdout and "not created yet" in shown.stdout
    done = run("storage", "migrate")
    assert done.returncode == 0 and "courses store: version 0 -> 1" in done.stdout
    assert user_version(data / "courses.sqlite") == 1

    restore("v1", "packages", data / "packages.sqlite", user_version=7)
    assert run("storage", "versions").returncode == 1
    newer = run("storage", "migrate")
    assert newer.returncode == 1
    assert "schema version 7, newer than this release's 1" in newer.stdout + newer.stderr
    # Any command opening a newer store stops with that one line, the file untouched.
    with closing(sqlite3.connect(data / "courses.sqlite")) as db:
        db.execute("PRAGMA user_version = 2")
    refused = run("courses", "list")
    assert refused.returncode == 1
    assert "courses store has schema version 2" in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
