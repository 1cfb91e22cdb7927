"""``everest-elearn up`` without a Docker engine: local processes, packages as folders, and it says so."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, ModulePin, PackageRef
from everest_elearn.courses.service import CourseService
from tests.fixtures.oidc import free_port

pytestmark = [pytest.mark.services]
ROOT = Path(__file__).resolve().parents[2]


def test_up_falls_back_to_local_processes_and_serves_the_demo_course(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = "t" * 32
    hub_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVEREST_", "JUPYTERHUB_"))}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
            "EVEREST_DATA_DIR": str(data),
            "EVEREST_API__PORT": str(free_port()),
            "EVEREST_HUB__PORT": str(hub_port),
            "EVEREST_HUB__HUB_PORT": str(free_port()),
            "EVEREST_HUB__PROXY_API_PORT": str(free_port()),
            "EVEREST_HUB__COURSES_PORT": str(free_port()),
            "EVEREST_HUB__ADMIN_API_TOKEN": token,
            "EVEREST_HUB__IDLE_TIMEOUT": "0",
            # No engine at this address: the fallback must happen and be said.
            "EVEREST_HUB__DOCKER_URL": f"unix://{tmp_path}/no-docker.sock",
        }
    )
    log = (tmp_path / "up.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "everest_elearn.cli", "up"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{hub_port}/hub/api",
        headers={"Authorization": f"token {token}"},
        timeout=30,
    )
    try:
        deadline = time.monotonic() + 240
        # up's own closing line; JupyterHub logs "Adding route for Hub:" earlier.
        while "(demo course: 'demo')" not in (tmp_path / "up.log").read_text():
            assert process.poll() is None, (tmp_path / "up.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()[-3000:]
            time.sleep(1)
        said = (tmp_path / "up.log").read_text()
        assert "no Docker engine" in said and "packages are read-only folders" in said
        assert "demo sign-in" in said

        package = data / "volumes" / "everest-pkg-demo-data-1"
        package.mkdir(parents=True)
        (package / "README.txt").write_text("demo data")
        service = CourseService(SqliteCourseStore(data / "courses.sqlite"))
        course = Course(
            "demo", "Demo course", modules=(ModulePin("welcome"),),
            packages=(PackageRef("demo-data", "1"),),
        )  # fmt: skip
        asyncio.run(service.update(course))

        created = api.post("/users/demo")
        assert created.status_code in (201, 409), created.text
        assert api.post("/users/demo/server").status_code in (201, 202)
        deadline = time.monotonic() + 180
        while not api.get("/users/demo").json().get("servers", {}).get("", {}).get("ready"):
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()[-3000:]
            time.sleep(1)
        home = data / "hub" / "homes" / "demo"
        assert (home / "courses" / "demo" / "welcome" / "welcome.ipynb").is_file()
        # What the server sees (its contents API): the package, read-only; results writable.
        contents = f"http://127.0.0.1:{hub_port}/user/demo/api/contents"
        with httpx.Client(headers={"Authorization": f"token {token}"}, timeout=30) as server:
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
        assert api.delete("/users/demo/server").status_code in (202, 204)
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
