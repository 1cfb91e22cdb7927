"""End to end: sample scenes indexed in PostgreSQL, files in a real Docker volume mounted read-only
into the notebook image, ``dc.load`` inside the container equal to the files read on the host."""

from __future__ import annotations

import json
import secrets
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import numpy as np
import pytest
import rasterio
from pydantic import SecretStr

from everest_elearn.images import BuiltImage
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.samples import fixtures_dir, generate, real_products

pytestmark = [pytest.mark.docker, pytest.mark.services]
ROOT = Path(__file__).resolve().parents[2]
MOUNT_ROOT = "/home/jovyan/data"

INSIDE = textwrap.dedent(
    """
    import json, os, numpy as np, datacube
    out = {"whoami": os.getuid()}
    dc = datacube.Datacube(app="e2e")
    out["products"] = sorted(p.name for p in dc.index.products.get_all())
    x0, y0 = 700000 + 20 * 40, 8172000 - 20 * 40
    ds = dc.load(product="synthetic_s1_grd", x=(x0, x0 + 2000), y=(y0 - 2000, y0), crs="EPSG:32736",
                 time=("2019-03-01", "2019-03-31"), output_crs="EPSG:32736", resolution=20,
                 measurements=["vv", "vh_db", "water_truth"])
    np.save("/out/vv.npy", ds.vv.values)
    np.save("/out/vh_db.npy", ds.vh_db.values)
    np.save("/out/water.npy", ds.water_truth.values)
    out["times"] = [str(t)[:10] for t in ds.time.values]
    real = dc.load(product="sen1floods11_s1", measurements=["vv_db"], output_crs="EPSG:4326",
                   resolution=8.983152841195215e-05)
    np.save("/out/real_vv.npy", real.vv_db.values)
    try:
        open("/home/jovyan/data/e2e/intruder.txt", "w").write("x")
        out["mount_write"] = "allowed"
    except OSError as exc:
        out["mount_write"] = str(exc)
    try:
        dc.index.products.add_document({"name": "intruder", "description": "x", "metadata_type": "eo3",
            "metadata": {"product": {"name": "intruder"}},
            "measurements": [{"name": "a", "dtype": "uint8", "nodata": 0, "units": "1"}]})
        out["index_write"] = "allowed"
    except Exception as exc:
        out["index_write"] = str(exc)
    print("RESULT " + json.dumps(out))
    """
)


@pytest.fixture
def package_volume(tmp_path: Path) -> Iterator[tuple[str, Path, list[Any]]]:
    """A Docker volume holding the sample package ``e2e`` (synthetic scenes + a real chip)."""
    package_dir = tmp_path / "e2e"
    products = generate(package_dir)
    real = real_products(fixtures_dir(ROOT))[0]
    target = package_dir / "sentinel-1" / "GRD" / "2019-09-17" / real.record.identifier
    target.mkdir(parents=True)
    real.files = {k: Path(shutil.copy2(p, target / p.name)) for k, p in real.files.items()}
    products.append(real)
    client = docker.from_env()
    name = f"everest-test-pkg-{secrets.token_hex(4)}"
    volume = client.volumes.create(name, labels={"org.everest-elearn.test": "1"})
    try:
        yield name, package_dir, products
    finally:
        volume.remove(force=True)
        client.close()


def _fill(client: Any, image: str, volume: str, source: Path) -> None:
    # The minimal real thing: a throwaway root container copies the folder into the volume.
    client.containers.run(
        image, ["cp", "-a", "/src/.", "/dst/"], user="0", network_mode="none", remove=True,
        volumes={str(source): {"bind": "/src", "mode": "ro"}, volume: {"bind": "/dst", "mode": "rw"}},
    )  # fmt: skip


async def test_dc_load_inside_notebook_container(
    notebook_image: BuiltImage,
    odc_db_url: str,
    package_volume: tuple[str, Path, list[Any]],
    tmp_path: Path,
) -> None:
    volume, package_dir, products = package_volume
    index = DatacubeIndex(odc_db_url)
    for item in products:
        await index.ensure_product(item.collection)
        await index.index_record(
            item.collection, item.record, item.files,
            package="e2e", package_dir=package_dir, mount_root=MOUNT_ROOT,
        )  # fmt: skip
    password = SecretStr(secrets.token_urlsafe(18))
    await index.ensure_readonly_role("everest_reader", password)
    reader_url = index.reader_url("everest_reader", password).get_secret_value()

    client = docker.from_env()
    _fill(client, notebook_image.tag, volume, package_dir)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    logs = client.containers.run(
        notebook_image.tag,
        ["python", "-c", INSIDE],
        network_mode="host",
        environment={"ODC_DEFAULT_DB_URL": reader_url, "ODC_DEFAULT_INDEX_DRIVER": "postgres"},
        volumes={
            volume: {"bind": f"{MOUNT_ROOT}/e2e", "mode": "ro"},
            str(out): {"bind": "/out", "mode": "rw"},
        },
        remove=True,
        stderr=True,
    ).decode()
    client.close()
    assert password.get_secret_value() not in logs
    result = json.loads(next(line for line in logs.splitlines() if line.startswith("RESULT "))[7:])

    assert result["whoami"] == 1000
    assert {"synthetic_s1_grd", "sen1floods11_s1"} <= set(result["products"])
    assert result["times"] == ["2019-03-02", "2019-03-14"]
    assert "Read-only file system" in result["mount_write"]
    assert "permission denied" in result["index_write"]

    before, after = products[0], products[1]
    vv = np.load(out / "vv.npy")
    vh_db = np.load(out / "vh_db.npy")
    for i, item in enumerate((before, after)):
        with rasterio.open(item.files["vv"]) as src:
            np.testing.assert_array_equal(vv[i], src.read(1)[40:140, 40:140])
        with rasterio.open(item.files["vh_db"]) as src:
            np.testing.assert_array_equal(vh_db[i], src.read(1)[40:140, 40:140])
    water = np.load(out / "water.npy")
    with rasterio.open(after.files["water_truth"]) as src:
        np.testing.assert_array_equal(water[1], src.read(1)[40:140, 40:140])
    # The flood appears between the two dates.
    assert water[1].sum() > water[0].sum()
    with rasterio.open(products[-1].files["s1"]) as src:
        np.testing.assert_allclose(np.load(out / "real_vv.npy")[0], src.read(1), equal_nan=True)
    await index.close()
