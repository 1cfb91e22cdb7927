"""``everest-elearn packages publish|shares|revoke`` on the embedded directory volumes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from typer.testing import CliRunner

from everest_elearn.cli import app
from everest_elearn.errors import InvalidInput, NotFound
from everest_elearn.packages.backends.directory import DirectoryVolumes
from everest_elearn.packages.results import results_volume_name

runner = CliRunner()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _results_of(root: Path, subject: str) -> None:
    volumes = DirectoryVolumes(root)
    volume = await volumes.create(results_volume_name(subject), {"everest.kind": "results"})
    async with volumes.writer(volume.name) as writer:
        await writer.write("maps/notes.txt", _once(b"flooded fields"), 14)


def test_publish_list_and_revoke_a_share(tmp_path: Path) -> None:
    env = {"EVEREST_DATA_DIR": str(tmp_path / "data"), "EVEREST_PACKAGES__VOLUMES": "directory",
           "EVEREST_CATALOGUE__LOAD_SAMPLES": "false", "COLUMNS": "250"}  # fmt: skip
    asyncio.run(_results_of(tmp_path / "data" / "volumes", "ann"))

    published = runner.invoke(
        app, ["packages", "publish", "flood-map", "--owner", "ann", "--grant", "user:bob",
              "--grant", "group:flood-course", "--licence", "CC0-1.0"], env=env,
    )  # fmt: skip
    assert published.exit_code == 0, published.output
    assert "group:flood-course, user:bob" in published.output and "1 (14 B)" in published.output
    name = next(w for w in published.output.split() if w.startswith("share-ann-"))

    for who, sees in ((["--user", "bob"], True), (["--user", "eve"], False),
                      (["--user", "eve", "--group", "flood-course"], True), ([], True)):  # fmt: skip
        listed = runner.invoke(app, ["packages", "shares", *who], env=env)
        assert listed.exit_code == 0, listed.output
        assert (name in listed.output) is sees, (who, listed.output)

    bad = runner.invoke(app, ["packages", "publish", "../up", "--owner", "ann"], env=env)
    # Domain errors reach ``main`` (one red line there) as they are.
    assert isinstance(bad.exception, InvalidInput) and bad.exception.where == "name"
    revoked = runner.invoke(app, ["packages", "revoke", name], env=env)
    assert revoked.exit_code == 0, revoked.output
    assert name not in runner.invoke(app, ["packages", "shares"], env=env).output
    again = runner.invoke(app, ["packages", "revoke", name], env=env)
    assert isinstance(again.exception, NotFound)
