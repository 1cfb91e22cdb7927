"""``everest-elearn up``: the agency and the hub with a demo course, in containers when a Docker
engine answers, else as local processes with packages as read-only folders (and it says so)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import httpx
import pytest

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, ModulePin, PackageRef
from everest_elearn.courses.service import CourseService
from tests.fixtures.oidc import free_port

pytestmark = [pytest.mark.services]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Up:
    """A running ``everest-elearn up``: its data folder, hub API client, admin token and log."""

    data: Path
    hub_port: int
    api_port: int
    token: str
    api: httpx.Client
    log: Path

    def said(self) -> str:
        return self.log.read_text()

    def start_demo_server(self) -> None:
        created = self.api.post("/users/demo")
        assert created.status_code in (201, 409), created.text
        assert self.api.post("/users/demo/server").status_code in (201, 202)
        deadline = time.monotonic() + 180
        while not self.api.get("/users/demo").json().get("servers", {}).get("", {}).get("ready"):
            assert time.monotonic() < deadline, self.said()[-3000:]
            time.sleep(1)


@contextlib.contextmanager
def running_up(tmp_path: Path, settings: dict[str, str]) -> Iterator[Up]:
    """``everest-elearn up`` with ``settings`` on fresh ports; stopped (SIGTERM) at the end."""
    data = tmp_path / "data"
    token = "t" * 32
    hub_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVEREST_", "JUPYTERHUB_"))}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
            "EVEREST_DATA_DIR": str(data),
            "EVEREST_API__PORT": str(api_port),
            "EVEREST_HUB__PORT": str(hub_port),
            "EVEREST_HUB__HUB_PORT": str(free_port()),
            "EVEREST_HUB__PROXY_API_PORT": str(free_port()),
            "EVEREST_HUB__COURSES_PORT": str(free_port()),
            "EVEREST_HUB__ADMIN_API_TOKEN": token,
            "EVEREST_HUB__IDLE_TIMEOUT": "0",
            **settings,
        }
    )
    log = tmp_path / "up.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "everest_elearn.cli", "up"], cwd=ROOT, env=env,
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{hub_port}/hub/api",
        headers={"Authorization": f"token {token}"},
        timeout=30,
    )
    try:
        deadline = time.monotonic() + 240
        # up's own closing line; JupyterHub logs "Adding route for Hub:" earlier.
        while "(demo course: 'demo')" not in log.read_text():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        yield Up(data, hub_port, api_port, token, api, log)
    finally:
        api.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # up stops the hub and the agency it started
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the group this test started
                process.wait(timeout=10)
        # Nothing of the group this test started may outlive it (a hub stuck while starting).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_up_falls_back_to_local_processes_and_serves_the_demo_course(tmp_path: Path) -> None:
    # No engine at this address: the fallback must happen and be said.
    no_engine = {"EVEREST_HUB__DOCKER_URL": f"unix://{tmp_path}/no-docker.sock"}
    with running_up(tmp_path, no_engine) as up:
        said = up.said()
        assert "no Docker engine" in said and "packages are read-only folders" in said
        assert "demo sign-in" in said

        package = up.data / "volumes" / "everest-pkg-demo-data-1"
        package.mkdir(parents=True)
        (package / "README.txt").write_text("demo data")
        service = CourseService(SqliteCourseStore(up.data / "courses.sqlite"))
        course = Course(
            "demo", "Demo course", modules=(ModulePin("welcome"),),
            packages=(PackageRef("demo-data", "1"),),
        )  # fmt: skip
        asyncio.run(service.update(course))

        up.start_demo_server()
        home = up.data / "hub" / "homes" / "demo"
        assert (home / "courses" / "demo" / "welcome" / "welcome.ipynb").is_file()
        # What the server sees (its contents API): the package, read-only; results writable.
        contents = f"http://127.0.0.1:{up.hub_port}/user/demo/api/contents"
        with httpx.Client(headers={"Authorization": f"token {up.token}"}, timeout=30) as server:
            readme = server.get(f"{contents}/data/demo-data/README.txt")
            assert readme.status_code == 200, readme.text
            assert readme.json()["content"] == "demo data"
            note = {"type": "file", "format": "text", "content": "mine"}
            refused = server.put(f"{contents}/data/demo-data/mine.txt", json=note)
            assert refused.status_code >= 400
            assert "Read-only file system" in refused.text, refused.text
            assert server.put(f"{contents}/results/mine.txt", json=note).status_code == 201
        assert not (package / "mine.txt").exists()
        assert (home / "results" / "mine.txt").read_text() == "mine"
        assert up.api.delete("/users/demo/server").status_code in (202, 204)


@pytest.mark.docker
def test_up_with_a_docker_engine_runs_the_demo_course_in_a_container(
    tmp_path: Path, singleuser_image: str
) -> None:
    tag = "t" + secrets.token_hex(4)
    settings = {
        "EVEREST_HUB__NOTEBOOK_IMAGE": singleuser_image,
        "EVEREST_HUB__INSTANCE": tag,
        "EVEREST_HUB__HOME_VOLUME": f"everest-home-{tag}-{{username}}",
        "EVEREST_HUB__RESULTS_VOLUME": f"everest-results-{tag}-{{username}}",
        "EVEREST_HUB__MEM_LIMIT": "1G",
    }
    client = docker.from_env()
    try:
        with running_up(tmp_path, settings) as up:
            said = up.said()
            assert "no Docker engine" not in said and "demo sign-in" in said
            # The agency and the hub together.
            assert (
                httpx.get(f"http://127.0.0.1:{up.api_port}/health", timeout=10).status_code == 200
            )
            up.start_demo_server()
            labels = ["everest.kind=notebook", "everest.owner=demo", f"everest.hub={tag}"]
            [container] = client.containers.list(filters={"label": labels})
            assert container.attrs["HostConfig"]["NetworkMode"] == "host"
            welcome = container.exec_run(["cat", "/home/jovyan/courses/demo/welcome/welcome.ipynb"])
            assert welcome.exit_code == 0 and b"# Welcome" in welcome.output
        # Stopping up stops the demo server with the hub.
        assert not client.containers.list(all=True, filters={"label": labels})
    finally:
        for container in client.containers.list(all=True, filters={"label": f"everest.hub={tag}"}):
            container.remove(force=True)
        for volume in client.volumes.list():
            if f"-{tag}-" in volume.name:
                volume.remove(force=True)
