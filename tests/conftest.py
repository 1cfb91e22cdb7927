"""Shared fixtures: settings on a temporary data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from everest_elearn.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


# Fixture plugins that start real services (one module each, owned by the feature that needs it).
pytest_plugins: list[str] = [
    "tests.fixtures.osmem",
    "tests.fixtures.moto",
    "tests.fixtures.provider",
    "tests.fixtures.postgres",
    "tests.fixtures.images",
    "tests.fixtures.oidc",
    "tests.fixtures.hub",
    "tests.fixtures.browser",
]
