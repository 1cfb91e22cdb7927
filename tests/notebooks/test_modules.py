"""Every module executed end to end in the notebook image against its built package.

Rendered notebooks are kept in ``var/artifacts/notebooks/`` (CI artifacts). Each test asserts on
the results the notebook reports, against the generated truth or the real data's known figures.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from everest_elearn.catalogue.opensearch.params import parse_request
from everest_elearn.catalogue.registry import Level
from everest_elearn.modules.validate import Validation, load_module, validate
from tests.notebooks.conftest import ADMIN, ARTIFACTS, ROOT, Course

pytestmark = [pytest.mark.notebooks, pytest.mark.docker, pytest.mark.services,
              pytest.mark.asyncio(loop_scope="module")]  # fmt: skip
NOTEBOOKS = ROOT / "notebooks"


async def run(course: Course, module: str) -> Validation:
    loaded = load_module(NOTEBOOKS / module)
    outcome = await validate(loaded, course.service, ADMIN, course.runtime, ARTIFACTS)
    assert outcome.ok, "\n".join(
        f"cell {f.cell}: {f.error}: {f.message} [{f.source}]" for f in outcome.failures
    )
    assert outcome.executed is not None and outcome.executed.is_file()
    return outcome


def truth(course: Course, identifier: str) -> dict[str, Any]:
    return course.products[identifier].truth


async def test_s1_change_detection(course: Course) -> None:
    out = await run(course, "s1-change-detection")
    expected = truth(course, "S1A_IW_GRDH_1SDV_20150115T034000_SYNTH_NSANJE")
    assert out.package_state == "built"
    # The flood area within 5 % of the generated truth (2.464 km2), IoU above 0.9.
    assert out.results["flood_area_km2"] == pytest.approx(expected["flood_area_km2"], rel=0.05)
    assert out.results["iou"] > 0.9


async def test_s1_product_information(course: Course) -> None:
    out = await run(course, "s1-product-information")
    assert out.results["relative_orbit"] == 117 and out.results["pass"] == "ASCENDING"
    assert (out.results["lines"], out.results["samples"]) == (16685, 25357)
    assert out.results["wavelength_cm"] == pytest.approx(5.547, abs=0.001)
    assert out.results["noise_max"] == 0  # IPF 002.36: the real noise vectors are all zero


async def test_s1_product_subset(course: Course) -> None:
    out = await run(course, "s1-product-subset")
    lines, pixels = out.results["radar_window"]
    assert 2000 < lines < 3500 and 2000 < pixels < 3000  # 0.2 x 0.3 degrees at 10 m spacing
    assert out.results["scene"] == [217, 268]


async def test_s2_vegetation_indices(course: Course) -> None:
    out = await run(course, "s2-vegetation-indices")
    truth_crops = truth(course, "S2B_MSIL2A_20220315T103000_N0400_R108_T31TFJ_SYNTH_FIELDS")[
        "crop_of_field"
    ]
    assert out.results["classified"] == {k: v for k, v in truth_crops.items()}
    may = truth(course, "S2B_MSIL2A_20220524T103000_N0400_R108_T31TFJ_SYNTH_FIELDS")[
        "ndvi_by_crop"
    ]["wheat"]
    assert out.results["may_wheat_ndvi"] == pytest.approx(may, abs=0.03)


async def test_s1_flood_mapping_malawi(course: Course) -> None:
    out = await run(course, "s1-flood-mapping-malawi")
    assert out.results["false_alarms"]["radar shadow"] > 100
    assert out.results["false_alarms"]["smooth surface"] > 50
    real = out.results["sen1floods11"]
    assert real["vh_db"]["threshold_db"] == pytest.approx(-21.82, abs=0.05)
    assert real["vh_db"]["iou"] == pytest.approx(0.57, abs=0.02)
    assert real["vh_db"]["f1"] == pytest.approx(2 * 0.57 / 1.57, abs=0.02)


async def test_s1_preprocessing_etna(course: Course) -> None:
    out = await run(course, "s1-preprocessing-etna")
    flanks = out.results["flanks_db"]["gamma0 (terrain)"]
    assert flanks["west flank"] == pytest.approx(-12.0, abs=1.0)
    assert flanks["east flank"] == pytest.approx(-12.0, abs=1.0)


async def test_meris_algal_bloom(course: Course) -> None:
    out = await run(course, "meris-algal-bloom")
    # Water and land from the product's own L1b flags (LAND_OCEAN), counted on the raw file.
    assert (out.results["water_pixels"], out.results["land_pixels"]) == (13793, 26871)
    # Medians of the real pixels with the header's band centres (measured with tests/eo's code):
    # fluorescence over water, the red edge of vegetation lifting the FLH baseline over land.
    assert out.results["flh_water_median"] == pytest.approx(0.196, abs=0.005)
    assert out.results["mci_water_median"] == pytest.approx(-0.448, abs=0.005)
    assert out.results["flh_land_median"] == pytest.approx(-2.505, abs=0.01)


async def test_s3_algal_bloom(course: Course) -> None:
    out = await run(course, "s3-algal-bloom")
    expected = truth(course, "S3A_OL_1_EFR____20230720T093000_SYNTH_BALTIC")["bloom_area_km2"]
    # The detected bloom within 10 % of the generated truth's area.
    assert out.results["bloom_area_km2"] == pytest.approx(expected, rel=0.10)
    assert out.results["iou"] > 0.8
    assert out.results["flh_inside"] < out.results["flh_outside"]


async def test_a_failing_cell_is_reported_by_number(course: Course, tmp_path: Path) -> None:
    folder = tmp_path / "s3-algal-bloom"
    shutil.copytree(NOTEBOOKS / "s3-algal-bloom", folder)
    path = folder / "s3-algal-bloom.ipynb"
    nb = nbformat.read(path, as_version=4)
    number = next(i for i, c in enumerate(nb.cells, 1) if "threshold.otsu(mci)" in c.source)
    nb.cells[number - 1].source = (
        "raise RuntimeError('broken on purpose')\n" + nb.cells[number - 1].source
    )
    nbformat.write(nb, path)
    outcome = await validate(
        load_module(folder), course.service, ADMIN, course.runtime, tmp_path / "out"
    )
    assert outcome.package_state == "found"  # built by test_s3_algal_bloom, ready in the registry
    assert not outcome.ok
    first = outcome.failures[0]
    assert (first.cell, first.error, first.message) == (number, "RuntimeError", "broken on purpose")
    assert all(
        f.cell > number for f in outcome.failures[1:]
    )  # later cells fail on what it did not define


async def test_s1_backscatter_profile(course: Course) -> None:
    out = await run(course, "s1-backscatter-profile")
    expected = truth(course, "S1A_IW_GRDH_1SDV_20150115T034000_SYNTH_NSANJE")["best_reference"]
    assert out.results["reference"] == expected
    query = out.results["query"]
    assert (query["orbitDirection"], query["track"], query["sensorMode"]) == (
        "DESCENDING",
        "6",
        "IW",
    )
    # The correlated search, sent to the catalogue the package was built from: the seven earlier
    # acquisitions of descending track 6 over the scene, not the ascending one of 4 November.
    request = parse_request({k: [v] for k, v in query.items()}, level=Level.PRODUCT,
                            default_count=50, max_count=50)  # fmt: skip
    found = await course.service.catalogue.search(request.query, ADMIN)
    days = sorted(r.identifier[17:25] for r in found.records)
    assert days == ["20141011", "20141023", "20141116", "20141128", "20141210", "20141222", "20150103"]  # fmt: skip
