"""Module repository and the merge that never destroys a participant's edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from everest_elearn.errors import InvalidInput, NotFound
from everest_elearn.modules.merge import merge
from everest_elearn.modules.repository import ModuleRepository
from tests.hub.modules_helpers import publish


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_merge_adds_updates_offers_and_keeps(tmp_path: Path) -> None:
    upstream, home = tmp_path / "upstream", tmp_path / "home"
    write(upstream, {"a.ipynb": "a1", "b.ipynb": "b1", "d.txt": "d1", "sub/e.py": "e1"})
    first = merge(upstream, home, "main", "c1")
    assert sorted(first["added"]) == ["a.ipynb", "b.ipynb", "d.txt", "sub/e.py"]

    (home / "a.ipynb").write_text("a1 with my notes")  # the participant's edit
    (home / "d.txt").unlink()  # the participant removed it
    write(upstream, {"a.ipynb": "a2", "b.ipynb": "b2", "c.ipynb": "c2"})
    second = merge(upstream, home, "main", "c2")

    assert second["added"] == ["c.ipynb"]
    assert second["updated"] == ["b.ipynb"]
    assert second["offered"] == ["a.ipynb"]
    assert second["kept"] == ["d.txt"]
    assert (home / "a.ipynb").read_text() == "a1 with my notes"
    assert (home / "a.upstream.ipynb").read_text() == "a2"
    assert (home / "b.ipynb").read_text() == "b2"
    assert not (home / "d.txt").exists()
    state = json.loads((home / ".everest-module.json").read_text())
    assert state["commit"] == "c2"

    # A file the participant made that upstream later adds too: theirs is kept, upstream offered.
    (home / "f.md").write_text("mine")
    write(upstream, {"f.md": "theirs"})
    third = merge(upstream, home, "main", "c3")
    assert third["offered"] == ["f.md"]
    assert (home / "f.md").read_text() == "mine"
    assert (home / "f.upstream.md").read_text() == "theirs"


async def test_repository_resolves_refs_and_archives(tmp_path: Path) -> None:
    repo = ModuleRepository(tmp_path / "modules")
    bare = await repo.create("intro")
    first = publish(bare, tmp_path / "work", {"intro.ipynb": "{}"}, "first", tag="v1")
    second = publish(bare, tmp_path / "work", {"intro.ipynb": '{"cells": []}'}, "second")

    assert await repo.names() == ["intro"]
    assert await repo.resolve("intro", "main") == second
    assert await repo.resolve("intro", "v1") == first
    assert await repo.resolve("intro", first[:10]) == first
    data = await repo.archive("intro", first, "x/")
    assert b"x/intro.ipynb" in data
    with pytest.raises(NotFound):
        await repo.resolve("intro", "no-such-branch")
    with pytest.raises(NotFound):
        await repo.resolve("absent", "main")
    with pytest.raises(InvalidInput):
        await repo.resolve("intro", "--upload-pack=evil")
    with pytest.raises(InvalidInput):
        repo.path("../escape")


async def test_a_module_is_mirrored_from_a_git_remote(tmp_path: Path) -> None:
    """Modules kept elsewhere (any git remote the administrator trusts) are fetched and pinned."""
    remote = tmp_path / "elsewhere" / "intro.git"
    await ModuleRepository(remote.parent).create("intro")
    first = publish(remote, tmp_path / "work", {"intro.ipynb": "{}"}, "first", tag="v1")
    repo = ModuleRepository(tmp_path / "modules")
    await repo.fetch("intro", str(remote))
    assert await repo.resolve("intro", "main") == first
    assert await repo.resolve("intro", "v1") == first
    second = publish(remote, tmp_path / "work", {"intro.ipynb": '{"cells": []}'}, "second")
    await repo.fetch("intro", str(remote))
    assert await repo.resolve("intro", "main") == second
    assert b"x/intro.ipynb" in await repo.archive("intro", second, "x/")
    with pytest.raises(InvalidInput):
        await repo.fetch("intro", "--upload-pack=touch /tmp/owned")
