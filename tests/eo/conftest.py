"""Paths of the real fixtures (``../shared/fixtures`` beside the checkout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from everest_elearn.samples import fixtures_dir

ROOT = Path(__file__).resolve().parents[2]
SAFE_NAME = "S1A_IW_GRDH_1SDV_20150222T170725_20150222T170750_004739_005DD8_CEAB"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    path = fixtures_dir(ROOT)
    assert path.is_dir(), f"the real fixtures are missing: {path}"
    return path


@pytest.fixture(scope="session")
def safe_zip(fixtures: Path) -> Path:
    return fixtures / "safe" / f"{SAFE_NAME}.zip"
