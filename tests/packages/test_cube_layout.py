"""Cube-ready packages: pixel-interleaved multi-band GeoTIFFs land band-interleaved, same pixels."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.io import MemoryFile
from rasterio.shutil import copy as rio_copy

from everest_elearn.packages.cube_layout import REWRITTEN
from everest_elearn.packages.manifest import MANIFEST_PATH
from everest_elearn.packages.service import PackageService
from everest_elearn.packages.volumes import Volumes
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.packages.support import Provider, collection, product, real_parts

ADMIN = Identity("admin", frozenset({Role.ADMIN}))
PIXELS = np.random.default_rng(3).integers(1, 10_000, (4, 700, 600)).astype("uint16")


def geotiff(tmp: Path, bands: int, interleave: str) -> bytes:
    """A tiled, DEFLATE-compressed GeoTIFF with overviews, as providers publish COGs."""
    profile = {
        "driver": "GTiff", "height": 700, "width": 600, "count": bands, "dtype": "uint16",
        "crs": "EPSG:32631", "nodata": 0, "transform": Affine(10, 0, 600_000, 0, -10, 4_850_000),
    }  # fmt: skip
    path = tmp / f"{bands}-{interleave}.tif"
    with MemoryFile() as memory, memory.open(**profile) as scratch:
        scratch.write(PIXELS[:bands])
        scratch.descriptions = tuple(f"band {i}" for i in range(1, bands + 1))
        driver = "COG" if interleave == "pixel" else "GTiff"
        extra = {"blocksize": 256} if driver == "COG" else {"tiled": True, "interleave": "band"}
        rio_copy(scratch, path, driver=driver, compress="DEFLATE", predictor=2, **extra)
    return path.read_bytes()


@pytest.fixture
def provider() -> Iterator[Provider]:
    with Provider() as running:
        yield running


@pytest.fixture
async def service(
    tmp_path: Path, provider: Provider, volumes: Volumes
) -> AsyncIterator[PackageService]:
    files = {
        "pixel.tif": geotiff(tmp_path, 4, "pixel"),
        "band.tif": geotiff(tmp_path, 4, "band"),
        "single.tif": geotiff(tmp_path, 1, "pixel"),
        "notes.tif": b"not a raster at all",
    }
    records = [collection(), product(provider, "S2_CUBE", files)]
    async with real_parts(tmp_path, provider, records) as (catalogue, gateway):
        opened = await PackageService.open(
            Settings(data_dir=tmp_path / "data"), catalogue, gateway, volumes=volumes
        )
        yield opened
        await opened.close()
        for build in await opened.state.builds():
            await volumes.remove(build.volume)


def spec(version: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "cube", "version": version, "licence": "CC0-1.0", "max_size": "50 MB",
        "contents": [{"products": ["S2_CUBE"]}], **extra,
    }  # fmt: skip


async def _manifest(service: PackageService, volume: str) -> dict[str, dict[str, Any]]:
    manifest = json.loads(await service.volumes.read(volume, MANIFEST_PATH))
    return {f["file_name"]: f for f in manifest["files"]}


async def test_pixel_interleaved_bands_are_rewritten_with_the_same_pixels(
    service: PackageService, provider: Provider
) -> None:
    report = await service.build(spec("1"), ADMIN)
    assert report.state == "ready"
    assert any("1 multi-band GeoTIFF(s) rewritten band-interleaved" in n for n in report.notes)
    files = await _manifest(service, report.volume)

    sent = provider.files["S2_CUBE/pixel.tif"]
    entry = files["pixel.tif"]
    stored = await service.volumes.read(report.volume, entry["path"])
    assert stored != sent and entry["rewritten"] == REWRITTEN
    assert entry["source_sha256"] == hashlib.sha256(sent).hexdigest()
    assert entry["sha256"] == hashlib.sha256(stored).hexdigest()
    assert entry["size"] == len(stored)
    with MemoryFile(stored) as memory, memory.open() as raster:
        assert raster.interleaving.name == "band" and raster.block_shapes[0] == (256, 256)
        assert raster.compression is not None and raster.compression.name == "deflate"
        assert raster.overviews(1) and raster.descriptions[3] == "band 4"
        assert raster.nodata == 0 and raster.crs == rasterio.crs.CRS.from_epsg(32631)
        assert np.array_equal(raster.read(), PIXELS)

    # Already band-interleaved, single-band, or not a raster: kept byte for byte.
    for name in ("band.tif", "single.tif", "notes.tif"):
        kept = await service.volumes.read(report.volume, files[name]["path"])
        assert kept == provider.files[f"S2_CUBE/{name}"], name
        assert files[name]["rewritten"] is None and files[name]["source_sha256"] is None


async def test_cube_ready_false_keeps_every_file_as_sent(
    service: PackageService, provider: Provider
) -> None:
    report = await service.build(spec("2", cube_ready=False), ADMIN)
    files = await _manifest(service, report.volume)
    for name, entry in files.items():
        body = await service.volumes.read(report.volume, entry["path"])
        assert body == provider.files[f"S2_CUBE/{name}"] and entry["rewritten"] is None
