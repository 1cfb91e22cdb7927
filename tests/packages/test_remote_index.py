"""Indexing a package on an engine reached only through its API (as a remote engine is): the
rasters are streamed out of the volume into temporary files, one product at a time, and the
documents carry the files' real grids."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
import rasterio

from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.packages.service import PackageService
from everest_elearn.samples import generate
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.packages.support import Provider, real_parts, shut

pytestmark = [pytest.mark.docker, pytest.mark.services]
ADMIN = Identity("admin", frozenset({Role.ADMIN}))


@pytest.fixture
def provider() -> Iterator[Provider]:
    with Provider() as running:
        yield running


def _scratch_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("everest-index-*")}


async def test_rasters_are_streamed_out_of_an_api_only_engine_for_indexing(
    tmp_path: Path, provider: Provider, odc_db_url: str
) -> None:
    samples = await asyncio.to_thread(generate, tmp_path / "samples", provider.url)
    flood = [s for s in samples if s.record.identifier.startswith("S1B_IW_GRDH")]
    for sample in flood:
        for path in sample.files.values():
            relative = path.relative_to(tmp_path / "samples").as_posix()
            provider.files[relative] = await asyncio.to_thread(path.read_bytes)
    records = [flood[0].collection, *(s.record for s in flood)]
    volumes = DockerVolumes.connect(host_access=False)
    settings = Settings(data_dir=tmp_path / "data", datacube={"db_url": odc_db_url})
    async with real_parts(tmp_path, provider, records) as parts:
        service = await PackageService.open(settings, *parts, volumes=volumes)
        before = _scratch_dirs()
        try:
            spec = {"name": "remote-flood", "version": "1", "licence": "CC0", "max_size": "1 GB",
                    "contents": [{"products": [s.record.identifier for s in flood]}]}  # fmt: skip
            report = await service.build(spec, ADMIN)
            assert report.state == "ready" and report.datasets == 2, report.notes
            assert await volumes.local_path(report.volume) is None  # nothing read from host folders
            assert _scratch_dirs() == before  # the temporary copies are gone

            build = await service.state.get("remote-flood", "1")
            assert build is not None and len(build.datasets) == 2
            index = DatacubeIndex(odc_db_url)
            dc_index = await asyncio.to_thread(index._connect)
            by_label = {s.record.identifier: s for s in flood}
            for dataset_id in build.datasets:
                dataset = await asyncio.to_thread(dc_index.datasets.get, UUID(dataset_id))
                with rasterio.open(by_label[dataset.metadata_doc["label"]].files["vv"]) as src:
                    expected = [src.height, src.width], list(src.transform)[:6]
                grid = dataset.metadata_doc["grids"]["default"]
                assert (grid["shape"], grid["transform"][:6]) == expected
                location = f"file://{settings.datacube.mount_root}/remote-flood/"
                assert dataset.uri.startswith(location)
            await index.close()
        finally:
            await shut(service)
