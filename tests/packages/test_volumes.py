"""One contract for every volume backend: the real Docker engine and plain directories."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from everest_elearn.errors import Conflict, InvalidInput, NotFound
from everest_elearn.packages.backends import open_volumes
from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.volumes import Volumes
from everest_elearn.settings import Settings


async def chunks_of(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture
async def volumes(volumes: Volumes) -> AsyncIterator[Volumes]:
    """Each backend of the conftest, removing the volumes ``fresh`` named after the test."""
    backend = volumes
    made: list[str] = []
    backend.made = made  # type: ignore[attr-defined]
    yield backend
    for name in made:
        await backend.remove(name)


def fresh(volumes: Volumes) -> str:
    name = f"everest-test-{uuid.uuid4().hex[:10]}"
    volumes.made.append(name)  # type: ignore[attr-defined]
    return name


async def test_create_is_idempotent_and_keeps_labels(volumes: Volumes) -> None:
    name = fresh(volumes)
    first = await volumes.create(name, {"everest.kind": "package", "everest.name": "demo"})
    again = await volumes.create(name, {"everest.kind": "package", "everest.name": "demo"})
    assert first == again
    assert first.labels["everest.name"] == "demo"
    assert first.mount_type == ("volume" if volumes.backend == "docker" else "bind")
    assert await volumes.get(name) == first
    listed = await volumes.list({"everest.name": "demo"})
    assert name in [v.name for v in listed]
    assert name not in [v.name for v in await volumes.list({"everest.name": "other"})]


async def test_files_written_are_read_back_byte_for_byte(volumes: Volumes) -> None:
    name = fresh(volumes)
    await volumes.create(name, {"everest.kind": "package"})
    big = os.urandom(3 * 1024 * 1024 + 17)  # several engine chunks, not a block multiple
    small = b"{}\n"
    async with volumes.writer(name) as writer:
        await writer.write("sentinel-1/GRD/2019-09-17/S1A_X/vv.tif", chunks_of(big), len(big))
        await writer.write("manifest.json", chunks_of(small), len(small))
        await writer.flush()
        await writer.write("sentinel-1/GRD/2019-09-18/S1A_Y/vh.tif", chunks_of(small), len(small))
    read = await volumes.read(name, "sentinel-1/GRD/2019-09-17/S1A_X/vv.tif")
    assert hashlib.sha256(read).digest() == hashlib.sha256(big).digest()
    assert await volumes.read(name, "sentinel-1/GRD/2019-09-18/S1A_Y/vh.tif") == small
    with pytest.raises(NotFound):
        await volumes.read(name, "missing.json")


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "a/../../b", "a//b", "a/./b", "x\n"])
async def test_unsafe_paths_are_refused(volumes: Volumes, path: str) -> None:
    name = fresh(volumes)
    await volumes.create(name, {"everest.kind": "package"})
    with pytest.raises(InvalidInput):
        async with volumes.writer(name) as writer:
            await writer.write(path, chunks_of(b"x"), 1)


async def test_a_short_stream_fails_and_the_volume_stays_usable(volumes: Volumes) -> None:
    name = fresh(volumes)
    await volumes.create(name, {"everest.kind": "package"})
    with pytest.raises(InvalidInput, match="announced"):
        async with volumes.writer(name) as writer:
            await writer.write("a.bin", chunks_of(b"12345"), 10)
    async with volumes.writer(name) as writer:
        await writer.write("b.bin", chunks_of(b"12345"), 5)
    assert await volumes.read(name, "b.bin") == b"12345"


async def test_copy_and_remove(volumes: Volumes) -> None:
    source, target = fresh(volumes), fresh(volumes)
    await volumes.create(source, {"everest.kind": "results"})
    await volumes.create(target, {"everest.kind": "share"})
    async with volumes.writer(source) as writer:
        await writer.write("maps/flood.tif", chunks_of(b"raster"), 6)
    await volumes.copy(source, target)
    assert await volumes.read(target, "maps/flood.tif") == b"raster"
    assert await volumes.remove(source) is True
    assert await volumes.remove(source) is False
    assert await volumes.get(source) is None
    assert await volumes.read(target, "maps/flood.tif") == b"raster"


async def test_empty_removes_every_file_and_folder_and_keeps_the_volume(volumes: Volumes) -> None:
    name, other = fresh(volumes), fresh(volumes)
    for volume in (name, other):
        await volumes.create(volume, {"everest.kind": "share"})
        async with volumes.writer(volume) as writer:
            await writer.write("top.txt", chunks_of(b"top"), 3)
            await writer.write("maps/deep/flood.tif", chunks_of(b"raster"), 6)
    await volumes.empty(name)
    assert await volumes.get(name) is not None
    assert await volumes.files(name) == []
    with pytest.raises(NotFound):
        await volumes.read(name, "top.txt")
    folder = await volumes.local_path(name)
    if folder is not None:  # no empty folders left behind either
        assert list(folder.iterdir()) == []
    assert await volumes.read(other, "maps/deep/flood.tif") == b"raster"  # only that volume
    with pytest.raises(NotFound):
        await volumes.empty(f"everest-test-missing-{uuid.uuid4().hex[:8]}")


def test_auto_falls_back_to_directories_and_says_so(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        packages={"volumes": "auto", "docker_url": f"unix://{tmp_path}/no-engine.sock"},
    )
    volumes = open_volumes(settings)
    assert volumes.backend == "directory"
    assert "no Docker engine reachable" in volumes.describe()


@pytest.mark.docker
def test_auto_uses_the_engine_when_it_answers(tmp_path: Path) -> None:
    volumes = open_volumes(Settings(data_dir=tmp_path))
    assert volumes.backend == "docker"
    assert "Docker volumes through the engine" in volumes.describe()


async def test_local_path_shows_the_files_on_this_host(volumes: Volumes) -> None:
    name = fresh(volumes)
    await volumes.create(name, {"everest.kind": "package"})
    async with volumes.writer(name) as writer:
        await writer.write("a/b.bin", chunks_of(b"abc"), 3)
    local = await volumes.local_path(name)
    if isinstance(volumes, DockerVolumes) and not volumes.host_access:
        assert local is None  # an engine reached through its API only: no folder here
    else:
        assert local is not None and (local / "a" / "b.bin").read_bytes() == b"abc"
        assert oct((local / "a").stat().st_mode & 0o777) == "0o755"
        assert oct((local / "a" / "b.bin").stat().st_mode & 0o777) == "0o644"


async def test_reads_do_not_follow_links_out_of_the_volume(volumes: Volumes) -> None:
    name = fresh(volumes)
    await volumes.create(name, {"everest.kind": "results"})
    async with volumes.writer(name) as writer:
        await writer.write("ok.txt", chunks_of(b"ok"), 2)
    local = await volumes.local_path(name)
    if local is not None:  # a user's container could leave such a link in their results
        (local / "passwd").symlink_to("/etc/passwd")
        with pytest.raises(NotFound):
            await volumes.read(name, "passwd")
    assert await volumes.read(name, "ok.txt") == b"ok"


@pytest.mark.docker
async def test_host_access_can_be_switched_off() -> None:
    assert DockerVolumes.connect("unix:///var/run/docker.sock").host_access is True
    assert DockerVolumes.connect(host_access=False).host_access is False


async def test_create_refuses_a_volume_made_for_another_package(volumes: Volumes) -> None:
    name = fresh(volumes)
    labels = {"everest.kind": "package", "everest.name": "foo-1", "everest.version": "2"}
    made = await volumes.create(name, labels)
    with pytest.raises(Conflict, match="'foo-1' '2', not 'foo' '1-2'"):
        await volumes.create(name, {**labels, "everest.name": "foo", "everest.version": "1-2"})
    assert await volumes.get(name) == made
