"""``everest-elearn courses`` and ``modules`` on a temporary data folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from everest_elearn.cli import app


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # The CLI is an edge that reads the environment: each invocation gets its own.
    return {"EVEREST_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}


def test_create_enrol_list_and_feedback(env: dict[str, str]) -> None:
    runner = CliRunner(env=env)
    created = runner.invoke(
        app,
        ["courses", "create", "forest", "--title", "Forests", "--starts", "2025-03-01",
         "--module", "intro@v1", "--package", "s2-forest:1", "--idp-group", "cohort-forest"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    enrolled = runner.invoke(app, ["courses", "enrol", "forest", "alice", "bob"])
    assert "enrolled 2 new: alice, bob" in enrolled.output
    listed = runner.invoke(app, ["courses", "list"])
    assert (
        "forest" in listed.output and "intro@v1" in listed.output and "s2-forest:1" in listed.output
    )
    feedback = runner.invoke(app, ["courses", "feedback", "forest", "--csv"])
    assert feedback.output.startswith("course,module,participant,rating,comment,created")


def test_bad_input_is_one_red_line_and_exit_1(env: dict[str, str], tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "everest_elearn.cli"]
    done = subprocess.run(
        [*cli, "courses", "create", "Bad Id", "--title", "x"],
        env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == "error: course id: 'Bad Id' is not a valid course id"


def test_modules_create_and_resolve(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner(env=env)
    created = runner.invoke(app, ["modules", "create", "intro"])
    assert created.exit_code == 0 and "git remote add platform" in created.output
    bare = created.output.strip().rsplit(" ", 1)[-1]
    work = tmp_path / "work"
    work.mkdir()
    git = ["git", "-c", "user.name=d", "-c", "user.email=d@example.org"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=work, check=True)
    (work / "a.ipynb").write_text("{}")
    subprocess.run([*git, "add", "."], cwd=work, check=True)
    subprocess.run([*git, "commit", "-qm", "a"], cwd=work, check=True)
    subprocess.run([*git, "push", "-q", bare, "main"], cwd=work, check=True)
    resolved = runner.invoke(app, ["modules", "resolve", "intro", "main"])
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, capture_output=True, text=True)
    assert resolved.output.strip() == head.stdout.strip()
