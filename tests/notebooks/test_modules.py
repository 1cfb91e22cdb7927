"""Every module executed end to end in the notebook image against its built package.

Rendered notebooks are kept in ``var/artifacts/notebooks/`` (CI artifacts). Each test asserts on
the results the notebook reports, against the generated truth or the real data's known figures.
"""

from __future__ import annotations

from typing import Any

import pytest

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
