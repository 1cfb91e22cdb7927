"""Modules reach the participant's home at spawn and on request, and their edits are never lost."""

from __future__ import annotations

import asyncio
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

    # A restart syncs again and still keeps the participant's version.
    hub.stop_server("erin")
    publish(bare, work, {"notes.md": "n3"}, "third")
    hub.start_server("erin")
    assert sh(hub, "erin", f"cat {HOME}/intro.ipynb") == "v1my answer\n"
    assert sh(hub, "erin", f"cat {HOME}/notes.md") == "n3"
    hub.stop_server("erin")
