"""docker-compose.yml builds the project's images itself: contexts from deploy/contexts.py, the
base chosen by the one ``BASE_IMAGE`` setting of ``.env`` (here the local Debian base, as no
registry serves the public one), RUN steps on the host's network (this engine has no bridge)."""

from __future__ import annotations

import secrets
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import docker
import pytest

from everest_elearn.images import LOCAL_BASE, ImageBuilder
from tests.deploy.compose import ROOT, compose, filled_env
from tests.fixtures.images import images_settings

pytestmark = [pytest.mark.docker]


def test_compose_builds_the_agency_image_from_the_base_in_env(tmp_path: Path) -> None:
    # The local base (made from Debian packages when missing), as the images builder makes it.
    ImageBuilder(images_settings()).build_sync("agency")
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "contexts.py"), str(tmp_path / "deploy" / "build")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tag = f"compose-{secrets.token_hex(4)}"
    env = filled_env(tmp_path, {"BASE_IMAGE": LOCAL_BASE, "EVEREST_IMAGE_TAG": tag})
    client = docker.from_env()
    image = f"everest/agency:{tag}"
    try:
        # No layer cache: every RUN step (pip from PyPI) runs as on a fresh host.
        built = compose(tmp_path, env, "build", "--no-cache", "agency")
        assert built.returncode == 0, (built.stdout + built.stderr)[-3000:]
        layers = client.images.get(image).attrs["RootFS"]["Layers"]
        base_layers = client.images.get(LOCAL_BASE).attrs["RootFS"]["Layers"]
        assert layers[: len(base_layers)] == base_layers  # built on the base .env named
        version = client.containers.run(image, ["everest-elearn", "--version"], remove=True,
                                         network_mode="none")  # fmt: skip
        assert version.decode().strip() == metadata.version("everest-elearn")
    finally:
        if client.images.list(name=image):
            client.images.remove(image)
