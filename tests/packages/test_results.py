"""Results volumes and shares: a snapshot with its manifest, granted read access, revoked by its owner."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from everest_elearn.errors import Forbidden, InvalidInput
from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.manifest import MANIFEST_PATH
from everest_elearn.packages.results import ResultsService, results_volume_name
from everest_elearn.packages.service import PackageService
from everest_elearn.packages.volumes import Volumes
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.fixtures.hub import BASE_IMAGE, ensure_base_image
from tests.packages.support import Provider, real_parts

ANN = Identity("ann@example.org", frozenset({Role.PARTICIPANT}), frozenset({"flood-course"}))
BOB = Identity("bob", frozenset({Role.PARTICIPANT}))
EVE = Identity("eve", frozenset({Role.PARTICIPANT}))


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@asynccontextmanager
async def results_on(volumes: Volumes, tmp_path: Path) -> AsyncIterator[ResultsService]:
    with Provider() as provider:
        async with real_parts(tmp_path, provider) as parts:
            service = await PackageService.open(
                Settings(data_dir=tmp_path / "data"), *parts, volumes=volumes
            )
            yield ResultsService(service)
            for build in await service.state.builds():
                await service._delete(build.name, build.version)
            for identity in (ANN, BOB):
                await volumes.remove(results_volume_name(identity.subject or ""))
            await service.close()


@pytest.fixture
async def results(volumes: Volumes, tmp_path: Path) -> AsyncIterator[ResultsService]:
    async with results_on(volumes, tmp_path) as service:
        yield service


async def test_publish_share_and_revoke(results: ResultsService) -> None:
    volume = await results.results_volume(ANN)
    async with results.volumes.writer(volume.name) as writer:
        await writer.write("maps/flood.tif", _once(b"raster bytes"), 12)
    share = await results.publish(
        ANN, {"name": "flood-map", "grant": ["user:bob"], "licence": "CC0"}
    )
    assert share["files"] == 1 and share["bytes"] == 12
    # Later edits of the results do not reach the snapshot.
    async with results.volumes.writer(volume.name) as writer:
        await writer.write("maps/flood.tif", _once(b"changed!!!!!"), 12)
    assert await results.volumes.read(share["volume"], "maps/flood.tif") == b"raster bytes"
    manifest = json.loads(await results.volumes.read(share["volume"], MANIFEST_PATH))
    assert manifest["kind"] == "results" and manifest["owner"] == "ann@example.org"
    assert manifest["files"][0]["path"] == "maps/flood.tif"

    assert [s["name"] for s in await results.shares(BOB)] == [share["name"]]
    assert await results.shares(EVE) == []
    with pytest.raises(Forbidden):
        await results.revoke(BOB, share["name"])
    await results.revoke(ANN, share["name"])
    assert await results.shares(BOB) == []
    assert await results.volumes.get(share["volume"]) is None


async def test_publish_refuses_bad_names_and_grants(results: ResultsService) -> None:
    await results.results_volume(ANN)
    with pytest.raises(InvalidInput, match="name"):
        await results.publish(ANN, {"name": "../up"})
    with pytest.raises(InvalidInput, match="grant"):
        await results.publish(ANN, {"name": "ok", "grant": ["everyone"]})


@pytest.fixture(params=["docker", "docker-api"])
async def docker_results(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ResultsService]:
    """On the engine: through mount points on this host, or only through its API (as remote)."""
    volumes = DockerVolumes.connect(host_access=request.param == "docker")
    async with results_on(volumes, tmp_path) as service:
        yield service


def _sh(container: Container, script: str) -> tuple[int, str]:
    result = container.exec_run(["sh", "-c", script])
    return result.exit_code, result.output.decode()


@pytest.mark.docker
async def test_a_share_a_running_server_mounts_is_emptied_at_once_and_freed_later(
    docker_results: ResultsService,
) -> None:
    """The grantee's server cannot be stopped by the owner: the revoke still withdraws the
    share at once, and the running server sees its folder empty right away (no restart); the
    owner's results are untouched; the volume goes once no container uses it (the agency's
    restart waits too)."""
    results = docker_results
    volume = await results.results_volume(ANN)
    async with results.volumes.writer(volume.name) as writer:
        await writer.write("maps/extent.txt", _once(b"flood extent"), 12)
    share = await results.publish(ANN, {"name": "busy", "grant": ["user:bob"]})
    client = docker.from_env()
    ensure_base_image(client)
    server = client.containers.run(
        BASE_IMAGE, ["sleep", "300"], detach=True, network_mode="none", remove=True,
        volumes={share["volume"]: {"bind": "/shared", "mode": "ro"}},
    )  # fmt: skip
    try:
        assert _sh(server, "cat /shared/maps/extent.txt") == (0, "flood extent")
        await results.revoke(ANN, share["name"])
        # Seen from inside the grantee's running server: nothing left, not even the manifest.
        assert _sh(server, "ls -A /shared") == (0, "")
        assert _sh(server, "cat /shared/maps/extent.txt")[0] != 0
        assert await results.shares(BOB) == [] and await results.shares(ANN) == []
        assert await results.volumes.get(share["volume"]) is not None  # still mounted
        said = await results.packages.recover()
        assert any("deletion waits, volume in use" in line for line in said)
    finally:
        server.remove(force=True)
    # The owner's results are theirs: the revoke emptied only the platform's copy.
    assert await results.volumes.read(volume.name, "maps/extent.txt") == b"flood extent"
    await results.shares(ANN)  # the next look frees it
    assert await results.volumes.get(share["volume"]) is None
