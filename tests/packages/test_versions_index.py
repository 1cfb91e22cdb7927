"""Two versions of one package in a real Open Data Cube: they share dataset ids, so a failed new
version must leave the ready one indexed and loadable, and a ready new version must describe its own
files."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from everest_elearn.packages.backends.directory import DirectoryVolumes
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.packages.progress import BuildProgress
from everest_elearn.packages.service import PackageService
from everest_elearn.packages.spec import volume_name
from everest_elearn.samples import SampleProduct
from everest_elearn.samples.products import s1_flood_pair
from everest_elearn.security.identity import Identity, Role
from tests.fixtures.package_stack import package_service
from tests.fixtures.provider import Provider

pytestmark = pytest.mark.services
ADMIN = Identity("admin", frozenset({Role.ADMIN}))
NAME = "flood"
PRODUCT = "synthetic_s1_grd"


@dataclass
class World:
    service: PackageService
    samples: list[SampleProduct]
    volumes: Path
    mount_root: Path
    dc: Any
    catalogue: Any

    async def reprocess(self, orbit: str) -> None:
        """The provider states the passes' orbit direction (a catalogue update between versions)."""
        for sample in self.samples:
            props = {**sample.record.properties, "orbitDirection": orbit}
            sample.record = sample.record.model_copy(update={"properties": props})
        await self.catalogue.upsert([s.record for s in self.samples], ADMIN)

    def spec(self, version: str) -> dict[str, Any]:
        return {"name": NAME, "version": version, "licence": "CC-BY-4.0 (synthetic)",
                "max_size": "100 MB",
                "contents": [{"products": [s.record.identifier for s in self.samples]}]}  # fmt: skip

    def mount(self, version: str) -> None:
        """Where the datasets' paths point (a container's mount), showing ``version``'s volume."""
        link = self.mount_root / NAME
        link.unlink(missing_ok=True)
        link.symlink_to(self.volumes / volume_name(NAME, version))


@pytest.fixture
async def world(tmp_path: Path, provider: Provider, odc_db_url: str) -> AsyncIterator[World]:
    import datacube

    samples = s1_flood_pair(provider.root, f"{provider.url}/open")
    mount_root = tmp_path / "mnt"
    mount_root.mkdir()
    volumes = DirectoryVolumes(tmp_path / "volumes")
    source = ("provider", f"{provider.url}/open/")
    odc = {"db_url": odc_db_url, "mount_root": str(mount_root)}
    async with package_service(
        tmp_path, source, samples, volumes, ADMIN, strategy="pipe", datacube=odc
    ) as service:
        index = DatacubeIndex(odc_db_url)
        try:
            dc = datacube.Datacube(index=index._connect())
            yield World(service, samples, volumes.root, mount_root, dc, service.catalogue)
        finally:
            await index.close()


def _ids(datasets: Any) -> set[str]:
    return {str(ds.id) for ds in datasets}


async def test_a_failed_new_version_leaves_the_ready_one_indexed_and_loadable(
    world: World,
) -> None:
    first = await world.service.build(world.spec("1"), ADMIN)
    world.mount("1")
    assert world.dc.find_datasets(product=PRODUCT, orbit_state="descending")
    v1 = set((await world.service.state.get(NAME, "1")).datasets)  # type: ignore[union-attr]
    assert first.state == "ready" and len(v1) == 2
    assert _ids(world.dc.find_datasets(product=PRODUCT)) == v1

    await world.reprocess("ASCENDING")
    # Version 2 is cancelled at its very last step, after indexing.
    progress = BuildProgress(NAME, "2")
    second = asyncio.create_task(world.service.build(world.spec("2"), ADMIN, progress))

    def cancel_when_finishing(progress: BuildProgress, _: object) -> None:
        if progress.phase == "finishing":
            second.cancel()

    progress.listeners.append(cancel_when_finishing)
    with pytest.raises(asyncio.CancelledError):
        await second
    assert (await world.service.state.get(NAME, "2")).state.value == "interrupted"  # type: ignore[union-attr]

    assert (await world.service.status(NAME, "1", ADMIN))["state"] == "ready"
    assert _ids(world.dc.find_datasets(product=PRODUCT)) == v1
    # ... with version 1's documents, not those version 2 wrote before it failed.
    assert not world.dc.find_datasets(product=PRODUCT, orbit_state="ascending")
    data = world.dc.load(product=PRODUCT, measurements=["vv"], output_crs="EPSG:32736",
                         resolution=20)  # fmt: skip
    assert data.sizes["time"] == 2 and float(data.vv.max()) > 0


async def test_a_ready_new_version_describes_its_own_files(world: World) -> None:
    await world.service.build(world.spec("1"), ADMIN)
    await world.reprocess("ASCENDING")
    second = await world.service.build(world.spec("2"), ADMIN)
    world.mount("2")
    v2 = set((await world.service.state.get(NAME, "2")).datasets)  # type: ignore[union-attr]
    assert second.state == "ready" and len(v2) == 2
    assert (await world.service.state.get(NAME, "1")).datasets == []  # type: ignore[union-attr]

    found = world.dc.find_datasets(product=PRODUCT, orbit_state="ascending")
    assert _ids(found) == v2
    for dataset in found:
        assert dataset.metadata_doc["properties"]["sat:orbit_state"] == "ascending"
        # The location is where containers mount the current version: version 2's files.
        directory = Path(dataset.uri.removeprefix("file://")).parent
        vv = next(m["path"] for k, m in dataset.metadata_doc["measurements"].items() if k == "vv")
        assert (directory / vv).resolve().is_relative_to(world.volumes / volume_name(NAME, "2"))
    data = world.dc.load(product=PRODUCT, orbit_state="ascending", measurements=["vh"],
                         output_crs="EPSG:32736", resolution=20)  # fmt: skip
    assert data.sizes["time"] == 2
