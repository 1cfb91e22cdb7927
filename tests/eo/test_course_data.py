"""The course data: every product the modules' package specs name exists, with its truth."""

from __future__ import annotations

from pathlib import Path

import yaml

from everest_elearn.eo.course_data import BEST_REFERENCE, course_products, nsanje_stack
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
