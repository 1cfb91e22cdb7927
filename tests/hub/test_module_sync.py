"""Modules reach the participant's home at spawn and on request, and their edits are never lost."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, ModulePin
from everest_elearn.courses.service import CourseService
from everest_elearn.modules.repository import ModuleRepository
from tests.fixtures.hub import Hub, user_token
from tests.hub.modules_helpers import publish

pytestmark = [pytest.mark.docker, pytest.mark.services]

HOME = "/home/jovyan/courses/eo101/intro"


def sh(hub: Hub, user: str, script: str) -> str:
    result = hub.container(user).exec_run(["sh", "-c", script])
    assert result.exit_code == 0, result.output.decode()
    out: str = result.output.decode()
    return out


def my_modules(hub: Hub, token: str) -> dict[str, dict[str, object]]:
    with httpx.Client(
        base_url=hub.url + "/services/courses/api",
        timeout=60,
        headers={"Authorization": f"token {token}"},
    ) as api:
        courses = api.get("/me").json()
    return {m["name"]: m for c in courses for m in c["modules"]}


def spawn_watching_progress(hub: Hub, user: str) -> str:
    """Start the user's server and return its progress events, read while it spawns."""
    answers: list[int] = []

    def request() -> None:
        with hub.client() as api:
            answers.append(api.post(f"/users/{user}/server").status_code)

    spawn = threading.Thread(target=request)
    with hub.client() as api:
        spawn.start()
        while not api.get(f"/users/{user}").json().get("pending"):
            assert spawn.is_alive() or not answers, "the spawn ended before it could be watched"
            time.sleep(0.05)
        progress = api.get(f"/users/{user}/server/progress", timeout=300).text
    spawn.join(timeout=300)
    assert answers and answers[0] in (201, 202)
    return progress


def test_module_arrives_updates_and_keeps_participant_edits(hub: Hub, tmp_path: Path) -> None:
    repo = ModuleRepository(hub.data_dir / "modules")
    work = tmp_path / "dev-clone"
    bare = asyncio.run(repo.create("intro"))
    publish(bare, work, {"intro.ipynb": "v1", "notes.md": "n1"}, "first")
    service = CourseService(SqliteCourseStore(hub.data_dir / "courses.sqlite"))

    async def setup() -> None:
        await service.create(Course("eo101", "EO 101", modules=(ModulePin("intro", "main"),)))
        await service.enrol("eo101", ["erin"])

    asyncio.run(setup())

    hub.start_server("erin")
    assert sh(hub, "erin", f"cat {HOME}/intro.ipynb") == "v1"
    assert sh(hub, "erin", f"stat -c %u {HOME}/intro.ipynb").strip() == "1000"
    sh(hub, "erin", f"echo 'my answer' >> {HOME}/intro.ipynb")  # the participant works
    token = user_token(hub, "erin", "access:services!service=courses")
    assert my_modules(hub, token)["intro"]["update_available"] is False

    publish(bare, work, {"intro.ipynb": "v2", "notes.md": "n2", "extra.ipynb": "x"}, "second")
    assert my_modules(hub, token)["intro"]["update_available"] is True
    # The participant sees it on the courses page.
    with httpx.Client(timeout=60, headers={"Authorization": f"token {token}"}) as browser:
        page = browser.get(hub.url + "/services/courses/")
    assert page.status_code == 200
    assert re.search(r"<td>intro</td><td>main: <span class='update'>update available", page.text)

    # On request, into the running server.
    with httpx.Client(
        base_url=hub.url + "/services/courses/api",
        timeout=120,
        headers={"Authorization": f"token {token}"},
    ) as api:
        synced = api.post("/me/sync")
    assert synced.status_code == 200, synced.text
    [result] = synced.json()
    assert result["offered"] == ["intro.ipynb"]
    assert sorted(result["updated"]) == ["notes.md"]
    assert result["added"] == ["extra.ipynb"]
    assert sh(hub, "erin", f"cat {HOME}/intro.ipynb") == "v1my answer\n"
    assert sh(hub, "erin", f"cat {HOME}/intro.upstream.ipynb") == "v2"
    assert sh(hub, "erin", f"cat {HOME}/notes.md") == "n2"
    assert my_modules(hub, token)["intro"]["update_available"] is False

    # A restart syncs again and still keeps the participant's version; the progress page says
    # what happens.
    hub.stop_server("erin")
    publish(bare, work, {"notes.md": "n3"}, "third")
    progress = spawn_watching_progress(hub, "erin")
    assert "Mounting 0 data package(s) read-only" in progress
    assert "Bringing 1 course module(s) into your home folder" in progress
    assert "Module eo101/intro is up to date" in progress, progress
    assert '"ready": true' in progress
    hub.start_server("erin")
    assert sh(hub, "erin", f"cat {HOME}/intro.ipynb") == "v1my answer\n"
    assert sh(hub, "erin", f"cat {HOME}/notes.md") == "n3"
    hub.stop_server("erin")
