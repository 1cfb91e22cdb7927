"""The whole path: provider -> catalogue -> gateway -> Docker volume -> ODC -> dc.load in a container."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pydantic import SecretStr

from everest_elearn.images import ImageBuilder
from everest_elearn.packages.backends.docker_ import DockerVolumes
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.packages.service import PackageService
from everest_elearn.samples import SampleProduct, generate
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings
from tests.fixtures.package_stack import package_service
from tests.fixtures.provider import Provider

pytestmark = [pytest.mark.docker, pytest.mark.services]
ADMIN = Identity("admin", frozenset({Role.ADMIN}))

LOAD = r"""
import json, sys, datacube, numpy as np
dc = datacube.Datacube(app="e2e")
data = dc.load(product=sys.argv[1], measurements=["vv", "vh"], x=(float(sys.argv[2]), float(sys.argv[3])),
               y=(float(sys.argv[4]), float(sys.argv[5])), crs=sys.argv[6], time=("2019-03-01", "2019-03-31"),
               output_crs=sys.argv[6], resolution=(float(sys.argv[7]), float(sys.argv[8])))
try:
    open(sys.argv[9] + "/written-by-a-participant", "w").write("x")
    refused = ""
except OSError as exc:
    refused = str(exc)
print(json.dumps({"times": [str(t)[:19] for t in data.time.values],
                  "vv": np.nan_to_num(data.vv.values, nan=-1).tolist(),
                  "shape": list(data.vv.shape), "refused": refused}))
"""


@dataclass
class World:
    service: PackageService
    samples: list[SampleProduct]
    odc_db_url: str


@pytest.fixture
async def world(tmp_path: Path, provider: Provider, odc_db_url: str) -> AsyncIterator[World]:
    samples = generate(provider.root, base_url=f"{provider.url}/open")
    source = ("provider", f"{provider.url}/open/")
    volumes = DockerVolumes.connect()
    db = {"db_url": odc_db_url}
    async with package_service(tmp_path, source, samples, volumes, ADMIN, datacube=db) as service:
        yield World(service, samples, odc_db_url)


def notebook_image(settings: Settings) -> str:
    built = ImageBuilder(settings.images).build_sync("notebook")
    return built.tag if ":" in built.tag else f"everest/notebook:{built.tag}"


async def test_a_built_package_loads_as_a_cube_in_a_read_only_container(world: World) -> None:
    service = world.service
    flood = [s for s in world.samples if s.record.identifier.startswith("S1B_IW_GRDH")]
    name = f"flood-{uuid.uuid4().hex[:6]}"
    spec = {
        "name": name,
        "version": "1.0",
        "licence": "CC-BY-4.0 (synthetic samples)",
        "max_size": "200 MB",
        "contents": [{"products": [s.record.identifier for s in flood]}],
    }
    estimate = await service.estimate(spec, ADMIN)
    assert estimate.files == sum(len(s.record.data_links) for s in flood)
    assert estimate.stored_known and estimate.stored_bytes == {}

    report = await service.build(spec, ADMIN)
    assert report.state == "ready" and report.datasets == 2, report.notes
    assert report.origins == {"miss": report.files}
    again = await service.estimate(spec, ADMIN)
    assert again.stored_bytes == {"cache": again.bytes}

    index = DatacubeIndex(world.odc_db_url)
    password = SecretStr(secrets.token_urlsafe(12))
    await index.ensure_readonly_role("everest_reader", password)
    reader_url = index.reader_url("everest_reader", password, host="127.0.0.1")
    await index.close()

    first = flood[0]
    product = first.collection.identifier.replace("-", "_")
    with rasterio.open(first.files["vv"]) as src:
        bounds, crs, res = src.bounds, src.crs.to_string(), src.res
        expected = src.read(1)
    mount = f"{service.settings.datacube.mount_root}/{name}"
    volume = f"everest-pkg-{name}-1.0"
    image = notebook_image(service.settings)
    done = await asyncio.to_thread(
        subprocess.run,
        ["docker", "run", "--rm", "--network", "host", "-v", f"{volume}:{mount}:ro",
         "-e", f"ODC_DEFAULT_DB_URL={reader_url.get_secret_value()}",
         "-e", "ODC_DEFAULT_INDEX_DRIVER=postgres",
         image, "python", "-c", LOAD, product,
         str(bounds.left), str(bounds.right), str(bounds.bottom), str(bounds.top),
         crs, str(-res[1]), str(res[0]), mount],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "Read-only file system" in result["refused"]
    assert result["times"] == ["2019-03-02T03:45:00", "2019-03-14T03:45:00"]
    loaded = np.array(result["vv"][0], dtype=np.float32)
    assert loaded.shape == expected.shape
    assert np.allclose(loaded, np.nan_to_num(expected, nan=-1), rtol=0, atol=0)
    assert not await asyncio.to_thread(os.path.exists, mount)  # only the container saw it
