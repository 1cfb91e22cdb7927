"""The ODC index on a real PostgreSQL: products, datasets, dc.load on the host, the read-only role."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pydantic import SecretStr

from everest_elearn.errors import BackendUnavailable
from everest_elearn.packages.datacube import DatacubeIndex
from everest_elearn.samples import SampleProduct, fixtures_dir, generate, real_products
from tests.fixtures.postgres import PostgresServer

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]


def _package(tmp: Path, name: str) -> tuple[Path, list[SampleProduct]]:
    """Synthetic scenes plus the real Sen1Floods11 chip, laid out in one package folder."""
    package_dir = tmp / name
    products = generate(package_dir)
    for real in real_products(fixtures_dir(ROOT))[:1]:
        target = package_dir / "sentinel-1" / "GRD" / "2019-09-17" / real.record.identifier
        target.mkdir(parents=True)
        real.files = {k: Path(shutil.copy2(p, target / p.name)) for k, p in real.files.items()}
        products.append(real)
    return package_dir, products


async def _index_all(
    index: DatacubeIndex, package_dir: Path, products: list[SampleProduct], mount_root: str
) -> list[str]:
    ids = []
    for item in products:
        await index.ensure_product(item.collection)
        ds = await index.index_record(
            item.collection, item.record, item.files,
            package=package_dir.name, package_dir=package_dir, mount_root=mount_root,
        )  # fmt: skip
        ids.append(str(ds))
    return ids


async def test_index_and_load_on_host(odc_db_url: str, tmp_path: Path) -> None:
    import datacube

    package_dir, products = _package(tmp_path, "host_pkg")
    index = DatacubeIndex(odc_db_url)
    # Host paths: the mount root is the folder holding the package, so files resolve here.
    ids = await _index_all(index, package_dir, products, str(tmp_path))
    assert "synthetic_s1_grd" in await index.products()
    # Idempotent: indexing again adds nothing new.
    assert await _index_all(index, package_dir, products, str(tmp_path)) == ids
    assert sorted(map(str, await index.datasets_of_package("host_pkg", str(tmp_path)))) == sorted(
        ids
    )

    dc = datacube.Datacube(index=index._connect())
    after = products[1]
    x0, y0 = 700_000 + 20 * 40, 8_172_000 - 20 * 40
    data = dc.load(
        product="synthetic_s1_grd",
        x=(x0, x0 + 20 * 100), y=(y0 - 20 * 100, y0), crs="EPSG:32736",
        time=("2019-03-10", "2019-03-20"), output_crs="EPSG:32736", resolution=20,
        measurements=["vv", "water_truth"],
    )  # fmt: skip
    assert data.sizes["time"] == 1 and data.vv.shape == (1, 100, 100)
    with rasterio.open(after.files["vv"]) as src:
        expected = src.read(1)[40:140, 40:140]
    np.testing.assert_array_equal(data.vv.values[0], expected)
    assert int(data.water_truth.sum()) > 0

    # The real multi-band chip loads band 2 as vh_db, equal to the file's pixels.
    real = dc.load(product="sen1floods11_s1", measurements=["vh_db"], output_crs="EPSG:4326",
                   resolution=8.983152841195215e-05)  # fmt: skip
    with rasterio.open(products[-1].files["s1"]) as src:
        np.testing.assert_allclose(real.vh_db.values[0], src.read(2), equal_nan=True)

    removed = await index.remove_datasets([*map(__import__("uuid").UUID, ids)])
    assert removed == len(ids)
    assert await index.datasets_of_package("host_pkg", str(tmp_path)) == []
    await index.close()


async def test_readonly_role_reads_but_cannot_write(
    odc_db_url: str, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    index = DatacubeIndex(odc_db_url)
    package_dir, products = _package(tmp_path, "ro_pkg")
    await _index_all(index, package_dir, products[:1], str(tmp_path))
    password = SecretStr("r3ad-only pass/with:odd@chars")
    await index.ensure_readonly_role("everest_reader", password)
    await index.ensure_readonly_role("everest_reader", password)  # idempotent
    url = index.reader_url("everest_reader", password)
    assert "everest_reader" in url.get_secret_value()
    assert "odd" not in str(url) and "odd" not in repr(url)

    reader = DatacubeIndex(url)
    assert "synthetic_s1_grd" in await reader.products()
    with pytest.raises(Exception, match="permission denied"):
        await reader.ensure_product(
            products[1].collection.model_copy(update={"identifier": "new-product"})
        )
    with pytest.raises(Exception, match="permission denied"):
        await reader.remove_datasets(await index.datasets_of_package("ro_pkg", str(tmp_path)))
    # A wrong password is refused, and the error does not carry it.
    wrong = DatacubeIndex(index.reader_url("everest_reader", SecretStr("not-it-at-all")))
    with pytest.raises(BackendUnavailable) as caught:
        await wrong.products()
    assert "not-it-at-all" not in str(caught.value) + str(caught.value.__cause__)
    assert (
        postgres_server.psql("SELECT rolsuper FROM pg_roles WHERE rolname = 'everest_reader'")
        == "f"
    )
    # Later tests of the session load these products: leave no dataset pointing at tmp_path.
    await index.remove_datasets(await index.datasets_of_package("ro_pkg", str(tmp_path)))
    for i in (index, reader, wrong):
        await i.close()
