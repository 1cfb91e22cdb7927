"""The spawner on a real hub and Docker: course packages read-only, results read-write and kept.

Checked inside the containers with commands, not through a UI.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import docker
import pytest

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.model import Course, PackageRef
from everest_elearn.courses.service import CourseService
from tests.fixtures.hub import Hub

pytestmark = [pytest.mark.docker, pytest.mark.services]


def make_package_volume(image: str, volume: str, files: dict[str, str]) -> None:
    """A package volume as the packages feature leaves it: files owned by root, world-readable."""
    client = docker.from_env()
    client.volumes.create(volume, labels={"everest.kind": "package"})
    script = " && ".join(f"printf %s '{text}' > /v/{name}" for name, text in files.items())
    client.containers.run(
        image,
        ["sh", "-c", script + " && chmod -R a+rX /v"],
        user="0",
        network_mode="none",
        volumes={volume: {"bind": "/v", "mode": "rw"}},
        remove=True,
    )


def cores(container: Any) -> float:
    """The CPU limit Docker enforces (DockerSpawner sets a quota per 100 ms period)."""
    config = container.attrs["HostConfig"]
    return float(config["CpuQuota"]) / float(config["CpuPeriod"])


def run(container: object, *cmd: str) -> tuple[int, str]:
    result = container.exec_run(list(cmd))  # type: ignore[attr-defined]
    return result.exit_code, result.output.decode()


@pytest.fixture(scope="module")
def courses(hub: Hub, singleuser_image: str) -> dict[str, str]:
    """Two courses, each with its own package; alice in forest, bob in ocean."""
    tag = hub.volume_tag
    forest, ocean = f"forest-{tag}", f"ocean-{tag}"
    make_package_volume(singleuser_image, f"everest-pkg-{forest}-1", {"README.txt": "forest data"})
    make_package_volume(singleuser_image, f"everest-pkg-{ocean}-2", {"README.txt": "ocean data"})
    service = CourseService(SqliteCourseStore(hub.data_dir / "courses.sqlite"))

    async def setup() -> None:
        await service.create(Course("forest", "Forests", packages=(PackageRef(forest, "1"),)))
        await service.create(
            Course("ocean", "Oceans", packages=(PackageRef(ocean, "2"),),
                   mem_limit="512M", cpu_limit=0.5)
        )  # fmt: skip
        await service.enrol("forest", ["alice"])
        await service.enrol("ocean", ["bob"])

    asyncio.run(setup())
    return {"forest": forest, "ocean": ocean}


def test_course_package_is_mounted_read_only(hub: Hub, courses: dict[str, str]) -> None:
    hub.start_server("alice")
    container = hub.container("alice")
    path = f"/home/jovyan/data/{courses['forest']}"

    code, out = run(container, "cat", f"{path}/README.txt")
    assert (code, out) == (0, "forest data")
    code, out = run(container, "touch", f"{path}/mine.txt")
    assert code != 0 and "Read-only file system" in out
    # The other course's package is not in this container at all.
    code, _ = run(container, "ls", f"/home/jovyan/data/{courses['ocean']}")
    assert code != 0
    sources = {m.get("Name") for m in container.attrs["Mounts"]}
    assert f"everest-pkg-{courses['ocean']}-2" not in sources
    assert f"everest-pkg-{courses['forest']}-1" in sources
    # forest sets no limits: the hub's (1G, 2 cores) apply.
    assert container.attrs["HostConfig"]["Memory"] == 1024**3
    assert cores(container) == 2


def test_results_are_writable_by_jovyan_and_survive_a_restart(
    hub: Hub, courses: dict[str, str]
) -> None:
    hub.start_server("alice")
    container = hub.container("alice")
    code, out = run(
        container,
        "sh",
        "-c",
        "echo 42 > /home/jovyan/results/answer.txt && stat -c %u /home/jovyan/results",
    )
    assert (code, out.strip()) == (0, "1000")

    hub.stop_server("alice")
    with pytest.raises(docker.errors.NotFound):
        hub.container("alice")
    hub.start_server("alice")
    code, out = run(hub.container("alice"), "cat", "/home/jovyan/results/answer.txt")
    assert (code, out.strip()) == (0, "42")


def test_participant_of_another_course_does_not_get_the_package(
    hub: Hub, courses: dict[str, str]
) -> None:
    hub.start_server("bob")
    container = hub.container("bob")
    code, out = run(container, "ls", "/home/jovyan/data")
    assert code == 0
    assert courses["ocean"] in out.split()
    assert courses["forest"] not in out
    code, out = run(container, "cat", f"/home/jovyan/data/{courses['ocean']}/README.txt")
    assert (code, out) == (0, "ocean data")
    # The ocean course's own limits.
    assert container.attrs["HostConfig"]["Memory"] == 512 * 1024**2
    assert cores(container) == 0.5
    hub.stop_server("bob")


def test_missing_package_fails_in_words_a_participant_understands(
    hub: Hub, courses: dict[str, str]
) -> None:
    service = CourseService(SqliteCourseStore(hub.data_dir / "courses.sqlite"))

    async def setup() -> None:
        await service.create(
            Course("soil", "Soils", packages=(PackageRef(f"soil-{hub.volume_tag}", "9"),))
        )
        await service.enrol("soil", ["carol"])

    asyncio.run(setup())
    text = failed_spawn_text(hub, "carol")
    assert "is not available yet. Please tell the course manager." in text


def failed_spawn_text(hub: Hub, user: str) -> str:
    """What the hub tells the user of a spawn that fails (no server is left running)."""
    with hub.client() as api:
        api.post(f"/users/{user}")
        response = api.post(f"/users/{user}/server")
        # Fast failures come back on the request itself; slow ones through the progress events.
        if response.status_code in (201, 202):
            for _ in range(120):
                if not api.get(f"/users/{user}").json().get("pending"):
                    break
                time.sleep(0.5)
            text = api.get(f"/users/{user}/server/progress").text
        else:
            text = response.text
        assert not api.get(f"/users/{user}").json().get("servers")
    return text


def test_a_missing_course_image_fails_in_words_a_participant_understands(
    hub: Hub, courses: dict[str, str]
) -> None:
    service = CourseService(SqliteCourseStore(hub.data_dir / "courses.sqlite"))

    async def setup() -> None:
        await service.create(Course("lakes", "Lakes", image="everest/absent:none"))
        await service.enrol("lakes", ["dan"])

    asyncio.run(setup())
    text = failed_spawn_text(hub, "dan")
    assert "The software image 'everest/absent:none' for your course is not installed" in text
    assert "Please tell the course manager." in text
