"""The operations guide's fix for root-owned mounts, run as shown on a real Docker volume."""

from __future__ import annotations

import secrets
import subprocess

import docker
import pytest

from everest_elearn.images import BuiltImage
from tests.docs.blocks import DOCS, inline_spans

pytestmark = [pytest.mark.docker]
NOTEBOOK_UID = "1000:1000"


def chown_command() -> str:
    spans = [t for _, t in inline_spans(DOCS / "admin" / "operations.md")]
    (command,) = [t for t in spans if t.startswith("docker run") and "chown" in t]
    return command


def test_root_owned_results_volume_fix(notebook_image: BuiltImage) -> None:
    user = f"doc-{secrets.token_hex(4)}"
    volume = f"everest-results-{user}"
    client = docker.from_env()
    client.volumes.create(volume)
    try:
        # A volume a root process wrote first, as after a manual `docker run`.
        client.containers.run(
            notebook_image.tag, ["sh", "-c", "mkdir -p /v/out && echo x > /v/out/a"],
            user="0", network_mode="none", remove=True, volumes={volume: {"bind": "/v"}},
        )  # fmt: skip
        as_participant = ["sh", "-c", "echo y > /v/out/b && echo written"]
        with pytest.raises(docker.errors.ContainerError, match="Permission denied"):
            client.containers.run(
                notebook_image.tag, as_participant, user=NOTEBOOK_UID, network_mode="none",
                remove=True, volumes={volume: {"bind": "/v"}},
            )  # fmt: skip

        command = chown_command().replace("<user>", user)
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{command}: {done.stderr}"

        out = client.containers.run(
            notebook_image.tag, as_participant, user=NOTEBOOK_UID, network_mode="none",
            remove=True, volumes={volume: {"bind": "/v"}},
        )  # fmt: skip
        assert out.strip() == b"written"
    finally:
        client.volumes.get(volume).remove(force=True)
