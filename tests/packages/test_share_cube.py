"""A published share's GeoTIFFs are in the ODC: another user's notebook container loads them as a
cube from the read-only share; revoking removes the datasets and products. Both volume paths: the
engine on this host (mount points) and the engine's API only (as a remote engine)."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pydantic import SecretStr

from everest_elearn.images import BuiltImage
from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.packages.results import ResultsService, results_volume_name
from everest_elearn.packages.service import PackageService
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.packages.support import Provider, real_parts

pytestmark = [pytest.mark.docker, pytest.mark.services]
ANN = Identity("ann@example.org", frozenset({Role.PARTICIPANT}))
BOB = Identity("bob", frozenset({Role.PARTICIPANT}))
SHARED = "/home/jovyan/shared"
TRANSFORM = Affine(20.0, 0, 700_000.0, 0, -20.0, 8_172_000.0)

LOAD = r"""
import json, sys, datacube, numpy as np
dc = datacube.Datacube(app="share")
case = json.loads(sys.argv[1])
data = dc.load(product=case["product"], output_crs="EPSG:32736", resolution=(-20, 20),
               measurements=case["bands"])
try:
    open(case["mount"] + "/written-by-bob", "w").write("x")
    refused = ""
except OSError as exc:
    refused = str(exc)
print(json.dumps({b: np.nan_to_num(data[b].values[0], nan=-1).tolist() for b in case["bands"]}
                 | {"refused": refused, "times": len(data.time)}))
"""


def _raster(path: Path, arrays: list[np.ndarray], nodata: float, names: list[str]) -> None:
    with rasterio.open(
        path, "w", driver="GTiff", width=arrays[0].shape[1], height=arrays[0].shape[0],
        count=len(arrays), dtype=arrays[0].dtype.name, crs="EPSG:32736", transform=TRANSFORM,
        nodata=nodata,
    ) as dst:  # fmt: skip
        for i, (array, name) in enumerate(zip(arrays, names, strict=True)):
            dst.write(array, i + 1)
            dst.set_band_description(i + 1, name)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture(params=["docker", "docker-api"])
async def results(
    request: pytest.FixtureRequest, tmp_path: Path, odc_db_url: str
) -> AsyncIterator[ResultsService]:
    volumes = DockerVolumes.connect(host_access=request.param == "docker")
    settings = Settings(data_dir=tmp_path / "data", datacube={"db_url": odc_db_url})
    with Provider() as provider:
        async with real_parts(tmp_path, provider) as parts:
            service = await PackageService.open(settings, *parts, volumes=volumes)
            yield ResultsService(service)
            for build in await service.state.builds():
                await service._delete(build.name, build.version)
            await volumes.remove(results_volume_name(ANN.subject or ""))
            await service.close()


async def test_a_share_of_rasters_loads_as_a_cube_for_another_user_until_revoked(
    results: ResultsService, tmp_path: Path, odc_db_url: str, notebook_image: BuiltImage
) -> None:
    rng = np.random.default_rng(5)
    flood = rng.random((60, 80), dtype=np.float32)
    water = (flood > 0.5).astype(np.float32)
    _raster(tmp_path / "flood.tif", [flood, water], float("nan"), ["sigma0 vv", "water"])
    (tmp_path / "broken.tif").write_bytes(b"not a tiff")
    volume = await results.results_volume(ANN)
    async with results.volumes.writer(volume.name) as writer:
        for name, local in (("maps/flood.tif", "flood.tif"), ("maps/broken.tif", "broken.tif")):
            data = await asyncio.to_thread((tmp_path / local).read_bytes)
            await writer.write(name, _once(data), len(data))
        await writer.write("notes.txt", _once(b"field notes"), 11)

    share = await results.publish(ANN, {"name": "flood-map", "grant": ["user:bob"]})
    assert share["datasets"] == 1 and len(share["odc_products"]) == 1
    assert any("maps/broken.tif not indexed" in note for note in share["notes"])
    product = share["odc_products"][0]
    index = DatacubeIndex(odc_db_url)
    assert product in await index.products()
    assert len(await index.datasets_of_package(share["name"], SHARED)) == 1

    password = SecretStr(secrets.token_urlsafe(12))
    await index.ensure_readonly_role("everest_reader", password)
    url = index.reader_url("everest_reader", password, host="127.0.0.1").get_secret_value()
    mount = f"{SHARED}/{share['name']}"  # where the hub mounts it for bob
    case = {"product": product, "bands": ["sigma0_vv", "water"], "mount": mount}
    done = await asyncio.to_thread(
        subprocess.run,
        ["docker", "run", "--rm", "--network", "host", "--user", "1000",
         "-v", f"{share['volume']}:{mount}:ro", "-e", f"ODC_DEFAULT_DB_URL={url}",
         "-e", "ODC_DEFAULT_INDEX_DRIVER=postgres", notebook_image.tag,
         "python", "-c", LOAD, json.dumps(case)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["times"] == 1 and "Read-only file system" in loaded["refused"]
    assert np.array_equal(np.array(loaded["sigma0_vv"], dtype=np.float32), flood)
    assert np.array_equal(np.array(loaded["water"], dtype=np.float32), water)

    await results.revoke(ANN, share["name"])
    assert await index.datasets_of_package(share["name"], SHARED) == []
    assert product not in await index.products()
    assert await results.volumes.get(share["volume"]) is None
    await index.close()
