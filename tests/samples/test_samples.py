"""The sample generator: deterministic, synthetic and labelled so, with truths that hold."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import rasterio
from typer.testing import CliRunner

from everest_elearn.cli import app
from everest_elearn.samples import SampleProduct, fixtures_dir, generate, real_products

ROOT = Path(__file__).resolve().parents[2]


def _digests(products: list[SampleProduct]) -> dict[str, str]:
    return {
        f"{p.record.identifier}/{k}": hashlib.sha256(f.read_bytes()).hexdigest()
        for p in products
        for k, f in p.files.items()
    }


def test_generate_is_deterministic_and_labelled(tmp_path: Path) -> None:
    first = generate(tmp_path / "a")
    second = generate(tmp_path / "b")
    assert _digests(first) == _digests(second)
    for p in first:
        assert p.record.extra["synthetic"] is True
        assert "SYNTHETIC" in (p.record.title or "")
        assert p.record.parent_identifier == p.collection.identifier
        for link in p.record.data_links:
            assert link.checksum and link.length
        for f in p.files.values():
            with rasterio.open(f) as src:
                assert src.tags()["SYNTHETIC"] == "true"
                assert src.shape == (256, 256) and src.crs is not None
                assert src.overviews(1)  # cloud optimised: internal overviews


def test_flood_appears_between_dates_with_known_extent(tmp_path: Path) -> None:
    before, after = generate(tmp_path)[:2]
    with rasterio.open(before.files["vv_db"]) as b, rasterio.open(after.files["vv_db"]) as a:
        vv_before, vv_after = b.read(1), a.read(1)
    with (
        rasterio.open(before.files["water_truth"]) as b,
        rasterio.open(after.files["water_truth"]) as a,
    ):
        water_before, water_after = b.read(1) == 1, a.read(1) == 1
    flood = water_after & ~water_before
    assert int(flood.sum()) == after.truth["flood_pixels"] > 0
    assert after.truth["flood_area_km2"] == round(flood.sum() * 0.0004, 4)
    # Water is dark in C-band; a threshold between the classes recovers the flood well.
    detected = (vv_after < -16) & ~(vv_before < -16)
    iou = (detected & flood).sum() / (detected | flood).sum()
    assert iou > 0.7
    with rasterio.open(after.files["vv"]) as lin:
        linear = lin.read(1)
    np.testing.assert_allclose(10 * np.log10(linear), vv_after, atol=1e-4)
    # Speckle: land pixels vary like gamma with ENL about 4.4 (std/mean = 1/sqrt(ENL)).
    land = linear[~water_after]
    assert 0.4 < land.std() / land.mean() < 0.75


def test_s2_clouds_and_ocean_bloom(tmp_path: Path) -> None:
    products = generate(tmp_path)
    s2, ocean = products[2], products[4]
    with rasterio.open(s2.files["cloud_mask"]) as m, rasterio.open(s2.files["scl"]) as scl:
        cloud, classes = m.read(1) == 1, scl.read(1)
    assert abs(100 * cloud.mean() - s2.record.properties["cloudCover"]) < 0.01
    assert set(np.unique(classes[cloud])) <= {8, 9}
    with rasterio.open(s2.files["B08"]) as nir, rasterio.open(s2.files["B04"]) as red:
        ndvi = (nir.read(1).astype(float) - red.read(1)) / (nir.read(1).astype(float) + red.read(1))
    assert ndvi[classes == 4].mean() > 0.6 > ndvi[classes == 6].mean()
    with rasterio.open(ocean.files["bloom_truth"]) as b, rasterio.open(ocean.files["Oa06"]) as g:
        bloom, green = b.read(1) == 1, g.read(1)
    assert int(bloom.sum()) == ocean.truth["bloom_pixels"] > 0
    assert green[bloom].mean() > green[~bloom & (green < 40)].mean() + 3  # blooms are greener


def test_real_fixture_records() -> None:
    products = real_products(fixtures_dir(ROOT))
    s1 = products[0]
    assert s1.record.extra["synthetic"] is False
    assert s1.record.start is not None and s1.record.start.date().isoformat() == "2019-09-17"
    west, south, east, north = s1.record.bbox or (0, 0, 0, 0)
    assert -0.79 < west < east < -0.73 and 38.08 < south < north < 38.13


def test_cli_generate(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["samples", "generate", str(tmp_path), "--base-url", "http://127.0.0.1:9/s"]
    )
    assert result.exit_code == 0, result.output
    catalogue = json.loads((tmp_path / "catalogue.json").read_text())
    assert len(catalogue["products"]) == 5 and len(catalogue["collections"]) == 3
    href = catalogue["products"][0]["links"][0]["href"]
    assert href.startswith("http://127.0.0.1:9/s/sentinel-1/GRD/2019-03-02/")
