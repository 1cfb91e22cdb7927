"""Compose names its volumes after the project: `.env` fixes the name, so the commands the docs
show (``docker volume inspect everest_everest-state``) hold wherever the checkout lives."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from everest_elearn.images import ImageBuilder
from tests.deploy.compose import compose, filled_env
from tests.docs.blocks import DOCS
from tests.fixtures.images import images_settings

pytestmark = [pytest.mark.docker]
PROJECT = "everest"


def test_named_volumes_carry_the_project_name_the_docs_use(tmp_path: Path) -> None:
    assert f"docker volume inspect {PROJECT}_everest-state" in (
        DOCS / "admin" / "backups.md"
    ).read_text(encoding="utf-8")
    ImageBuilder(images_settings()).build_sync("agency")  # everest/agency:latest, cached by hash
    # A checkout folder of any name (here pytest's): compose would name the project after it.
    project = tmp_path / "everest-elearn-checkout"
    project.mkdir()
    env = filled_env(project)
    client = docker.from_env()
    # Nothing may be left from an earlier run: the test must see compose create the volume.
    for leftover in client.volumes.list(filters={"label": f"com.docker.compose.project={PROJECT}"}):
        pytest.fail(
            f"volume {leftover.name} of a compose project {PROJECT!r} exists on this engine"
        )
    done = compose(project, env, "up", "--no-start", "--no-deps", "--no-build", "agency")
    try:
        assert done.returncode == 0, done.stderr
        volume = client.volumes.get(f"{PROJECT}_everest-state")
        assert volume.attrs["Labels"]["com.docker.compose.project"] == PROJECT
        (container,) = client.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={PROJECT}"}
        )
        assert container.status == "created"  # never started: no stand-ins behind it here
    finally:
        down = compose(project, env, "down", "--volumes")
        assert down.returncode == 0, down.stderr
    assert not client.volumes.list(filters={"label": f"com.docker.compose.project={PROJECT}"})
