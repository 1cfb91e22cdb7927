"""The course data: every product the modules' package specs name exists, with its truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml

from everest_elearn.catalogue.model import Record
from everest_elearn.eo.course_data import BEST_REFERENCE, course_products, nsanje_stack, s2_fields
from everest_elearn.eo.generated import SHADOW
from everest_elearn.eo.safe import Safe

ROOT = Path(__file__).resolve().parents[2]


def test_every_product_of_every_module_spec_is_generated_or_real(
    tmp_path: Path, fixtures: Path
) -> None:
    products = {p.record.identifier: p for p in course_products(tmp_path, None, fixtures)}
    wanted = set()
    for spec in (ROOT / "notebooks").glob("*/package.yaml"):
        if spec.parent.name.startswith("_"):
            continue
        for content in yaml.safe_load(spec.read_text())["contents"]:
            wanted.update(content["products"])
    assert wanted <= set(products), sorted(wanted - set(products))
    flood = products["S1A_IW_GRDH_1SDV_20150115T034000_SYNTH_NSANJE"]
    assert flood.truth["best_reference"] == BEST_REFERENCE
    assert flood.truth["flood_area_km2"] == flood.truth["flood_pixels"] * 0.0004
    for product in products.values():
        synthetic = product.record.extra.get("synthetic")
        assert isinstance(synthetic, bool)  # every record says whether it is real or generated
        for path in product.files.values():
            assert path.is_file() and path.resolve().is_relative_to(tmp_path.resolve())


def test_generation_is_deterministic(tmp_path: Path, safe_zip: Path) -> None:
    lut = Safe(safe_zip).calibration("VV")
    first = {
        p.record.identifier: p.record.links[0].checksum
        for p in nsanje_stack(tmp_path / "a", None, lut)
    }
    again = {
        p.record.identifier: p.record.links[0].checksum
        for p in nsanje_stack(tmp_path / "b", None, lut)
    }
    assert first == again and len(first) == 9


def _centre_lon(record: Record) -> float:
    ring = record.geometry["coordinates"][0] if record.geometry else []
    return float(np.mean([lon for lon, _ in ring]))


def test_orbit_direction_agrees_with_the_local_time_of_the_pass(
    tmp_path: Path, fixtures: Path
) -> None:
    # Sentinel-1 is sun-synchronous, ascending node at 18:00 local time: it crosses the tropics and
    # mid-latitudes flying north in the evening (about 17-19 h) and south in the morning (5-7 h).
    checked = 0
    for p in course_products(tmp_path, None, fixtures):
        direction = p.record.properties.get("orbitDirection")
        if p.record.properties.get("platform") != "Sentinel-1" or direction is None:
            continue
        assert p.record.start is not None
        local = (p.record.start.hour + p.record.start.minute / 60 + _centre_lon(p.record) / 15) % 24
        expected = (16.0, 20.0) if direction == "ASCENDING" else (4.0, 8.0)
        assert expected[0] <= local <= expected[1], (p.record.identifier, direction, local)
        checked += 1
    assert checked >= 12


def test_radar_shadow_lies_on_the_slope_facing_away_from_the_radar(
    tmp_path: Path, safe_zip: Path
) -> None:
    lut = Safe(safe_zip).calibration("VV")
    flood = nsanje_stack(tmp_path, None, lut)[-1]
    with rasterio.open(flood.files["landcover"]) as src:
        cover = src.read(1)
    with rasterio.open(flood.files["incidence"]) as src:
        incidence = src.read(1)
    # Right-looking: the radar sits on the side of the smaller incidence (near range).
    looks_west = incidence[:, 0].mean() > incidence[:, -1].mean()
    assert looks_west == (flood.record.properties["orbitDirection"] == "DESCENDING")
    rows, cols = np.nonzero(cover == SHADOW)
    hill_col = 20  # the hill's crest in _nsanje_layout
    assert rows.size > 100
    # Looking west, the slope facing away from the radar is the hill's west side, and vice versa.
    assert (cols.mean() < hill_col) == looks_west


def test_s2_l2a_digital_numbers_carry_the_baseline_04_offset(
    tmp_path: Path,
) -> None:
    # Processing baseline 04.00 (N0400, from 25 January 2022): reflectance = (DN - 1000) / 10000.
    may = s2_fields(tmp_path, None)[2]
    assert "_N0400_" in may.record.identifier
    assert may.record.properties["boaAddOffset"] == -1000
    assert may.record.properties["boaQuantificationValue"] == 10000
    with rasterio.open(may.files["B04"]) as src:
        red = src.read(1).astype(np.float64)
    with rasterio.open(may.files["B08"]) as src:
        nir = src.read(1).astype(np.float64)
    with rasterio.open(may.files["field_id"]) as src:
        field = src.read(1)
    with rasterio.open(may.files["cloud_mask"]) as src:
        clear = src.read(1) == 0
    crops = may.truth["crop_of_field"]
    wheat = np.isin(field, [int(f) for f, c in crops.items() if c == "wheat"]) & clear
    rho_red, rho_nir = (red[wheat] - 1000) / 10000, (nir[wheat] - 1000) / 10000
    ndvi = float(np.mean((rho_nir - rho_red) / (rho_nir + rho_red)))
    assert ndvi == pytest.approx(may.truth["ndvi_by_crop"]["wheat"], abs=0.02)
