"""The agency image run as compose's ``agency`` service runs it, and calls to it from a notebook,
for the CI stack's tests."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import docker
import httpx

from everest_elearn.packages.results import results_volume_name
from tests.fixtures.hub import Hub

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


def remove_results_volumes(*users: str) -> None:
    client = docker.from_env()
    for volume in client.volumes.list():
        labels = volume.attrs.get("Labels") or {}
        if volume.name in {results_volume_name(u) for u in users} or labels.get(
            "everest.owner"
        ) in set(users):
            volume.remove(force=True)


# What a participant's notebook runs to search, share or revoke: the agency's API with the token
# the hub gave the server (EVEREST_AGENCY_URL and JUPYTERHUB_API_TOKEN are in its environment).
AGENCY_CALL = (
    "import json, os, sys, urllib.request as u; "
    "r = u.Request(os.environ['EVEREST_AGENCY_URL'] + sys.argv[2], method=sys.argv[1], "
    "data=sys.argv[3].encode() if len(sys.argv) > 3 else None, "
    "headers={'Authorization': 'Bearer ' + os.environ['JUPYTERHUB_API_TOKEN'], "
    "'Content-Type': 'application/json'}); "
    "a = u.urlopen(r, timeout=120); print(a.status, a.read().decode())"
)


def agency_call(hub: Hub, user: str, *args: str) -> tuple[int, str]:
    """(status, body) of the call made in ``user``'s notebook container."""
    done = hub.container(user).exec_run(["python3", "-c", AGENCY_CALL, *args])
    assert done.exit_code == 0, done.output.decode()[-3000:]
    status, _, body = done.output.decode().strip().partition(" ")
    return int(status), body
