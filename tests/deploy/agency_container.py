"""The agency image run as compose's ``agency`` service runs it, for the CI stack's tests."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import docker
import httpx

SOCKET = "/var/run/docker.sock"


def start_agency_container(
    image: str, env: dict[str, str], name: str, data_dir: Path | None = None
) -> tuple[Any, str]:
    """Host network, settings from the environment; with ``data_dir``, that folder is its state
    (the ``everest-state`` volume it shares with the hub, owned by the agency's uid 1000 as the
    image makes it) and the Docker socket is mounted with the socket's group, as compose does.
    Returns the container and its URL once it answers."""
    volumes: dict[str, dict[str, str]] = {}
    group_add: list[str] = []
    if data_dir is not None:
        os.chown(data_dir, 1000, 1000)
        env = {**env, "EVEREST_DATA_DIR": str(data_dir)}
        volumes = {str(data_dir): {"bind": str(data_dir), "mode": "rw"},
                   SOCKET: {"bind": SOCKET, "mode": "rw"}}  # fmt: skip
        group_add = [str(os.stat(SOCKET).st_gid)]
    container = docker.from_env().containers.run(
        image, detach=True, network_mode="host", environment=env, name=name,
        volumes=volumes, group_add=group_add,
    )  # fmt: skip
    url = f"http://127.0.0.1:{env['EVEREST_API__PORT']}"
    deadline = time.monotonic() + 120
    while True:
        container.reload()
        assert container.status in ("created", "running"), container.logs().decode()[-3000:]
        try:
            if httpx.get(f"{url}/opensearch/description.xml", timeout=2).status_code == 200:
                return container, url
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, container.logs().decode()[-3000:]
        time.sleep(0.5)
