"""Building packages from a loopback provider into real volumes: success, faults, resume, delete."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from everest_elearn.catalogue.service import Catalogue
from everest_elearn.errors import Conflict, InvalidInput, TooLarge, UpstreamError
from everest_elearn.gateway.service import Gateway
from everest_elearn.packages.manifest import MANIFEST_PATH, READY_PATH
from everest_elearn.packages.service import PackageService
from everest_elearn.packages.state import BuildState
from everest_elearn.packages.volumes import Volumes
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.packages.support import CURATOR, Provider, collection, product, real_parts

ADMIN = Identity("admin", frozenset({Role.ADMIN}))
PARTICIPANT = Identity("ann", frozenset({Role.PARTICIPANT}))


@pytest.fixture
def provider() -> Iterator[Provider]:
    with Provider() as running:
        yield running


@pytest.fixture
async def parts(tmp_path: Path, provider: Provider) -> AsyncIterator[tuple[Catalogue, Gateway]]:
    async with real_parts(
        tmp_path,
        provider,
        [
            collection(),
            product(
                provider, "S1A_A", {"vv.tif": os.urandom(300_000), "vh.tif": os.urandom(200_000)}
            ),
            product(provider, "S1A_B", {"vv.tif": os.urandom(150_000)}, day=18),
            product(provider, "S1A_BAD", {"vv.tif": os.urandom(1000)}, day=19, corrupt=True),
        ],
    ) as opened:
        yield opened


@pytest.fixture
def records(parts: tuple[Catalogue, Gateway]) -> Catalogue:
    return parts[0]


@pytest.fixture
async def service(
    tmp_path: Path, parts: tuple[Catalogue, Gateway], volumes: Volumes
) -> AsyncIterator[PackageService]:
    settings = Settings(data_dir=tmp_path / "data", packages={"flush_bytes": 250_000})
    opened = await PackageService.open(settings, *parts, volumes=volumes)
    yield opened
    await opened.close()
    for build in await opened.state.builds():
        await volumes.remove(build.volume)


def spec(name: str, version: str = "1.0", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "version": version,
        "description": "flood test",
        "licence": "CC-BY-4.0",
        "attribution": "Contains modified Copernicus Sentinel data",
        "max_size": "10 MB",
        "contents": [{"products": ["S1A_A", "S1A_B"], "files": ["*.tif"]}],
    }
    data.update(extra)
    return data


def unique() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


async def test_build_lays_out_files_writes_manifest_and_is_idempotent(
    service: PackageService, provider: Provider
) -> None:
    name = unique()
    report = await service.build(spec(name), ADMIN)
    assert report.state == "ready" and report.files == 3 and report.bytes == 650_000
    volume = f"everest-pkg-{name}-1.0"
    body = await service.volumes.read(volume, "sentinel-1a/GRD/2019-09-17/S1A_A/vv.tif")
    assert body == provider.files["S1A_A/vv.tif"]
    manifest = json.loads(await service.volumes.read(volume, MANIFEST_PATH))
    by_path = {f["path"]: f for f in manifest["files"]}
    assert (
        by_path["sentinel-1a/GRD/2019-09-18/S1A_B/vv.tif"]["sha256"]
        == hashlib.sha256(provider.files["S1A_B/vv.tif"]).hexdigest()
    )
    assert by_path["sentinel-1a/GRD/2019-09-17/S1A_A/vh.tif"]["source"].endswith("S1A_A/vh.tif")
    assert manifest["licence"] == "CC-BY-4.0" and manifest["tools"]["everest-elearn"]
    assert manifest["files"][0]["strategy"] == "pipe"
    assert await service.volumes.read(volume, READY_PATH)
    status = await service.status(name, "1.0", ADMIN)
    assert status["state"] == "ready" and status["current"] is True
    assert {f["state"] for f in status["progress"]["files"]} == {"durable"}

    hits = provider.total_hits()
    again = await service.build(spec(name), ADMIN)
    assert again.state == "ready" and "already ready" in again.notes[0]
    assert provider.total_hits() == hits
    with pytest.raises(Conflict, match="different spec"):
        await service.build(spec(name, description="changed"), ADMIN)


async def test_checksum_mismatch_fails_and_the_previous_version_stays_ready(
    service: PackageService,
) -> None:
    name = unique()
    await service.build(spec(name), ADMIN)
    broken = spec(name, "2.0", contents=[{"products": ["S1A_A", "S1A_BAD"]}])
    with pytest.raises(UpstreamError, match=r"S1A_BAD/vv\.tif: checksum mismatch"):
        await service.build(broken, ADMIN)
    failed = await service.state.get(name, "2.0")
    assert failed is not None and failed.state is BuildState.FAILED
    assert failed.error is not None and "checksum mismatch" in failed.error
    current = await service.state.current(name)
    assert current is not None and current.version == "1.0"
    assert await service.volumes.read(f"everest-pkg-{name}-1.0", READY_PATH)
    with pytest.raises(Exception, match="not found"):
        await service.volumes.read(f"everest-pkg-{name}-2.0", READY_PATH)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"name": "../etc"}, "name"),
        ({"name": "Flood Demo"}, "name"),
        ({"version": "1/../../x"}, "version"),
        ({"contents": [{"products": ["S1A_A"], "files": ["../../*.tif"]}]}, "contents.0.files.0"),
        ({"contents": [{"products": ["S1A_A", "NOPE"]}]}, "contents.0.products.1"),
        ({"max_size": "-5 GB"}, "max_size"),
        ({"max_size": "900 TB"}, "max_size"),
        ({"contents": [{"query": {"cloudCover": "[abc"}}]}, "contents.0.query.eo:cloudCover"),
    ],
)
async def test_bad_specs_are_refused_before_anything_is_fetched(
    service: PackageService, provider: Provider, change: dict[str, Any], where: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await service.build(spec(unique()) | change, ADMIN)
    assert caught.value.where.startswith(where.split(".eo:")[0])
    assert provider.total_hits() == 0
    assert await service.state.builds() == []


async def test_impossible_sizes_are_refused_before_fetching(
    service: PackageService, provider: Provider
) -> None:
    with pytest.raises(TooLarge, match="max_size"):
        await service.build(spec(unique(), max_size="100 kB"), ADMIN)
    assert provider.total_hits() == 0


async def test_writes_need_a_writer(service: PackageService) -> None:
    with pytest.raises(Exception, match="only administrators"):
        await service.build(spec(unique()), PARTICIPANT)


async def test_interrupted_build_resumes_and_skips_durable_files(
    service: PackageService, provider: Provider
) -> None:
    name = unique()
    gate = provider.hold["S1A_B/vv.tif"] = threading.Event()
    task = asyncio.create_task(service.build(spec(name), ADMIN))
    progress = None
    for _ in range(300):
        progress = service.progress.get((name, "1.0"))
        if (
            progress
            and progress.files.get("sentinel-1a/GRD/2019-09-18/S1A_B/vv.tif", None)
            and (progress.files["sentinel-1a/GRD/2019-09-18/S1A_B/vv.tif"].state == "fetching")
        ):
            break
        await asyncio.sleep(0.05)
    assert progress is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    interrupted = await service.state.get(name, "1.0")
    assert interrupted is not None and interrupted.state is BuildState.INTERRUPTED
    with pytest.raises(Exception, match="not found"):
        await service.volumes.read(f"everest-pkg-{name}-1.0", READY_PATH)

    before = dict(provider.hits)
    report = await service.build(spec(name), ADMIN)
    assert report.state == "ready" and report.skipped_files >= 1
    assert provider.hits["S1A_A/vv.tif"] == before["S1A_A/vv.tif"]
    body = await service.volumes.read(
        f"everest-pkg-{name}-1.0", "sentinel-1a/GRD/2019-09-18/S1A_B/vv.tif"
    )
    assert body == provider.files["S1A_B/vv.tif"]


async def test_a_dead_builder_is_found_at_start_and_cleaned_up(
    service: PackageService, parts: tuple[Catalogue, Gateway], volumes: Volumes
) -> None:
    name = unique()
    await service.build(spec(name), ADMIN)
    # A build whose process died: marked building by a pid that no longer runs.
    await service.state.transition(name, "1.0", (BuildState.READY,), BuildState.BUILDING)
    await service.state.update(name, "1.0", runner=f"{os.uname().nodename}:999999999")
    settings = service.settings.model_copy(
        update={
            "packages": service.settings.packages.model_copy(update={"on_interrupted": "cleanup"})
        }
    )
    restarted = await PackageService.open(settings, *parts, volumes=volumes)
    try:
        assert await restarted.state.get(name, "1.0") is None
        assert await volumes.get(f"everest-pkg-{name}-1.0") is None
    finally:
        await restarted.close()


async def test_delete_frees_the_volume_and_the_registry(service: PackageService) -> None:
    name = unique()
    await service.build(spec(name), ADMIN)
    await service.delete(name, "1.0", ADMIN)
    assert await service.volumes.get(f"everest-pkg-{name}-1.0") is None
    assert await service.state.get(name, "1.0") is None
    assert await service.list_packages(ADMIN) == []


async def test_two_packages_never_share_one_volume(service: PackageService) -> None:
    # "x-1" 2 and "x" 1-2 both make the volume name everest-pkg-x-1-2.
    base = unique()
    first = await service.build(spec(f"{base}-1", "2"), ADMIN)
    assert first.volume == f"everest-pkg-{base}-1-2"
    with pytest.raises(Conflict, match="choose another name or version"):
        await service.build(spec(base, "1-2"), ADMIN)
    with pytest.raises(Conflict, match="choose another name or version"):
        await service.start_build(spec(base, "1-2"), ADMIN)
    assert await service.state.get(base, "1-2") is None
    status = await service.status(f"{base}-1", "2", ADMIN)
    assert status["state"] == "ready"
    assert await service.volumes.read(first.volume, READY_PATH)


async def test_a_volume_labelled_for_another_package_is_not_reused(
    service: PackageService,
) -> None:
    # The registry may not know the volume (made by another agency, restored from a backup).
    base = unique()
    volume = f"everest-pkg-{base}-1-2"
    labels = {"everest.kind": "package", "everest.name": f"{base}-1", "everest.version": "2"}
    await service.volumes.create(volume, labels)
    with pytest.raises(Conflict, match=f"volume {volume} already holds"):
        await service.build(spec(base, "1-2"), ADMIN)
    assert await service.volumes.get(volume) is not None
    await service.volumes.remove(volume)


async def test_a_failed_build_rebuilt_from_another_spec_keeps_none_of_its_files(
    service: PackageService,
) -> None:
    name = unique()
    failing = spec(name, contents=[{"products": ["S1A_A", "S1A_BAD"], "files": ["*.tif"]}])
    with pytest.raises(UpstreamError, match="checksum mismatch"):
        await service.build(failing, ADMIN)
    volume = f"everest-pkg-{name}-1.0"
    first = {f.path for f in await service.volumes.files(volume)}
    assert "sentinel-1a/GRD/2019-09-17/S1A_A/vv.tif" in first

    report = await service.build(spec(name, contents=[{"products": ["S1A_B"]}]), ADMIN)
    assert report.state == "ready" and report.files == 1
    manifest = json.loads(await service.volumes.read(volume, MANIFEST_PATH))
    listed = {f["path"] for f in manifest["files"]}
    assert listed == {"sentinel-1a/GRD/2019-09-18/S1A_B/vv.tif"}
    assert {f.path for f in await service.volumes.files(volume)} == {
        *listed,
        MANIFEST_PATH,
        READY_PATH,
    }


async def test_stray_files_in_a_local_volume_are_dropped_before_ready(
    service: PackageService,
) -> None:
    name = unique()
    volume = f"everest-pkg-{name}-1.0"
    labels = {"everest.kind": "package", "everest.name": name, "everest.version": "1.0"}
    await service.volumes.create(volume, labels)
    stray = "sentinel-1a/GRD/2019-09-16/S1A_OLD/vv.tif"  # of no plan
    async with service.volumes.writer(volume) as writer:
        await writer.write(stray, _chunks(b"half a file"), 11)
    report = await service.build(spec(name), ADMIN)
    assert report.state == "ready"
    manifest = json.loads(await service.volumes.read(volume, MANIFEST_PATH))
    wanted = {f["path"] for f in manifest["files"]} | {MANIFEST_PATH, READY_PATH}
    # Only through the engine (no host path) a file cannot be deleted: it stays, unlisted.
    kept = {stray} if await service.volumes.local_path(volume) is None else set()
    assert {f.path for f in await service.volumes.files(volume)} == wanted | kept


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.mark.parametrize(
    ("limits", "limit"),
    [({"max_size": "1 MB"}, "max_size"), ({"max_size": "10 MB"}, "contents.0.max_size")],
)
async def test_a_file_of_unknown_size_past_the_budget_is_refused_before_it_is_kept(
    service: PackageService,
    records: Catalogue,
    provider: Provider,
    limits: dict[str, str],
    limit: str,
) -> None:
    # The catalogue gives no size: only the provider's answer tells how much is coming.
    big = product(provider, "S1A_BIG", {"vv.tif": os.urandom(3_000_000)}, day=20)
    links = [link.model_copy(update={"length": None}) for link in big.links]
    await records.upsert([big.model_copy(update={"links": links})], CURATOR)
    name = unique()
    content = {"products": ["S1A_B", "S1A_BIG"], "max_size": "2 MB"}
    with pytest.raises(TooLarge, match=f"^{limit}: S1A_BIG/vv.tif brings more than"):
        await service.build(spec(name, contents=[content], **limits), ADMIN)
    build = await service.state.get(name, "1.0")
    assert build is not None and build.state is BuildState.FAILED
    paths = {f.path for f in await service.volumes.files(f"everest-pkg-{name}-1.0")}
    assert paths == {"sentinel-1a/GRD/2019-09-18/S1A_B/vv.tif"}  # no READY, nothing of S1A_BIG
