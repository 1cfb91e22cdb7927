"""Helpers for module tests: a developer's working clone pushing to the module repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

GIT = [
    "git",
    "-c",
    "user.name=Module Dev",
    "-c",
    "user.email=dev@example.org",
    "-c",
    "init.defaultBranch=main",
]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def publish(
    bare: Path, work: Path, files: dict[str, str | None], message: str, tag: str | None = None
) -> str:
    """Write (or delete, for None) files in the developer's clone, commit and push; returns the commit."""
    if not work.exists():
        work.mkdir(parents=True)
        git(work, "init", "-q")
        git(work, "remote", "add", "origin", str(bare))
    for name, text in files.items():
        path = work / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    if tag:
        git(work, "tag", tag)
    git(
        work, "push", "-q", "origin", "HEAD:refs/heads/main", *([f"refs/tags/{tag}"] if tag else [])
    )
    return git(work, "rev-parse", "HEAD").strip()
